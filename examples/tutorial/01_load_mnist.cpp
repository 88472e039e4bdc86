// Tutorial step 1 (docs/tutorial.md): MNIST as 60,000 rows of 784 features.
#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  // tutorial:begin
  Mnist mnist = load_mnist(default_mnist_dir());  // the four IDX files scripts/setup.sh fetched
  const Images& x_train = mnist.train.images;
  std::cout << "(" << x_train.count << ", " << x_train.features() << ")\n";  // (60000, 784)

  // Image 2 unrolled: pixel (r, c) is feature r*28 + c of its row.
  const std::uint8_t* row = x_train.pixels.data() + 2 * x_train.features();
  std::cout << "label " << int(mnist.train.labels[2]) << "\n";
  for (std::size_t r = 0; r < 28; ++r) {
    for (std::size_t c = 0; c < 28; ++c) std::cout << (row[r * 28 + c] > 127 ? "##" : "  ");
    std::cout << "\n";
  }

  // x / 255.: rows scaled to [0, 1] as they are read, the images stay bytes.
  Matrix<float> x;
  scale_rows(x_train, 0, 3, x);
  std::cout << "three rows as floats: " << x.rows() << " x " << x.cols() << "\n";
  // tutorial:end
}
