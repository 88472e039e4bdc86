// add_n: y = x_0 + x_1 + ... + x_(n-1), all of one shape.  dy/dx_i = 1
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class AddN final : public OpBase<AddN> {
 public:
  std::string_view key() const override { return "add_n"; }

  Shape infer(std::span<const Shape> in) const override {
    Shape s = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) {
      const Shape t = in[i];
      const bool rows_fit = s.rows == batch || t.rows == batch || s.rows == t.rows;
      const bool cols_fit = s.cols == batch || t.cols == batch || s.cols == t.cols;
      if (!rows_fit || !cols_fit) {
        throw ShapeError("shapes differ (input 0 is " + to_string(in[0]) + ", input " +
                         std::to_string(i) + " is " + to_string(t) + ")");
      }
      if (s.rows == batch) s.rows = t.rows;
      if (s.cols == batch) s.cols = t.cols;
    }
    return s;
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    // Left to right in input order, so the rounding never depends on scheduling.
    // One pass for the first two, then one more per further input.
    detail::parallel_elements(out.size(), [&](auto first, auto n) {
      auto y = detail::elements(out, first, n);
      if (in.size() == 1) {
        y = detail::elements(*in[0], first, n);
        return;
      }
      y = detail::elements(*in[0], first, n) + detail::elements(*in[1], first, n);
      for (std::size_t i = 2; i < in.size(); ++i) y += detail::elements(*in[i], first, n);
    });
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(ctx.output().num_inputs());
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (ctx.needs(i)) g[i] = ctx.grad();
    }
    return g;
  }

  std::string expression(std::span<const std::string> args) const override {
    std::string s;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i) s += " + ";
      s += args[i];
    }
    return s;
  }
};

}  // namespace

Node add_n(const std::vector<Node>& xs) {
  if (xs.empty()) throw GraphError("add_n needs at least one node");
  for (std::size_t i = 1; i < xs.size(); ++i) xs[0].graph().check_owns(xs[i], "add_n");
  return xs[0].graph().apply(std::make_shared<AddN>(), xs);
}

OpEntry detail::registry_entry_add_n() {
  return {"add_n", Differentiable::twice,
          {{.inputs = {{{2, 3}}, {{2, 3}}, {{2, 3}}},
            .build = [](const auto& in) { return add_n({in[0], in[1], in[2]}); }},
           {.inputs = {{{2, 3}}}, .build = [](const auto& in) { return add_n({in[0]}); }}},
          rebuild_of(add_n),
          {.operators = "Sum"}};
}

}  // namespace dagrad
