// Each thread's scratch arena (detail/scratch.hpp): a list of chunks, used
// as a stack. A take that does not fit the current chunk moves on to the
// next one (replacing it by a larger one if it is too small: every chunk
// past the current one is free). When the outermost frame ends and the
// arena spread over several chunks, they become one chunk as large as all
// of them, so a settled program uses one chunk per thread and allocates
// nothing more. release_scratch() gives the arenas back (each thread's when
// it has no frame open), so a program that ran a large batch once does not
// keep its scratch.
//
// Under AddressSanitizer the arena keeps what is not taken poisoned, and
// each take is followed by 64 poisoned bytes, so a kernel that writes past
// its scratch is caught as it would be past a matrix of its own.
#include <dagrad/core/detail/sanitizers.hpp>
#include <dagrad/core/detail/scratch.hpp>

#if defined(DAGRAD_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace dagrad::detail {
namespace {

constexpr std::size_t alignment = 64;
constexpr std::size_t first_chunk = std::size_t{1} << 20;
#if defined(DAGRAD_ASAN)
constexpr std::size_t redzone = 64;
void poison(std::byte* p, std::size_t n) { ASAN_POISON_MEMORY_REGION(p, n); }
void unpoison(std::byte* p, std::size_t n) { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
constexpr std::size_t redzone = 0;
void poison(std::byte*, std::size_t) {}
void unpoison(std::byte*, std::size_t) {}
#endif

struct Chunk {
  std::byte* data = nullptr;
  std::size_t size = 0;
};

Chunk allocate(std::size_t size) {
  void* p = std::aligned_alloc(alignment, size);  // size is a multiple of 64
  if (p == nullptr) throw std::bad_alloc();
  poison(static_cast<std::byte*>(p), size);
  return {static_cast<std::byte*>(p), size};
}

void release(const Chunk& c) {
  unpoison(c.data, c.size);
  std::free(c.data);
}

// Bumped by release_scratch(): an arena older than it gives its chunks back
// when it next opens a frame with none open.
std::atomic<std::uint64_t> release_epoch{0};

struct Arena {
  std::vector<Chunk> chunks;
  std::size_t chunk = 0, used = 0;  // the chunk being taken from, and its bytes taken
  std::uint64_t epoch = 0;          // the release_epoch it last gave its chunks back at

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (const Chunk& c : chunks) release(c);
  }

  void* take(std::size_t asked) {
    const std::size_t bytes = (asked + alignment - 1) / alignment * alignment + redzone;
    if (!chunks.empty() && chunks[chunk].size - used >= bytes) {
      std::byte* p = chunks[chunk].data + used;
      used += bytes;
      unpoison(p, asked);
      return p;
    }
    const std::size_t next = chunks.empty() ? 0 : chunk + 1;
    if (next == chunks.size() || chunks[next].size < bytes) {
      const std::size_t last = chunks.empty() ? first_chunk / 2 : chunks.back().size;
      const Chunk fresh = allocate(std::max(bytes, 2 * last));
      if (next == chunks.size()) {
        chunks.push_back(fresh);
      } else {
        release(chunks[next]);
        chunks[next] = fresh;
      }
    }
    chunk = next;
    used = bytes;
    unpoison(chunks[chunk].data, asked);
    return chunks[chunk].data;
  }

  // Back to where a frame opened: what was taken since is poisoned again.
  void restore(std::size_t to_chunk, std::size_t to_used) {
#if defined(DAGRAD_ASAN)
    if (!chunks.empty()) {
      for (std::size_t c = to_chunk; c <= chunk && c < chunks.size(); ++c) {
        const std::size_t from = c == to_chunk ? to_used : 0;
        poison(chunks[c].data + from, chunks[c].size - from);
      }
    }
#endif
    chunk = to_chunk;
    used = to_used;
  }

  bool idle() const { return chunk == 0 && used == 0; }

  void release_all() {
    for (const Chunk& c : chunks) release(c);
    chunks.clear();
  }

  // The outermost frame ended: one chunk as large as all of them.
  void merge() {
    std::size_t total = 0;
    for (const Chunk& c : chunks) total += c.size;
    for (const Chunk& c : chunks) release(c);
    chunks.clear();
    chunks.push_back(allocate(total));
  }
};

thread_local Arena arena;

}  // namespace

Scratch::Scratch() noexcept : chunk_(arena.chunk), used_(arena.used) {
  if (arena.idle()) {
    const std::uint64_t now = release_epoch.load(std::memory_order_relaxed);
    if (arena.epoch != now) {
      arena.release_all();
      arena.epoch = now;
    }
  }
}

Scratch::~Scratch() {
  arena.restore(chunk_, used_);
  if (chunk_ == 0 && used_ == 0 && arena.chunks.size() > 1) {
    try {
      arena.merge();
    } catch (const std::bad_alloc&) {
      // The chunks are freed and the arena empty: the next take starts afresh.
    }
  }
}

void* Scratch::take_bytes(std::size_t bytes) { return arena.take(bytes); }

std::size_t scratch_bytes() {
  std::size_t total = 0;
  for (const Chunk& c : arena.chunks) total += c.size;
  return total;
}

void release_scratch() {
  const std::uint64_t now = release_epoch.fetch_add(1, std::memory_order_relaxed) + 1;
  if (arena.idle()) {
    arena.release_all();
    arena.epoch = now;
  }
}

}  // namespace dagrad::detail
