// Tutorial step 2 (docs/tutorial.md): unrolling a colour image into a vector.
#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  // tutorial:begin
  // A 2x3 RGB image: height 2, width 3, 3 channels.
  Image image = make_image(2, 3, 3);
  image.at(1, 2, 1) = 255;  // row 1, column 2, green

  Matrix<float> x = unroll(image);  // 1 x 18: (2*3 pixels) * (3 channels)
  std::cout << "unrolled: 1 x " << x.cols() << "\n";
  std::cout << "feature (1*3 + 2)*3 + 1 = 16 is " << x(0, 16) << "\n";  // 255 / 255 = 1

  Image back = roll(x, 2, 3, 3);  // numpy's x.reshape((2, 3, 3))
  std::cout << "rolled back unchanged: " << (back == image ? "yes" : "no") << "\n";
  // tutorial:end
}
