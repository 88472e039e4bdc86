// A thread's scratch frames: aligned, apart, given back in order, steady
// once settled, and safe when a waiting thread runs another task's frames.
#include <doctest/doctest.h>

#include <dagrad/core/detail/scratch.hpp>

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>
#include <thread>
#include <cstdint>
#include <vector>

using dagrad::Dim;
using dagrad::detail::Scratch;

namespace {

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

TEST_CASE("takes are 64-byte aligned and do not overlap") {
  Scratch scratch;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> spans;
  for (const Dim n : {1, 3, 64, 1000, 17, 300000, 5}) {
    const float* p = scratch.take<float>(n);
    CHECK(address(p) % 64 == 0);
    spans.emplace_back(address(p), address(p + n));
  }
  for (std::size_t i = 0; i < spans.size(); ++i) {
    for (std::size_t j = i + 1; j < spans.size(); ++j) {
      CHECK((spans[i].second <= spans[j].first || spans[j].second <= spans[i].first));
    }
  }
  auto m = scratch.matrix<double>(3, 5);
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 5);
  CHECK(address(m.data()) % 64 == 0);
}

TEST_CASE("a frame gives back what it took, and what it took before stays put") {
  Scratch outer;
  int* kept = outer.take<int>(100);
  for (int i = 0; i < 100; ++i) kept[i] = i;
  std::uintptr_t first = 0;
  {
    Scratch inner;
    first = address(inner.take<int>(10));
    // More than the first chunk (1 MiB): the arena moves on to another
    // chunk, and nothing taken before moves.
    std::int64_t* big = inner.take<std::int64_t>(1 << 19);
    big[0] = big[(1 << 19) - 1] = 7;
  }
  for (int i = 0; i < 100; ++i) REQUIRE(kept[i] == i);
  // The inner frame's bytes are taken again, from where it began.
  Scratch again;
  CHECK(address(again.take<int>(10)) == first);
}

TEST_CASE("once settled, the same takes get the same bytes") {
  auto run = [] {
    std::vector<std::uintptr_t> at;
    Scratch scratch;
    for (const Dim n : {1000, 400000, 70000, 2000000}) {
      Scratch block;
      at.push_back(address(block.take<float>(n)));
      at.push_back(address(block.take<float>(n / 2)));
    }
    at.push_back(address(scratch.take<double>(300000)));
    return at;
  };
  run();  // grows the arena (and, at its end, makes it one chunk)
  const std::vector<std::uintptr_t> settled = run();
  CHECK(run() == settled);
  CHECK(run() == settled);
}

TEST_CASE("a thread that runs other tasks while it waits keeps each frame's bytes its own") {
  // Each task fills its scratch with its own number, then waits in a
  // parallel_for of its own (during which its thread may run other tasks
  // and their frames), then checks its scratch is still all its number.
  // A per-thread buffer shared by the tasks would fail here.
  constexpr int tasks = 64;
  constexpr Dim values = 20000;
  std::atomic<int> intact{0};
  tbb::task_arena arena(2);
  arena.execute([&] {
    tbb::parallel_for(0, tasks, [&](int task) {
      Scratch scratch;
      int* mine = scratch.take<int>(values);
      for (Dim i = 0; i < values; ++i) mine[i] = task;
      tbb::parallel_for(0, 16, [&](int) {
        Scratch inner;
        int* theirs = inner.take<int>(values);
        for (Dim i = 0; i < values; ++i) theirs[i] = -1;
      });
      bool ok = true;
      for (Dim i = 0; i < values; ++i) ok = ok && mine[i] == task;
      if (ok) intact.fetch_add(1);
    });
  });
  CHECK(intact.load() == tasks);
}

TEST_CASE("release_scratch gives the arenas back: this thread's now, another's at its next outermost frame") {
  using dagrad::detail::release_scratch;
  using dagrad::detail::scratch_bytes;
  {
    Scratch big;
    big.take<float>(Dim{8} << 20);  // 32 MiB
  }
  CHECK(scratch_bytes() >= (std::size_t{32} << 20));
  {
    Scratch open;
    open.take<float>(16);
    release_scratch();  // a frame is open here: nothing is freed under it
    CHECK(scratch_bytes() >= (std::size_t{32} << 20));
  }
  // Freed at the next outermost frame, which then takes only what it asks.
  {
    Scratch small;
    small.take<float>(1000);
    CHECK(scratch_bytes() < (std::size_t{4} << 20));
  }
  {
    Scratch big;
    big.take<float>(Dim{8} << 20);
  }
  release_scratch();  // no frame open: at once
  CHECK(scratch_bytes() == 0);

  // Another thread's arena: freed when that thread next opens a frame with
  // none open, not under a frame it has open.
  std::atomic<int> stage{0};
  std::atomic<std::size_t> before{0}, after{0};
  std::thread worker([&] {
    {
      Scratch s;
      s.take<float>(Dim{4} << 20);  // 16 MiB
    }
    before = scratch_bytes();
    stage = 1;
    while (stage.load() != 2) std::this_thread::yield();
    {
      Scratch s;
      s.take<float>(10);
    }
    after = scratch_bytes();
  });
  while (stage.load() != 1) std::this_thread::yield();
  release_scratch();
  stage = 2;
  worker.join();
  CHECK(before.load() >= (std::size_t{16} << 20));
  CHECK(after.load() < (std::size_t{4} << 20));
}
