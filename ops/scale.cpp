// scale: y = c * x for a constant c.  dy/dx = c
#include <dagrad/detail/elements.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

#include <sstream>

namespace dagrad {
namespace {

class Scale final : public OpBase<Scale> {
 public:
  explicit Scale(double factor) : factor_(factor) {}
  std::string_view key() const override { return "scale"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    detail::scaled(*in[0], static_cast<T>(factor_), out);
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {scale(ctx.grad(), factor_)};
  }

  std::string expression(std::span<const std::string> args) const override {
    std::ostringstream s;
    s << factor_ << " * " << args[0];
    return s.str();
  }

  std::string label() const override {
    std::ostringstream s;
    s << "scale ×" << factor_;
    return s.str();
  }

 private:
  double factor_;
};

}  // namespace

Node scale(Node x, double factor) {
  return x.graph().apply(std::make_shared<Scale>(factor), {x});
}

}  // namespace dagrad
