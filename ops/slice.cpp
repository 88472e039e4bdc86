// slice: y = x[:, first : first + count], whole columns.  dL/dx = dL/dy in those columns, 0 in the others
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class Slice final : public OpBase<Slice> {
 public:
  Slice(Dim first, Dim count) : first_(first), count_(count) {}
  std::string_view key() const override { return "slice"; }
  Attributes attributes() const override { return {{"first", first_}, {"count", count_}}; }

  Shape infer(std::span<const Shape> in) const override {
    const Dim cols = in[0].cols;
    // count_ > cols - first_ rather than first_ + count_ > cols: a graph
    // file may hold any two numbers, and their sum may not fit a Dim.
    if (first_ < 0 || count_ < 1 || cols == batch || count_ > cols - first_) {
      Dim end = 0;
      const std::string last = __builtin_add_overflow(first_, count_, &end)
                                   ? std::to_string(first_) + " + " + std::to_string(count_)
                                   : std::to_string(end);
      throw ShapeError("columns [" + std::to_string(first_) + ", " + last +
                       ") are not a non-empty run within " + std::to_string(cols) + " columns");
    }
    return {in[0].rows, count_};
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    out = in[0]->middleCols(first_, count_);
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    // dL/dy between zero columns cut from x's shape (its rows may be the batch).
    const Node x = ctx.input(0);
    const Dim cols = x.shape().cols, after = cols - first_ - count_;
    if (first_ == 0 && after == 0) return {ctx.grad()};
    const Node zeros = zeros_like(x);
    std::vector<Node> parts;
    if (first_ > 0) parts.push_back(slice(zeros, 0, first_));
    parts.push_back(ctx.grad());
    if (after > 0) parts.push_back(slice(zeros, first_ + count_, after));
    return {concat(parts)};
  }

  std::string label() const override {
    return "slice [" + std::to_string(first_) + ", " + std::to_string(first_ + count_) + ")";
  }

  std::string expression(std::span<const std::string> args) const override {
    return args[0] + "[:, " + std::to_string(first_) + ":" + std::to_string(first_ + count_) + "]";
  }

 private:
  Dim first_, count_;
};

}  // namespace

Node slice(Node x, Dim first, Dim count) {
  return x.graph().apply(std::make_shared<Slice>(first, count), {x});
}

namespace {

// How an ONNX export writes it (OpEntry::onnx).
void onnx_slice(OnnxWriter& w) {
  const std::int64_t first = w.attributes().integer("first"), count = w.attributes().integer("count");
  w.node("Slice",
         {w.in()[0], w.ints(w.out(), "starts", {first}), w.ints(w.out(), "ends", {first + count}),
          w.ints(w.out(), "axes", {1})},
         w.out());
}

}  // namespace

OpEntry detail::registry_entry_slice() {
  auto cut = [](Dim first, Dim count) {
    return [first, count](const std::vector<Node>& in) { return slice(in[0], first, count); };
  };
  return {"slice", Differentiable::twice,
          {{.inputs = {{{2, 5}}}, .build = cut(1, 2)},
           {.inputs = {{{2, 5}}}, .build = cut(0, 3)},
           {.inputs = {{{2, 5}}}, .build = cut(3, 2)},
           {.inputs = {{{2, 5}}}, .build = cut(0, 5)}},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 1);
            const Dim first = a.integer("first", 0), count = a.integer("count", 1);
            return slice(in[0], first, count);
          },
          {.operators = "Slice (axis 1)",
           .write = onnx_slice}};
}

}  // namespace dagrad
