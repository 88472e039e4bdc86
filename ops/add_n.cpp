// add_n: y = x_0 + x_1 + ... + x_(n-1), all of one shape.  dy/dx_i = 1
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

#include <algorithm>

namespace dagrad {
namespace {

class AddN final : public OpBase<AddN> {
 public:
  explicit AddN(std::size_t inputs) : inputs_(inputs) {}

  std::string_view key() const override { return "add_n"; }

  // With one or two inputs, each output element is made from its own
  // element of each input in one pass: the output may take an input's bytes,
  // and the op is elementwise, so a fused chain may end in it (a gradient
  // that is a weight's data term plus its L2 penalty's computes the
  // penalty's term a tile at a time instead of storing it). With more, a
  // later pass reads input 2 on: were it the same node as input 0 or 1,
  // writing over that would change what it reads (random_graphs found it).
  std::vector<std::size_t> in_place_inputs() const override {
    if (inputs_ == 1) return {0};
    if (inputs_ == 2) return {0, 1};
    return {};
  }
  bool elementwise() const override { return inputs_ <= 2; }
  void forward_elements(std::span<const float* const> in, float* out, Dim, Dim count, Shape) const override {
    sum_elements(in, out, count);
  }
  void forward_elements(std::span<const double* const> in, double* out, Dim, Dim count, Shape) const override {
    sum_elements(in, out, count);
  }

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

  // in[0][j] + in[1][j]: the one rounding the kernel's first pass makes.
  template <class T>
  void sum_elements(std::span<const T* const> in, T* out, Dim count) const {
    if (in.size() == 1) {
      std::copy_n(in[0], count, out);
      return;
    }
    for (Dim j = 0; j < count; ++j) out[j] = in[0][j] + in[1][j];
  }

  std::string expression(std::span<const std::string> args) const override {
    std::string s;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i) s += " + ";
      s += args[i];
    }
    return s;
  }

 private:
  std::size_t inputs_;
};

}  // namespace

Node add_n(const std::vector<Node>& xs) {
  if (xs.empty()) throw GraphError("add_n needs at least one node");
  for (std::size_t i = 1; i < xs.size(); ++i) xs[0].graph().check_owns(xs[i], "add_n");
  return xs[0].graph().apply(std::make_shared<AddN>(xs.size()), xs);
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
