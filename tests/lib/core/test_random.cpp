#include <doctest/doctest.h>

#include <dagrad/core/random.hpp>

#include <numeric>
#include <vector>

using namespace dagrad;

// Expected values printed by numpy 1.24: np.random.RandomState(1).
TEST_CASE("NumpyRandom draws what numpy's RandomState(1) draws") {
  NumpyRandom rng(1);
  CHECK(rng.random_sample() == 0.417022004702574);
  CHECK(rng.random_sample() == 0.7203244934421581);
  CHECK(rng.uniform(-0.5, 0.5) == doctest::Approx(-0.49988562518265511).epsilon(1e-15));
  // ... then rs.shuffle(np.arange(10)) gives [3 7 6 2 9 4 1 8 0 5].
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  rng.shuffle(std::span<int>(v));
  CHECK(v == std::vector<int>{3, 7, 6, 2, 9, 4, 1, 8, 0, 5});
}

TEST_CASE("interval stays within its bound") {
  NumpyRandom rng(7);
  for (std::uint64_t max : {0ULL, 1ULL, 5ULL, 1000ULL, 0x1ffffffffULL}) {
    for (int i = 0; i < 200; ++i) CHECK(rng.interval(max) <= max);
  }
}
