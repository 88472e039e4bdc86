// concat: y = [x_0 x_1 ... x_(n-1)], columns side by side.  dL/dx_i = the columns of dL/dy that x_i filled
// The inputs share one row count.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Concat final : public OpBase<Concat> {
 public:
  std::string_view key() const override { return "concat"; }

  Shape infer(std::span<const Shape> in) const override {
    Shape out{in[0].rows, 0};
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i].cols == batch) {
        throw ShapeError("input " + std::to_string(i) + " has an open column count; concat needs them known");
      }
      out.rows = same_shape({out.rows, 1}, {in[i].rows, 1}).rows;
      out.cols += in[i].cols;
    }
    return out;
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    Eigen::Index cols = 0;
    for (const ConstView<T>* x : in) cols += x->cols();
    Eigen::Index at = 0;
    for (const ConstView<T>* x : in) {
      out.middleCols(at, x->cols()) = *x;
      at += x->cols();
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(ctx.output().num_inputs());
    Dim at = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const Dim cols = ctx.input(i).shape().cols;
      if (ctx.needs(i)) g[i] = slice(ctx.grad(), at, cols);
      at += cols;
    }
    return g;
  }
};

}  // namespace

Node concat(const std::vector<Node>& xs) {
  if (xs.empty()) throw GraphError("concat needs at least one node");
  for (std::size_t i = 1; i < xs.size(); ++i) xs[0].graph().check_owns(xs[i], "concat");
  return xs[0].graph().apply(std::make_shared<Concat>(), xs);
}

OpEntry detail::registry_entry_concat() {
  return {"concat", Differentiable::twice,
          {{.inputs = {{{2, 3}}, {{2, 1}}, {{2, 2}}},
            .build = [](const auto& in) { return concat({in[0], in[1], in[2]}); }}},
          rebuild_of(concat),
          {.operators = "Concat (axis 1)",
           .write = [](OnnxWriter& w) {
             w.node("Concat", w.in(), w.out()).attr("axis", std::int64_t{1});
           }}};
}

}  // namespace dagrad
