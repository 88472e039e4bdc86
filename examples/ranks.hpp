// How lenet, the autoencoder and grid_search run alone or as the ranks of
// `mpirun -np N` (in a build with MPI): the same program either way.
//   int main(int argc, char** argv) {
//     return run_ranks("lenet", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
//   }
#pragma once

#include <dagrad/dagrad.hpp>
#include <dagrad/nn/shard_group.hpp>
#ifdef DAGRAD_MPI
#include <dagrad/dist/mpi_group.hpp>
#endif

#include <cstdio>
#include <functional>
#include <sstream>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace dagrad {

// Sends this process's standard output to /dev/null, keeping the original
// descriptor open: mpirun (Open MPI 4.1.4) reads a closed output of a rank
// as that rank's end, and when an abort follows it uses memory it has freed
// (it crashed so in the tests, whose MALLOC_PERTURB_ fills freed memory).
inline bool silence_stdout() {
  std::fflush(stdout);
  const int null = open("/dev/null", O_WRONLY);
  const bool done = null >= 0 && dup(STDOUT_FILENO) >= 0 && dup2(null, STDOUT_FILENO) >= 0;
  if (null >= 0) close(null);
  return done;
}

// Runs body(group) as run_program runs a program. Under mpirun, in a build
// with MPI, the group is the ranks: only rank 0 keeps its standard output,
// and an error on any rank is printed once and ends every rank (MPI_Abort),
// so that none waits for a rank that has stopped. Otherwise the group is null.
inline int run_ranks(std::string_view program, const std::function<int(nn::ShardGroup*)>& body,
                     std::string_view own_prefix = {}) {
#ifdef DAGRAD_MPI
  if (dist::launched_by_mpirun()) {
    dist::MpiGroup group;
    if (group.rank() != 0 && !silence_stdout()) {
      group.abort(std::string(program) + ": rank " + std::to_string(group.rank()) + " cannot silence its output\n", 1);
    }
    std::ostringstream err;
    const int code = run_program(program, [&] { return body(&group); }, err, own_prefix);
    if (code != 0) group.abort(err.str(), code);
    return 0;
  }
#endif
  return run_program(program, [&] { return body(nullptr); }, own_prefix);
}

}  // namespace dagrad
