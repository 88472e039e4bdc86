// The all-gather as dagrad's training loop uses it (dist::MpiGroup::all_gather,
// an MPI_Iallgather polled), timed at message sizes from 8 bytes to 32 MB: the
// latency and bandwidth of docs/scaling.md's cost model. Each size is gathered
// `repeats` times after a warm-up; the median call is reported, by rank 0.
//   mpirun -np 2 build/bench/bench_allgather [repeats]
#include <dagrad/dist/mpi_group.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  dagrad::dist::MpiGroup group;
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 50;
  if (group.rank() == 0) {
    std::printf("ranks %d; median of %d calls\n%12s %14s %16s\n", group.size(), repeats, "bytes/rank",
                "seconds/call", "GB/s per rank in");
  }
  for (std::size_t bytes = 8; bytes <= (std::size_t(32) << 20); bytes *= 4) {
    const std::vector<std::byte> mine(bytes, std::byte(group.rank()));
    std::vector<double> seconds;
    for (int i = 0; i < repeats + 3; ++i) {
      const auto start = Clock::now();
      const auto all = group.all_gather(mine);
      if (i >= 3) seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      if (all.size() != std::size_t(group.size())) return 1;
    }
    std::nth_element(seconds.begin(), seconds.begin() + std::ptrdiff_t(seconds.size() / 2), seconds.end());
    const double median = seconds[seconds.size() / 2];
    // Each rank receives (size - 1) * bytes from the others.
    const double in = double(group.size() - 1) * double(bytes) / median / 1e9;
    if (group.rank() == 0) std::printf("%12zu %14.3e %16.3f\n", bytes, median, in);
  }
  return 0;
}
