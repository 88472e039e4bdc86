// shift: y = x + c for a constant c.  dy/dx = 1
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

#include <sstream>

namespace dagrad {
namespace {

class Shift final : public OpBase<Shift> {
 public:
  explicit Shift(double offset) : offset_(offset) {}
  std::string_view key() const override { return "shift"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array() + static_cast<T>(offset_);
  }

  std::vector<Node> backward(const GradContext& ctx) const override { return {ctx.grad()}; }

  std::string expression(std::span<const std::string> args) const override {
    std::ostringstream s;
    s << args[0] << (offset_ < 0 ? " - " : " + ") << (offset_ < 0 ? -offset_ : offset_);
    return s.str();
  }

  std::string label() const override {
    std::ostringstream s;
    s << "shift " << std::showpos << offset_;
    return s.str();
  }

 private:
  double offset_;
};

}  // namespace

Node shift(Node x, double offset) {
  return x.graph().apply(std::make_shared<Shift>(offset), {x});
}

}  // namespace dagrad
