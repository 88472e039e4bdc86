// Memory planned by liveness: where in one shared block of memory (the
// arena) each value a run computes lives, so that values whose lifetimes the
// graph orders share bytes. The executor plans once per fetch set and batch.
//   detail::Liveness live(preds);                       // op k reads ops preds[k]
//   detail::MemoryPlan p = detail::plan_memory(live, bytes, planned, in_place);
//   detail::check_memory_plan(live, p, in_place, names);  // throws on an unsafe plan
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dagrad::detail {

// Offsets in the arena are multiples of this (Matrix storage's alignment).
inline constexpr std::size_t arena_alignment = 64;

// The order the graph's own edges put on a run's ops, numbered 0..n-1 in a
// topological order: which ops are ancestors of which (as bitsets), and who
// reads each op's value. The parallel schedule runs an op only after all its
// ancestors have finished, and in no other order is anything guaranteed.
class Liveness {
 public:
  // preds[k]: the ops (all < k) whose values op k reads.
  explicit Liveness(const std::vector<std::vector<std::size_t>>& preds);

  std::size_t size() const { return readers_.size(); }
  // True when op a finishes before op b starts in every schedule: a is a
  // strict ancestor of b.
  bool before(std::size_t a, std::size_t b) const {
    return (ancestors_[b * words_ + a / 64] >> (a % 64)) & 1U;
  }
  // True when value a is read for the last time, in every schedule, before
  // value b is written: each reader of a (a itself, if none) is a strict
  // ancestor of b.
  bool ends_before(std::size_t a, std::size_t b) const;
  const std::vector<std::size_t>& readers(std::size_t a) const { return readers_[a]; }

 private:
  std::size_t words_ = 0;
  std::vector<std::uint64_t> ancestors_;  // row b: the ancestors of op b
  std::vector<std::vector<std::size_t>> readers_;
};

inline constexpr std::size_t not_planned = static_cast<std::size_t>(-1);

struct MemoryPlan {
  std::vector<std::size_t> offset;  // per op: its value's place in the arena, or not_planned
  std::vector<std::size_t> bytes;   // per op: its value's size, rounded up to arena_alignment
  // Per op: a later value of the run was written over its bytes, so after
  // the run its value is gone.
  std::vector<char> overwritten;
  // Per op: the op whose bytes it was written over in place (it reads that
  // value and is its last reader), or not_planned.
  std::vector<std::size_t> in_place_of;
  // Per op: the kept op (a value with its own buffer, as a fetched one has)
  // into whose buffer this value was computed, or not_planned. That op is
  // its last reader and is written over it in place, so the value needs no
  // bytes of the arena: a matmul summed into a fetched gradient, say.
  std::vector<std::size_t> into;
  std::size_t arena_bytes = 0;  // the arena's size: the planned values' peak
  std::size_t total_bytes = 0;  // the planned values' sizes summed: one buffer each
};

// Per op, the ops it reads whose bytes it may write its value over
// (Op::in_place_inputs, as op indices); empty lists where none.
using InPlace = std::span<const std::vector<std::size_t>>;

// True when op b may be written over the value of op a, which it reads: a
// is among in_place[b], and every other reader of a is a strict ancestor of
// b, so b is a's last reader in every schedule.
bool may_write_over(const Liveness& live, InPlace in_place, std::size_t a, std::size_t b);

// Places every op value with planned[k] set (bytes[k] its size) in the arena,
// in topological order. A value whose last reader is kept (kept[r] set: a
// buffer of its own that outlives the run) and may be written over it, at
// the same size, is computed into that reader's buffer and takes no arena
// bytes (MemoryPlan::into). Else a value goes over an input it may take
// (may_write_over, same size, that input planned); else first fit: it may
// take bytes only from values that end before it (Liveness::ends_before),
// so two values the schedule could hold at once never share a byte. An
// empty kept means none is.
MemoryPlan plan_memory(const Liveness& live, std::span<const std::size_t> bytes, std::span<const char> planned,
                       InPlace in_place, std::span<const char> kept = {});

// Throws Error naming both values' nodes (names[k] is op k's) if any two
// planned values share bytes without one ending before the other or being
// written over the other in place (may_write_over, at the same offset), or a
// value is misaligned or lies past the arena's end. Cheap next to a run, and
// run on every plan made. A value computed into a kept op's buffer must be
// one that op may be written over (may_write_over), and the only one
// computed there.
void check_memory_plan(const Liveness& live, const MemoryPlan& plan, InPlace in_place,
                       std::span<const std::string> names);

}  // namespace dagrad::detail
