// broadcast: y = x (1x1, 1xN or Mx1) repeated to like's shape.  dx = dy summed over the repeated axes
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class BroadcastOp final : public OpBase<BroadcastOp> {
 public:
  BroadcastOp(bool rows, bool cols) : rows_(rows), cols_(cols) {}
  std::string_view key() const override { return "broadcast"; }

  Shape infer(std::span<const Shape> in) const override {
    // A repeated axis takes like's size; the others must agree.
    const Shape x = in[0], like = in[1];
    return same_shape({rows_ ? like.rows : x.rows, cols_ ? like.cols : x.cols}, like);
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& x = *in[0];
    if (rows_ && cols_) {
      const T v = x(0, 0);
      detail::parallel_elements(out.size(), [&](auto first, auto n) { detail::elements(out, first, n).setConstant(v); });
    } else if (rows_) {
      out.rowwise() = x.row(0);
    } else if (cols_) {
      out.colwise() = x.col(0);
    } else {
      out.noalias() = x;
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = unbroadcast(ctx.grad(), rows_, cols_);
    // Only like's shape is read, never its values.
    if (ctx.needs(1)) g[1] = zeros_like(ctx.input(1));
    return g;
  }

 private:
  bool rows_, cols_;
};

}  // namespace

Node broadcast(Node x, Node like) {
  x.graph().check_owns(like, "broadcast");
  // Decided now, from the build-time shapes, so a batch of one row at run
  // time still broadcasts the same way.
  const Shape xs = x.shape(), ls = like.shape();
  const bool rows = xs.rows == 1 && ls.rows != 1;
  const bool cols = xs.cols == 1 && ls.cols != 1;
  return x.graph().apply(std::make_shared<BroadcastOp>(rows, cols), {x, like});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_broadcast(OnnxWriter& w) {
  const std::string shape = w.helper(w.out(), "shape");
  w.node("Shape", {w.in()[1]}, shape);
  w.node("Expand", {w.in()[0], shape}, w.out());
}

}  // namespace

OpEntry detail::registry_entry_broadcast() {
  return {"broadcast", Differentiable::twice,
          {binary_example(broadcast, {{1, 3}}, {{2, 3}}), binary_example(broadcast, {{2, 1}}, {{2, 3}}),
           binary_example(broadcast, {{1, 1}}, {{2, 3}}), binary_example(broadcast, {{2, 3}}, {{2, 3}})},
          rebuild_of(broadcast),
          {.operators = "Shape, Expand",
           .write = onnx_broadcast}};
}

}  // namespace dagrad
