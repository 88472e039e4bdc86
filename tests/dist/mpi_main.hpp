// The main() of the test programs mpirun starts (test_mpi_group,
// test_reduce_sum): the group of all ranks, in `world` while the tests run.
//   int main(int argc, char** argv) { return run_on_all_ranks(argc, argv, "test_reduce_sum", world); }
#pragma once

#include <doctest/doctest.h>

#include <dagrad/dist/mpi_group.hpp>

#include <cstdio>

// The program's test cases with world the group of all ranks; exit code 1
// and one line saying why when mpirun did not start the program or gave it
// fewer than 2 ranks.
inline int run_on_all_ranks(int argc, char** argv, const char* program, dagrad::dist::MpiGroup*& world) {
  if (!dagrad::dist::launched_by_mpirun()) {
    std::fprintf(stderr, "%s: run it under mpirun with 2 or more ranks\n", program);
    return 1;
  }
  dagrad::dist::MpiGroup group;
  if (group.size() < 2) {
    std::fprintf(stderr, "%s: %d rank; it needs 2 or more\n", program, group.size());
    return 1;
  }
  world = &group;
  doctest::Context context(argc, argv);
  return context.run();
}
