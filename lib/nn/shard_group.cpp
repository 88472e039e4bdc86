#include <dagrad/core/error.hpp>
#include <dagrad/core/tensor.hpp>
#include <dagrad/nn/shard_group.hpp>

#include <Eigen/Core>

#include <string>

namespace dagrad::nn {

// Each element is one multiply and one add (fused or not, the same choice
// in the vector loop and its scalar tail), so where a slice starts changes
// no bit: a slice accumulated at any offset is that part of the whole.
template <class T>
void accumulate_shard(std::span<T> sum, std::span<const T> g, T weight, bool first) {
  if (sum.size() != g.size()) {
    throw Error("nn::accumulate_shard: a shard of " + std::to_string(g.size()) + " values added to a sum of " +
                std::to_string(sum.size()));
  }
  using Values = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<Values> to(sum.data(), Eigen::Index(sum.size()));
  const Eigen::Map<const Values> from(g.data(), Eigen::Index(g.size()));
  if (first) {
    to = weight * from;
  } else {
    to += weight * from;
  }
}

template void accumulate_shard<float>(std::span<float>, std::span<const float>, float, bool);
template void accumulate_shard<double>(std::span<double>, std::span<const double>, double, bool);

}  // namespace dagrad::nn
