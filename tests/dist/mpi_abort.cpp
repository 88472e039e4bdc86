// A program for tests/dist/mpi_abort.py: ranks that fail in the ways a run
// fails, through dist::MpiGroup::abort as the examples' run_ranks does.
//   mpirun -np N mpi_abort every        every rank meets the same error after a gather
//   mpirun -np N mpi_abort one R        rank R fails; the others wait in the next gather
//   mpirun -np N mpi_abort after-end R  rank R fails after the others have ended well
//   mpirun -np N mpi_abort busy R       rank R fails while rank 0 computes for 60 s; rank R
//                                       waits 2 s for rank 0 (not the 10 s of the examples)
#include <dagrad/dist/mpi_group.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace dagrad;

int main(int argc, char** argv) {
  if (argc < 2 || !dist::launched_by_mpirun()) {
    std::fprintf(stderr, "mpi_abort: run it under mpirun: mpi_abort every|one R|after-end R|busy R\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int failing = argc > 2 ? std::atoi(argv[2]) : -1;
  dist::MpiGroup group;
  const std::byte mine[3]{};
  group.all_gather(mine);
  const std::string error = "mpi_abort: " + mode + " error of rank " + std::to_string(group.rank()) + "\n";
  if (mode == "every") group.abort("mpi_abort: the error every rank meets\n", 3);
  if (mode != "one" && mode != "after-end" && mode != "busy") {
    std::fprintf(stderr, "mpi_abort: unknown mode '%s'\n", mode.c_str());
    return 2;
  }
  if (group.rank() == failing) {
    if (mode == "after-end") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (mode == "busy") group.abort(error, 3, std::chrono::seconds(2));
    group.abort(error, 3);
  }
  if (mode == "one") group.all_gather(mine);  // never completes: rank `failing` does not join
  if (mode == "busy" && group.rank() == 0) std::this_thread::sleep_for(std::chrono::seconds(60));
  return 0;  // after-end: the group's destructor waits for every rank
}
