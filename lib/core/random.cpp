#include <dagrad/core/random.hpp>

#include <cmath>
#include <numbers>

namespace dagrad {

double NumpyRandom::random_sample() {
  const std::uint64_t a = next_uint32() >> 5, b = next_uint32() >> 6;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

double NumpyRandom::box_muller_normal() {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - random_sample(), u2 = random_sample();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t NumpyRandom::interval(std::uint64_t max) {
  if (max == 0) return 0;
  std::uint64_t mask = max;
  for (int shift = 1; shift < 64; shift <<= 1) mask |= mask >> shift;
  if (max <= 0xffffffffULL) {
    std::uint64_t value;
    while ((value = (next_uint32() & mask)) > max) {
    }
    return value;
  }
  std::uint64_t value;
  do {
    value = ((static_cast<std::uint64_t>(next_uint32()) << 32) | next_uint32()) & mask;
  } while (value > max);
  return value;
}

}  // namespace dagrad
