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
};

}  // namespace dagrad::nn
