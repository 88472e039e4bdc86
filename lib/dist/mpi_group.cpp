#include <dagrad/dist.hpp>
#include <dagrad/error.hpp>

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

namespace dagrad::dist {

namespace {

// MPI's default error handler ends the job on a failed call; this covers a
// handler someone else installed that returns instead.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("dist: ") + call + " failed: " + std::string(text, std::size_t(length)));
}

}  // namespace

bool launched_by_mpirun() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE in each rank; PMIx launchers
  // (prterun, srun --mpi=pmix) set PMIX_RANK.
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

MpiGroup::MpiGroup() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw Error("dist::MpiGroup: MPI is already initialized (one MpiGroup a process)");
  // Only the thread that made the group calls MPI; the executor's TBB
  // threads never do.
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiGroup::~MpiGroup() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::vector<std::span<const std::byte>> MpiGroup::all_gather(std::span<const std::byte> mine) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t length = mine.size();
  std::vector<std::uint64_t> lengths(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&length, 1, MPI_UINT64_T, lengths.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
  std::uint64_t total = 0;
  bool equal = true;
  for (std::uint64_t l : lengths) {
    total += l;
    equal = equal && l == length;
  }
  if (total > std::uint64_t(INT_MAX)) {
    throw Error("dist: all_gather of " + std::to_string(total) + " bytes is more than MPI's int count (" +
                std::to_string(INT_MAX) + ") in one call");
  }
  if (buffer_.size() < total) buffer_.resize(total);
  std::byte* all = buffer_.data();
  if (equal) {
    check(MPI_Allgather(mine.data(), int(length), MPI_BYTE, all, int(length), MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgather");
  } else {
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    int offset = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      counts[r] = int(lengths[r]);
      offsets[r] = offset;
      offset += counts[r];
    }
    check(MPI_Allgatherv(mine.data(), int(length), MPI_BYTE, all, counts.data(), offsets.data(), MPI_BYTE,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
  }
  std::vector<std::span<const std::byte>> out;
  std::size_t at = 0;
  for (std::uint64_t l : lengths) {
    out.emplace_back(all + at, l);
    at += l;
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bytes_sent_ += length;
  ++gathers_;
  return out;
}

void MpiGroup::abort(const std::string& message, int code) {
  if (rank_ != 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::cout << std::flush;  // what rank 0 printed before the error
  std::fflush(stdout);
  std::cerr << (rank_ != 0 ? "rank " + std::to_string(rank_) + ": " : "") << message << std::flush;
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; should it, this rank still ends
}

}  // namespace dagrad::dist
