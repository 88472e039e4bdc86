// strided_rows: y = the rows first, first + stride, first + 2 stride, ... of x (row i of y is row
// i * stride + first).  dL/dx = dL/dy in those rows, 0 in the others (interleave_rows with zeros)
// Rows laid out as sequences of `stride` steps (row sequence * stride + t): one time step t of
// every sequence, as an unrolled recurrent layer reads its input.
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class StridedRows final : public OpBase<StridedRows> {
 public:
  StridedRows(Dim first, Dim stride) : first_(first), stride_(stride) {}
  std::string_view key() const override { return "strided_rows"; }
  Attributes attributes() const override { return {{"first", first_}, {"stride", stride_}}; }

  Shape infer(std::span<const Shape> in) const override {
    if (stride_ < 1 || first_ < 0 || first_ >= stride_) {
      throw ShapeError("row " + std::to_string(first_) + " of every " + std::to_string(stride_) +
                       " is not one of them; stride must be positive and first in [0, stride)");
    }
    const Dim rows = in[0].rows;
    if (rows == batch) return {batch, in[0].cols};
    if (rows % stride_ != 0) {
      throw ShapeError(std::to_string(rows) + " rows are not a whole number of runs of " + std::to_string(stride_));
    }
    return {rows / stride_, in[0].cols};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    for (Eigen::Index i = 0; i < out.rows(); ++i) out.row(i) = x.row(i * stride_ + first_);
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    if (stride_ == 1) return {ctx.grad()};
    const Node zeros = zeros_like(ctx.grad());
    std::vector<Node> parts(std::size_t(stride_), zeros);
    parts[std::size_t(first_)] = ctx.grad();
    return {interleave_rows(parts)};
  }

  std::string label() const override {
    return "strided_rows [" + std::to_string(first_) + "::" + std::to_string(stride_) + "]";
  }

  std::string expression(std::span<const std::string> args) const override {
    return args[0] + "[" + std::to_string(first_) + "::" + std::to_string(stride_) + ", :]";
  }

 private:
  Dim first_, stride_;
};

}  // namespace

Node strided_rows(Node x, Dim first, Dim stride) {
  return x.graph().apply(std::make_shared<StridedRows>(first, stride), {x});
}

OpEntry detail::registry_entry_strided_rows() {
  auto take = [](Dim first, Dim stride) {
    return [first, stride](const std::vector<Node>& in) { return strided_rows(in[0], first, stride); };
  };
  return {"strided_rows", Differentiable::twice,
          {{.inputs = {{{6, 2}}}, .build = take(0, 3)},
           {.inputs = {{{6, 2}}}, .build = take(2, 3)},
           {.inputs = {{{4, 3}}}, .build = take(1, 2)},
           {.inputs = {{{2, 3}}}, .build = take(0, 1)}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            const Dim first = a.integer("first"), stride = a.integer("stride");
            return strided_rows(in[0], first, stride);
          }};
}

}  // namespace dagrad
