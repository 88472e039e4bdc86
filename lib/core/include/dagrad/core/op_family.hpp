// Op families: one template owns what elementwise ops share (shape rule,
// loop over the elements, node factory, broadcast gradients), and one what
// reductions share (shape rule, node factory, ONNX form); an op's file says
// only what differs, in a rule:
//   struct ExpRule { static constexpr std::string_view key = "exp";
//     auto operator()(const auto& x) const { return x.exp(); }  // on Eigen arrays
//     Node grad(const GradContext& ctx) const { return mul(ctx.grad(), ctx.output()); } };
//   Node exp(Node x) { return unary(x, ExpRule{}); }
#pragma once

#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/onnx_form.hpp>
#include <dagrad/core/op.hpp>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dagrad {

namespace detail {

// A rule's optional parts: a label with its attributes ("scale ×0.5"), an
// infix operator (" + ") or a whole expression for traces.
template <class Rule>
std::string label_of(const Rule& rule) {
  if constexpr (requires { rule.label(); }) {
    return rule.label();
  } else {
    return std::string(Rule::key);
  }
}

template <class Rule>
constexpr bool has_expression = requires(const Rule& r, std::span<const std::string> a) {
  { r.expression(a) } -> std::convertible_to<std::string>;
};

template <class Rule>
constexpr bool has_infix = requires { Rule::infix; };

template <class Rule>
Attributes attributes_of(const Rule& rule) {
  if constexpr (requires { rule.attributes(); }) {
    return rule.attributes();
  } else {
    return {};
  }
}

// A unary rule that is x · factor_of() (scale), or a binary one that is a · b
// (mul): their loops over a matrix and one number go through
// scale_elements, built for each instruction set.
template <class Rule>
constexpr bool scales_unary = requires(const Rule& r) { r.factor_of(); };
template <class Rule>
constexpr bool is_product = requires { Rule::is_product; };

// Elements [first, first + n) of a value's storage as a column array.
template <class T>
Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> column(const T* data, Dim n) {
  return {data, n};
}
template <class T>
Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> column(T* data, Dim n) {
  return {data, n};
}

}  // namespace detail

// What the elementwise families share: forward() is Derived::range() over
// the blocks parallel_elements cuts by the size alone, and a fused group
// (Op::forward_elements) calls the same range() on its blocks, so an
// element's bits never depend on which of the two ran it. Derived has
//   template <class T> void range(const T* const* in, T* out, Dim first, Dim n, Shape shape) const;
//   bool whole_side(std::size_t i) const;  // input i has the output's shape (else it broadcasts)
template <class Derived>
class ElementwiseOp : public Op {
 public:
  void forward(Inputs<float> in, View<float> out) const override { by_blocks(in, out); }
  void forward(Inputs<double> in, View<double> out) const override { by_blocks(in, out); }
  bool elementwise() const override { return true; }
  void forward_elements(std::span<const float* const> in, float* out, Dim first, Dim count,
                        Shape shape) const override {
    self().range(in.data(), out, first, count, shape);
  }
  void forward_elements(std::span<const double* const> in, double* out, Dim first, Dim count,
                        Shape shape) const override {
    self().range(in.data(), out, first, count, shape);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  // Each input's place for the block at `first`: a whole input's element
  // `first`, a broadcast input's start.
  template <class T>
  void by_blocks(Inputs<T> in, View<T> out) const {
    const Shape shape{out.rows(), out.cols()};
    detail::parallel_elements(out.size(), [&](Dim first, Dim n) {
      const T* at[2] = {nullptr, nullptr};
      for (std::size_t i = 0; i < in.size() && i < 2; ++i) {
        at[i] = in[i]->data() + (self().whole_side(i) ? first : 0);
      }
      self().range(at, out.data() + first, first, n, shape);
    });
  }
};

// y = f(x) element by element, x of any shape. Rule has:
//   static constexpr std::string_view key;
//   auto operator()(const X& x) const;    // f over an Eigen array of T (float or double)
//   Node grad(const GradContext&) const;   // dL/dx, from ctx.grad(), ctx.input(0), ctx.output()
// and, optionally, label(), expression(args) and attributes().
template <class Rule>
class UnaryOp final : public ElementwiseOp<UnaryOp<Rule>> {
 public:
  explicit UnaryOp(Rule rule) : rule_(std::move(rule)) {}
  std::string_view key() const override { return Rule::key; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  bool whole_side(std::size_t) const { return true; }

  // One block of elements (ElementwiseOp shares the blocks among threads).
  template <class T>
  void range(const T* const* in, T* out, Dim, Dim n, Shape) const {
    if constexpr (detail::scales_unary<Rule>) {
      detail::scale_range(in[0], static_cast<T>(rule_.factor_of()), out, n);
    } else {
      detail::column(out, n) = rule_(detail::column(in[0], n));
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override { return {rule_.grad(ctx)}; }

  // out[i] = f(x[i]): the output may be written over x.
  std::vector<std::size_t> in_place_inputs() const override { return {0}; }

  std::string label() const override { return detail::label_of(rule_); }
  Attributes attributes() const override { return detail::attributes_of(rule_); }

  std::string expression(std::span<const std::string> args) const override {
    if constexpr (detail::has_expression<Rule>) {
      return rule_.expression(args);
    } else {
      return Op::expression(args);
    }
  }

 private:
  Rule rule_;
};

template <class Rule>
Node unary(Node x, Rule rule) {
  return x.graph().apply(std::make_shared<UnaryOp<Rule>>(std::move(rule)), {x});
}

// z = f(a, b) element by element. Rule has:
//   static constexpr std::string_view key;
//   static constexpr bool broadcasts;   // a 1xN, Mx1 or 1x1 side repeats (add), or
//                                       // both sides must have one shape (sigmoid_grad)
//   auto operator()(const A& a, const B& b) const;  // over Eigen arrays of T, and where
//                                       // broadcasts, also an array with a T or two T's
//   Node grad(const GradContext&, std::size_t i) const;  // dL/d(input i) at the output's
//                                       // shape; the family sums it back over broadcast axes
// and, optionally, `static constexpr std::string_view infix = " + "` for traces,
// label() and attributes().
template <class Rule>
class BinaryOp final : public ElementwiseOp<BinaryOp<Rule>> {
 public:
  BinaryOp(Rule rule, Broadcast b) : rule_(std::move(rule)), b_(b) {}
  std::string_view key() const override { return Rule::key; }

  Shape infer(std::span<const Shape> in) const override {
    if constexpr (Rule::broadcasts) {
      return b_.result(in[0], in[1]);
    } else {
      return same_shape(in[0], in[1]);
    }
  }

  bool whole_side(std::size_t i) const { return i == 0 ? !b_.rows_a && !b_.cols_a : !b_.rows_b && !b_.cols_b; }

  // One block of elements [first, first + n) (ElementwiseOp shares the
  // blocks among threads): a side of the output's shape is read at the same
  // elements; a broadcast side by row (1xN), by column (Mx1) or as one
  // number, one row's piece of the block at a time.
  template <class T>
  void range(const T* const* in, T* out, Dim first, Dim n, Shape shape) const {
    const T* a = in[0];
    const T* b = in[1];
    const bool a_whole = !b_.rows_a && !b_.cols_a, b_whole = !b_.rows_b && !b_.cols_b;
    if (a_whole && b_whole) {
      detail::column(out, n) = rule_(detail::column(a, n), detail::column(b, n));
    } else if constexpr (Rule::broadcasts) {
      if (a_whole && b_.rows_b && b_.cols_b) {
        // The other side is one number (mul by a 1x1, say).
        if constexpr (detail::is_product<Rule>) {
          detail::scale_range(a, *b, out, n);
        } else {
          detail::column(out, n) = rule_(detail::column(a, n), *b);
        }
      } else if (b_whole && b_.rows_a && b_.cols_a) {
        if constexpr (detail::is_product<Rule>) {
          detail::scale_range(b, *a, out, n);
        } else {
          detail::column(out, n) = rule_(*a, detail::column(b, n));
        }
      } else {
        const Dim cols = shape.cols;
        for (Dim at = first, end = first + n; at < end;) {
          const Dim r = at / cols, c = at % cols, len = std::min(cols - c, end - at);
          T* o = out + (at - first);
          piece(side(a, a_whole, b_.rows_a, b_.cols_a, at - first, r, c),
                side(b, b_whole, b_.rows_b, b_.cols_b, at - first, r, c), o, len);
          at += len;
        }
      }
    }
  }
  // out(r, c) reads a side at (r, c) unless that side broadcasts: such a
  // side may be written over.
  std::vector<std::size_t> in_place_inputs() const override {
    std::vector<std::size_t> sides;
    for (std::size_t i : {0U, 1U}) {
      if (whole_side(i)) sides.push_back(i);
    }
    return sides;
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    std::vector<Node> g(2);
    if (ctx.needs(0)) g[0] = unbroadcast(rule_.grad(ctx, 0), b_.rows_a, b_.cols_a);
    if (ctx.needs(1)) g[1] = unbroadcast(rule_.grad(ctx, 1), b_.rows_b, b_.cols_b);
    return g;
  }

  std::string label() const override { return detail::label_of(rule_); }
  Attributes attributes() const override { return detail::attributes_of(rule_); }

  std::string expression(std::span<const std::string> args) const override {
    if constexpr (detail::has_infix<Rule>) {
      return args[0] + std::string(Rule::infix) + args[1];
    } else {
      return Op::expression(args);
    }
  }

 private:
  // One side's operand along a piece of row r from column c: `len` values
  // (whole: at `offset` into the block; a 1xN row: from column c) or one
  // number repeated (an Mx1 column's row r, or a 1x1).
  template <class T>
  struct Side {
    const T* data;
    bool repeated;
  };
  template <class T>
  static Side<T> side(const T* p, bool whole, bool rows, bool cols, Dim offset, Dim r, Dim c) {
    if (whole) return {p + offset, false};
    if (rows && cols) return {p, true};
    if (rows) return {p + c, false};
    return {p + r, true};
  }
  template <class T>
  void piece(Side<T> a, Side<T> b, T* out, Dim len) const {
    if (!a.repeated && !b.repeated) {
      detail::column(out, len) = rule_(detail::column(a.data, len), detail::column(b.data, len));
    } else if (!a.repeated) {
      detail::column(out, len) = rule_(detail::column(a.data, len), *b.data);
    } else if (!b.repeated) {
      detail::column(out, len) = rule_(*a.data, detail::column(b.data, len));
    } else {
      detail::column(out, len).setConstant(rule_(*a.data, *b.data));
    }
  }

  Rule rule_;
  Broadcast b_;
};

template <class Rule>
Node binary(Node a, Node b, Rule rule) {
  a.graph().check_owns(b, Rule::key);
  // Decided now, from the build-time shapes, so a batch of one row at run
  // time still broadcasts the same way.
  Broadcast how;
  if constexpr (Rule::broadcasts) how = Broadcast::of(a.shape(), b.shape());
  return a.graph().apply(std::make_shared<BinaryOp<Rule>>(std::move(rule), how), {a, b});
}

// What a reduction keeps of an M x N input: one number (1x1), a row of the
// column sums' shape (1xN, over the rows), or a column of the row sums'
// shape (Mx1, over the columns).
enum class Reduce { all, over_rows, over_cols };

// y = r(x), 1x1, 1xN or Mx1 as Rule::over says, x of any shape. Rule has:
//   static constexpr std::string_view key;
//   static constexpr Reduce over;
//   static constexpr std::string_view onnx;   // ONNX's reduction of the same meaning ("ReduceSum")
//   void operator()(const X& x, Y& y) const;  // fills y from x, Eigen matrices of T (float or double)
//   Node grad(const GradContext&) const;      // dL/dx, from ctx.grad() and ctx.input(0)
// and, optionally, expression(args) for traces.
//   struct SumRule { static constexpr std::string_view key = "sum", onnx = "ReduceSum";
//     static constexpr Reduce over = Reduce::all;
//     void operator()(const auto& x, auto& y) const { y(0, 0) = x.sum(); }
//     Node grad(const GradContext& ctx) const { return broadcast(ctx.grad(), ctx.input(0)); } };
//   Node sum(Node x) { return reduction(x, SumRule{}); }
template <class Rule>
class ReductionOp final : public OpBase<ReductionOp<Rule>> {
 public:
  std::string_view key() const override { return Rule::key; }
  Shape infer(std::span<const Shape> in) const override {
    if constexpr (Rule::over == Reduce::all) {
      return {1, 1};
    } else if constexpr (Rule::over == Reduce::over_rows) {
      return {1, in[0].cols};
    } else {
      return {in[0].rows, 1};
    }
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    Rule{}(*in[0], out);
  }

  std::vector<Node> backward(const GradContext& ctx) const override { return {Rule{}.grad(ctx)}; }

  std::string expression(std::span<const std::string> args) const override {
    if constexpr (detail::has_expression<Rule>) {
      return Rule{}.expression(args);
    } else {
      return Op::expression(args);
    }
  }
};

template <class Rule>
Node reduction(Node x, Rule) {
  return x.graph().apply(std::make_shared<ReductionOp<Rule>>(), {x});
}

// A reduction's ONNX form (OpEntry::onnx): Rule::onnx over the axes it
// reduces, its dims kept.
template <class Rule>
OnnxForm reduction_onnx() {
  constexpr std::string_view axis = Rule::over == Reduce::over_rows   ? " (axis 0)"
                                    : Rule::over == Reduce::over_cols ? " (axis 1)"
                                                                      : "";
  return {.operators = std::string(Rule::onnx) + std::string(axis), .write = [](OnnxWriter& w) {
            const std::vector<std::int64_t> axes = Rule::over == Reduce::over_rows   ? std::vector<std::int64_t>{0}
                                                   : Rule::over == Reduce::over_cols ? std::vector<std::int64_t>{1}
                                                                                     : std::vector<std::int64_t>{};
            w.reduce(std::string(Rule::onnx), w.in()[0], axes, w.out());
          }};
}

}  // namespace dagrad
