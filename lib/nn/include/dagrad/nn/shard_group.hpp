// The processes that train one model together, each computing one shard of
// every batch: what nn's training loop needs of them, and no more, so that nn
// knows nothing of the transport (dagrad::dist::MpiGroup is one, over MPI).
//   nn::Trainer<float> trainer(ex, adam, x, y, {.batch_size = 64, .group = &group});
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dagrad::nn {

class ShardGroup {
 public:
  virtual ~ShardGroup() = default;
  // This process's place in the group, 0 to size() - 1.
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every member's bytes, in rank order, this process's own among them: views
  // into the group's buffer, valid until its next all_gather (no copy per
  // rank). A collective call: each member calls it with its own bytes (of
  // any length, none included), in the same order of calls, and all get the
  // same result.
  virtual std::vector<std::span<const std::byte>> all_gather(std::span<const std::byte> mine) = 0;
  // The members' values weighted and summed element by element, in rank
  // order, into `values` on every member: with w_r, v_r rank r's weight and
  // values, accumulate_shard's sum = w_0 v_0, then sum += w_r v_r for r = 1
  // to N - 1, each step as accumulate_shard rounds it. So the bits are those
  // of one process adding the N shards itself. A member whose weight is 0
  // adds nothing (its values are not read), as an empty shard; if every
  // weight is 0 the sum is 0. A collective call: every member passes as
  // many values (a group throws Error naming the counts when they differ).
  virtual void reduce_sum(std::span<float> values, float weight) = 0;
  virtual void reduce_sum(std::span<double> values, double weight) = 0;
};

// sum = weight * g when `first`, else sum += weight * g, element by element:
// the one combination of shard values, for the shards of one process and
// the slices a group's reduce_sum sums, so that both round alike. (Where the
// compiler fuses the multiply-add, it fuses it for all of them.)
template <class T>
void accumulate_shard(std::span<T> sum, std::span<const T> g, T weight, bool first);

// The part of n values that rank r of N sums in a reduce_sum: [n r / N,
// n (r + 1) / N), so the slices differ by at most one value.
struct Slice {
  std::size_t begin, end;
};
inline Slice slice_of(std::size_t n, std::size_t r, std::size_t N) { return {n * r / N, n * (r + 1) / N}; }

extern template void accumulate_shard<float>(std::span<float>, std::span<const float>, float, bool);
extern template void accumulate_shard<double>(std::span<double>, std::span<const double>, double, bool);

}  // namespace dagrad::nn
