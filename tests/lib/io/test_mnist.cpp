// The real MNIST, as scripts/setup.sh fetches it into default_mnist_dir()
// (its SHA-256 list is scripts/mnist.sha256). The set-up script always runs
// before the tests, so missing data is a failure, not a skip.
#include <dagrad/io/idx.hpp>

#include <doctest/doctest.h>

#include <array>
#include <filesystem>
#include <numeric>
#include <string>

namespace {

bool has_file(const std::filesystem::path& dir, const std::string& name) {
  return std::filesystem::exists(dir / name) || std::filesystem::exists(dir / (name + ".gz"));
}

std::array<std::size_t, 10> histogram(const std::vector<std::uint8_t>& labels) {
  std::array<std::size_t, 10> h{};
  for (const std::uint8_t y : labels) ++h.at(y);
  return h;
}

}  // namespace

TEST_CASE("The real MNIST loads with its known counts, image size, classes and first labels") {
  const std::string dir = dagrad::default_mnist_dir();
  for (const std::string name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!has_file(dir, name)) {
      FAIL("MNIST file ", name, " is not in ", dir,
           ": run scripts/setup.sh (or scripts/setup.sh --data-only) to download it");
    }
  }

  const dagrad::Mnist m = dagrad::load_mnist(dir);
  CHECK(m.train.images.count == 60000);
  CHECK(m.test.images.count == 10000);
  for (const dagrad::Images* im : {&m.train.images, &m.test.images}) {
    CHECK(im->rows == 28);
    CHECK(im->cols == 28);
    CHECK(im->features() == 784);
    CHECK(im->pixels.size() == im->count * 784);
  }

  const auto train = histogram(m.train.labels);
  const auto test = histogram(m.test.labels);
  CHECK(std::accumulate(train.begin(), train.end(), std::size_t{0}) == 60000);
  CHECK(std::accumulate(test.begin(), test.end(), std::size_t{0}) == 10000);
  // The class counts everyone who has loaded MNIST has seen.
  CHECK(train == std::array<std::size_t, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                             5851, 5949});
  CHECK(test ==
        std::array<std::size_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});

  CHECK(m.train.labels.front() == 5);
  CHECK(m.test.labels.front() == 7);

  // The first training image (a 5): its pixels sum to 27525 and its corners are blank.
  const auto first = m.train.images.pixels.begin();
  CHECK(std::accumulate(first, first + 784, 0L) == 27525);
  CHECK(first[0] == 0);
  CHECK(first[783] == 0);

  dagrad::Matrix<float> x;
  dagrad::scale_rows(m.train.images, 0, 64, x);
  CHECK(x.rows() == 64);
  CHECK(x.cols() == 784);
  CHECK(x.minCoeff() == 0.0f);
  CHECK(x.maxCoeff() == 1.0f);
}
