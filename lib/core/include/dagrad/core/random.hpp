// The random stream scikit-learn draws from: numpy's legacy RandomState
// (MT19937 seeded the same way), so random_state=1 gives the same initial
// weights and the same shuffles as MLPClassifier(random_state=1); and a
// counter-based hash for draws addressed by index.
//   NumpyRandom rng(1); double u = rng.uniform(-0.1, 0.1);  std::uint64_t h = mix64(key + i);
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace dagrad {

// SplitMix64's finalizer: a bijection of 64-bit words whose output bits each
// depend on every input bit. Hashing a counter with it gives draws that are
// a function of (key, counter) alone, whatever order they are made in
// (dropout's masks, a sequence's random windows).
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint32_t seed) : mt_(seed) {}

  // numpy's random_sample(): 53 random bits from two 32-bit draws.
  double random_sample();
  double uniform(double low, double high) { return low + (high - low) * random_sample(); }
  // One standard normal draw from two random_sample()s (Box-Muller; not
  // numpy's own normal, which draws differently).
  double box_muller_normal();
  // numpy's legacy bounded integer in [0, max]: masked draws, rejecting those above max.
  std::uint64_t interval(std::uint64_t max);
  // numpy's legacy RandomState.shuffle (Fisher-Yates from the back).
  template <class T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i-- > 1;) {
      std::size_t j = static_cast<std::size_t>(interval(i));
      std::swap(items[i], items[j]);
    }
  }
  std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }

 private:
  std::mt19937 mt_;
};

}  // namespace dagrad
