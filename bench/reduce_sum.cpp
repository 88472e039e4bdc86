// The two ways a data-parallel step can combine its ranks' gradients, timed in
// one run, alternating call by call: the all-gather of whole shards
// (dist::MpiGroup::all_gather) followed by each rank copying each out and
// accumulating all N of them, as training did before reduce_sum, and
// reduce_sum (a reduce-scatter in rank order, then an all-gather of the
// summed slices). Rank 0 prints the median
// call of each, and the bytes each rank sends and receives per call.
//   mpirun -np 2 build/bench/bench_reduce_sum [values] [repeats]
// values: float32 values a rank (default 1,863,690, the 784-1024-1024-10 network's parameters).
#include <dagrad/dist/mpi_group.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using Clock = std::chrono::steady_clock;
using dagrad::dist::MpiGroup;

namespace {

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
  return v[v.size() / 2];
}

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Bytes sent and received by `call`, per call.
struct Traffic {
  double sent = 0, received = 0;
};

}  // namespace

int main(int argc, char** argv) {
  MpiGroup group;
  const auto n = std::size_t(argc > 1 ? std::atol(argv[1]) : 1863690);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 30;
  const std::vector<float> values(n, 0.25f * float(group.rank() + 1));
  const float weight = 1.0f / float(group.size());  // each rank's share of the batch
  std::vector<float> reduced(n), sum(n), shard(n);
  std::vector<double> gather_alone, gather_and_add, reduce;
  Traffic gather_bytes, reduce_bytes;
  for (int i = 0; i < repeats + 3; ++i) {
    // Before: every rank's whole shard in, each copied out and added in rank order.
    std::uint64_t sent = group.bytes_sent(), received = group.bytes_received();
    Clock::time_point start = Clock::now();
    const auto all = group.all_gather(std::as_bytes(std::span(values)));
    const double gathered = since(start);
    for (std::size_t r = 0; r < all.size(); ++r) {
      std::memcpy(shard.data(), all[r].data(), all[r].size());
      dagrad::nn::accumulate_shard<float>(sum, shard, weight, r == 0);
    }
    const double added = since(start);
    gather_bytes = {double(group.bytes_sent() - sent), double(group.bytes_received() - received)};
    // Now: reduce_sum, in place.
    std::copy(values.begin(), values.end(), reduced.begin());
    sent = group.bytes_sent();
    received = group.bytes_received();
    start = Clock::now();
    group.reduce_sum(std::span<float>(reduced), weight);
    const double reduced_in = since(start);
    reduce_bytes = {double(group.bytes_sent() - sent), double(group.bytes_received() - received)};
    if (std::memcmp(sum.data(), reduced.data(), n * sizeof(float)) != 0) {
      group.abort("bench_reduce_sum: reduce_sum and the gathered sum differ\n", 1);
    }
    if (i >= 3) {
      gather_alone.push_back(gathered);
      gather_and_add.push_back(added);
      reduce.push_back(reduced_in);
    }
  }
  if (group.rank() == 0) {
    std::printf("ranks %d, %zu float32 values a rank (%.2f MB), median of %d calls each, alternating\n",
                group.size(), n, double(n * sizeof(float)) / 1e6, repeats);
    std::printf("  all_gather alone:                   %8.3f ms, sent %11.0f B, received %11.0f B a rank\n",
                1e3 * median(gather_alone), gather_bytes.sent, gather_bytes.received);
    std::printf("  all_gather + accumulating N shards: %8.3f ms\n", 1e3 * median(gather_and_add));
    std::printf("  reduce_sum (its accumulating in):   %8.3f ms, sent %11.0f B, received %11.0f B a rank\n",
                1e3 * median(reduce), reduce_bytes.sent, reduce_bytes.received);
  }
  return 0;
}
