#include <dagrad/core/detail/memory_plan.hpp>
#include <dagrad/core/error.hpp>

#include <algorithm>
#include <utility>

namespace dagrad::detail {

Liveness::Liveness(const std::vector<std::vector<std::size_t>>& preds)
    : words_((preds.size() + 63) / 64), ancestors_(preds.size() * words_, 0), readers_(preds.size()) {
  for (std::size_t b = 0; b < preds.size(); ++b) {
    std::uint64_t* row = &ancestors_[b * words_];
    for (std::size_t a : preds[b]) {
      if (a >= b) throw Error("memory plan: op " + std::to_string(b) + " reads op " + std::to_string(a) +
                              ", which is not before it in the order given");
      // The ancestors of b: each op it reads, and their ancestors.
      const std::uint64_t* from = &ancestors_[a * words_];
      for (std::size_t w = 0; w < words_; ++w) row[w] |= from[w];
      row[a / 64] |= std::uint64_t{1} << (a % 64);
      if (readers_[a].empty() || readers_[a].back() != b) readers_[a].push_back(b);
    }
  }
}

bool Liveness::ends_before(std::size_t a, std::size_t b) const {
  if (readers_[a].empty()) return before(a, b);
  for (std::size_t r : readers_[a]) {
    if (!before(r, b)) return false;
  }
  return true;
}

bool may_write_over(const Liveness& live, InPlace in_place, std::size_t a, std::size_t b) {
  if (b >= in_place.size() || std::find(in_place[b].begin(), in_place[b].end(), a) == in_place[b].end()) {
    return false;
  }
  bool reads = false;
  for (std::size_t r : live.readers(a)) {
    if (r == b) {
      reads = true;
    } else if (!live.before(r, b)) {
      return false;
    }
  }
  return reads;
}

namespace {

std::size_t aligned(std::size_t bytes) {
  return (bytes + arena_alignment - 1) / arena_alignment * arena_alignment;
}

struct Block {
  std::size_t offset, end, value;
};

// The kept op whose buffer value a may be computed into: its last reader,
// kept, of its size, written over it in place and over no other value.
std::size_t kept_reader(const Liveness& live, std::span<const std::size_t> bytes, InPlace in_place,
                        std::span<const char> kept, const MemoryPlan& plan, std::size_t a) {
  if (kept.empty()) return not_planned;
  for (std::size_t r : live.readers(a)) {
    if (kept[r] && bytes[r] == bytes[a] && plan.in_place_of[r] == not_planned && may_write_over(live, in_place, a, r)) {
      return r;
    }
  }
  return not_planned;
}

}  // namespace

MemoryPlan plan_memory(const Liveness& live, std::span<const std::size_t> bytes, std::span<const char> planned,
                       InPlace in_place, std::span<const char> kept) {
  const std::size_t n = live.size();
  if (bytes.size() != n || planned.size() != n || in_place.size() != n || (!kept.empty() && kept.size() != n)) {
    throw Error("memory plan: " + std::to_string(n) + " ops but " + std::to_string(bytes.size()) + " sizes, " +
                std::to_string(planned.size()) + " flags, " + std::to_string(in_place.size()) +
                " in-place lists and " + std::to_string(kept.size()) + " kept flags");
  }
  MemoryPlan plan;
  plan.offset.assign(n, not_planned);
  plan.bytes.assign(n, 0);
  plan.overwritten.assign(n, 0);
  plan.in_place_of.assign(n, not_planned);
  plan.into.assign(n, not_planned);
  std::vector<Block> placed;    // every value placed so far
  std::vector<Block> occupied;  // those still alive when the current one is written
  for (std::size_t b = 0; b < n; ++b) {
    if (!planned[b] || bytes[b] == 0) continue;
    const std::size_t size = aligned(bytes[b]);
    // Into the buffer of the kept op that reads it last and writes over it.
    if (const std::size_t r = kept_reader(live, bytes, in_place, kept, plan, b); r != not_planned) {
      plan.into[b] = r;
      plan.in_place_of[r] = b;
      plan.overwritten[b] = 1;
      plan.bytes[b] = size;
      plan.total_bytes += size;
      continue;
    }
    // In place: over an input this op may take, of its size, whose bytes no
    // other value has taken (none can have: the input is alive until b).
    std::size_t over = not_planned;
    for (std::size_t a : in_place[b]) {
      if (a < b && plan.offset[a] != not_planned && bytes[a] == bytes[b] && may_write_over(live, in_place, a, b)) {
        over = a;
        break;
      }
    }
    if (over != not_planned) {
      placed.push_back({plan.offset[over], plan.offset[over] + size, b});
      plan.offset[b] = plan.offset[over];
      plan.bytes[b] = size;
      plan.overwritten[over] = 1;
      plan.in_place_of[b] = over;
      plan.total_bytes += size;
      continue;
    }
    occupied.clear();
    for (const Block& p : placed) {
      if (!live.ends_before(p.value, b)) occupied.push_back(p);
    }
    std::sort(occupied.begin(), occupied.end(), [](const Block& x, const Block& y) { return x.offset < y.offset; });
    // The lowest gap among the live values that fits.
    std::size_t at = 0;
    for (const Block& o : occupied) {
      if (o.offset >= at + size) break;
      at = std::max(at, o.end);
    }
    for (const Block& p : placed) {
      if (p.offset < at + size && at < p.end) plan.overwritten[p.value] = 1;
    }
    placed.push_back({at, at + size, b});
    plan.offset[b] = at;
    plan.bytes[b] = size;
    plan.arena_bytes = std::max(plan.arena_bytes, at + size);
    plan.total_bytes += size;
  }
  return plan;
}

void check_memory_plan(const Liveness& live, const MemoryPlan& plan, InPlace in_place,
                       std::span<const std::string> names) {
  const std::size_t n = live.size();
  if (plan.offset.size() != n || plan.bytes.size() != n || names.size() != n || in_place.size() != n) {
    throw Error("memory plan check: the plan and the ops differ in number");
  }
  std::vector<Block> blocks;
  std::vector<char> taken(n, 0);
  for (std::size_t k = 0; k < n; ++k) {
    if (const std::size_t r = plan.into.empty() ? not_planned : plan.into[k]; r != not_planned) {
      if (plan.offset[k] != not_planned || r >= n || taken[r] || !may_write_over(live, in_place, k, r)) {
        throw Error("memory plan check: '" + names[k] + "' is computed into the buffer of '" +
                    (r < n ? names[r] : std::string("?")) +
                    "', but that op may not be written over it (it is not the value's last reader, or another "
                    "value is computed there too), or the value also lies in the arena");
      }
      taken[r] = 1;
    }
    if (plan.offset[k] == not_planned) continue;
    if (plan.offset[k] % arena_alignment != 0 || plan.offset[k] + plan.bytes[k] > plan.arena_bytes) {
      throw Error("memory plan check: '" + names[k] + "' is placed at byte " + std::to_string(plan.offset[k]) +
                  " (" + std::to_string(plan.bytes[k]) + " bytes), outside the " +
                  std::to_string(plan.arena_bytes) + "-byte arena or off its " +
                  std::to_string(arena_alignment) + "-byte alignment");
    }
    blocks.push_back({plan.offset[k], plan.offset[k] + plan.bytes[k], k});
  }
  std::sort(blocks.begin(), blocks.end(), [](const Block& x, const Block& y) { return x.offset < y.offset; });
  // Each block against the later-starting blocks it overlaps.
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t j = i + 1; j < blocks.size() && blocks[j].offset < blocks[i].end; ++j) {
      const std::size_t a = std::min(blocks[i].value, blocks[j].value), b = std::max(blocks[i].value, blocks[j].value);
      const bool in_place_ok = plan.offset[a] == plan.offset[b] && may_write_over(live, in_place, a, b);
      if (!live.ends_before(a, b) && !live.ends_before(b, a) && !in_place_ok) {
        throw Error("memory plan check: '" + names[a] + "' and '" + names[b] +
                    "' share bytes but may be alive at once (neither is read for the last time before the "
                    "other is written)");
      }
    }
  }
}

}  // namespace dagrad::detail
