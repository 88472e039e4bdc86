// The random stream scikit-learn draws from: numpy's legacy RandomState
// (MT19937 seeded the same way), so random_state=1 gives the same initial
// weights and the same shuffles as MLPClassifier(random_state=1).
//   NumpyRandom rng(1); double u = rng.uniform(-0.1, 0.1);
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace dagrad {

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
