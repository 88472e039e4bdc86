// interleave_rows: y's row i * n + k is row i of x_k, for n inputs of one shape.
// dL/dx_k = strided_rows(dL/dy, k, n)
// The inverse of strided_rows: n steps' rows, one row a sequence each, put back as sequences of n
// steps (row sequence * n + t), as an unrolled recurrent layer returns its states.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class InterleaveRows final : public OpBase<InterleaveRows> {
 public:
  std::string_view key() const override { return "interleave_rows"; }

  Shape infer(std::span<const Shape> in) const override {
    Shape common = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) common = same_shape(common, in[i]);
    if (common.rows == batch) return common;
    return {common.rows * Dim(in.size()), common.cols};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const auto n = Eigen::Index(in.size());
    for (Eigen::Index k = 0; k < n; ++k) {
      const ConstView<T>& x = *in[std::size_t(k)];
      for (Eigen::Index i = 0; i < x.rows(); ++i) out.row(i * n + k) = x.row(i);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    const std::size_t n = ctx.output().num_inputs();
    std::vector<Node> g(n);
    for (std::size_t k = 0; k < n; ++k) {
      if (ctx.needs(k)) g[k] = strided_rows(ctx.grad(), Dim(k), Dim(n));
    }
    return g;
  }
};

}  // namespace

Node interleave_rows(const std::vector<Node>& xs) {
  if (xs.empty()) throw GraphError("interleave_rows needs at least one node");
  for (std::size_t i = 1; i < xs.size(); ++i) xs[0].graph().check_owns(xs[i], "interleave_rows");
  return xs[0].graph().apply(std::make_shared<InterleaveRows>(), xs);
}

OpEntry detail::registry_entry_interleave_rows() {
  return {"interleave_rows", Differentiable::twice,
          {{.inputs = {{{2, 3}}, {{2, 3}}, {{2, 3}}},
            .build = [](const auto& in) { return interleave_rows({in[0], in[1], in[2]}); }},
           {.inputs = {{{3, 2}}}, .build = [](const auto& in) { return interleave_rows({in[0]}); }},
           {.inputs = {{{4, 1}}, {{4, 1}}}, .build = [](const auto& in) { return interleave_rows({in[0], in[1]}); }}},
          rebuild_of(interleave_rows)};
}

}  // namespace dagrad
