// transpose: y = xᵀ.  dx = (dy)ᵀ
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Transpose final : public OpBase<Transpose> {
 public:
  std::string_view key() const override { return "transpose"; }
  Shape infer(std::span<const Shape> in) const override { return {in[0].cols, in[0].rows}; }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out.noalias() = in[0]->transpose();
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    return {transpose(ctx.grad())};
  }

  std::string expression(std::span<const std::string> args) const override {
    return args[0] + "ᵀ";
  }
};

}  // namespace

Node transpose(Node x) { return x.graph().apply(std::make_shared<Transpose>(), {x}); }

OpEntry detail::registry_entry_transpose() {
  return {"transpose", Differentiable::twice, {unary_example(transpose)},
          rebuild_of(transpose),
          {.operators = "Transpose",
           .write = [](OnnxWriter& w) {
             w.node("Transpose", w.in(), w.out()).attr("perm", std::vector<std::int64_t>{1, 0});
           }}};
}

}  // namespace dagrad
