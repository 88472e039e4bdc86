// The timing loop the kernel benchmarks share: the best time of one
// ex.compute(feeds, fetches), in seconds, over `rounds` rounds of `repeats`
// runs each (the best, as the machine is shared): wall-clock time, or with
// DAGRAD_BENCH_CPU set the process's CPU time (steadier on a loaded machine
// at one thread; meaningless at two).
//   const double forward = bench::best_seconds(ex, feeds, {y});
#pragma once

#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace bench {

template <class T>
double best_seconds(dagrad::Executor<T>& ex, const std::vector<dagrad::Feed<T>>& feeds,
                    const std::vector<dagrad::Node>& fetches, int rounds = 7, int repeats = 50) {
  static const bool cpu = std::getenv("DAGRAD_BENCH_CPU") != nullptr;
  const auto now = [] {
    if (cpu) return double(std::clock()) / CLOCKS_PER_SEC;
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  double best = 1e30;
  for (int round = 0; round < rounds; ++round) {
    const double start = now();
    for (int i = 0; i < repeats; ++i) ex.compute(feeds, fetches);
    best = std::min(best, (now() - start) / repeats);
  }
  return best;
}

}  // namespace bench
