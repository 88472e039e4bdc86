// log: y = ln x, elementwise (x > 0).  dy/dx = 1 / x
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>

namespace dagrad {
namespace {

class Log final : public OpBase<Log> {
 public:
  std::string_view key() const override { return "log"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array().log();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {div(ctx.grad(), ctx.input(0))};
  }
};

}  // namespace

Node log(Node x) { return x.graph().apply(std::make_shared<Log>(), {x}); }

}  // namespace dagrad
