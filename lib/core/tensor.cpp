#include <dagrad/core/tensor.hpp>

namespace dagrad {

namespace {
std::string dim(Dim d) { return d == batch ? "?" : std::to_string(d); }
}  // namespace

std::string to_string(Shape s) { return dim(s.rows) + "x" + dim(s.cols); }

bool fits(Shape concrete, Shape declared) {
  return (declared.rows == batch || declared.rows == concrete.rows) &&
         (declared.cols == batch || declared.cols == concrete.cols);
}

}  // namespace dagrad
