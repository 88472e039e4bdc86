// Op families: one template owns what elementwise ops share (shape rule,
// loop over the elements, node factory, broadcast gradients); an op's file
// says only what differs, in a rule:
//   struct ExpRule { static constexpr std::string_view key = "exp";
//     auto operator()(const auto& x) const { return x.exp(); }  // on Eigen arrays
//     Node grad(const GradContext& ctx) const { return mul(ctx.grad(), ctx.output()); } };
//   Node exp(Node x) { return unary(x, ExpRule{}); }
#pragma once

#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/op.hpp>

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

}  // namespace detail

// y = f(x) element by element, x of any shape. Rule has:
//   static constexpr std::string_view key;
//   auto operator()(const X& x) const;    // f over an Eigen array of T (float or double)
//   Node grad(const GradContext&) const;   // dL/dx, from ctx.grad(), ctx.input(0), ctx.output()
// and, optionally, label(), expression(args) and attributes().
template <class Rule>
class UnaryOp final : public OpBase<UnaryOp<Rule>> {
 public:
  explicit UnaryOp(Rule rule) : rule_(std::move(rule)) {}
  std::string_view key() const override { return Rule::key; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }

  // Large inputs are shared among threads in blocks fixed by the size alone
  // (parallel_elements); each element's value does not depend on the cut.
  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    if constexpr (detail::scales_unary<Rule>) {
      detail::scale_elements(*in[0], static_cast<T>(rule_.factor_of()), out);
    } else {
      detail::map_elements(*in[0], rule_, out);
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
class BinaryOp final : public OpBase<BinaryOp<Rule>> {
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

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& a = *in[0];
    const ConstView<T>& b = *in[1];
    const bool a_whole = !b_.rows_a && !b_.cols_a, b_whole = !b_.rows_b && !b_.cols_b;
    if (a_whole && b_whole) {
      detail::parallel_elements(out.size(), [&](auto first, auto n) {
        detail::elements(out, first, n) = rule_(detail::elements(a, first, n), detail::elements(b, first, n));
      });
    } else if constexpr (Rule::broadcasts) {
      if (a_whole && b_.rows_b && b_.cols_b) {
        // The other side is one number (mul by a 1x1, say).
        if constexpr (detail::is_product<Rule>) {
          detail::scale_elements(a, b(0, 0), out);
        } else {
          detail::map_elements(a, [&](const auto& x) { return rule_(x, b(0, 0)); }, out);
        }
      } else if (b_whole && b_.rows_a && b_.cols_a) {
        if constexpr (detail::is_product<Rule>) {
          detail::scale_elements(b, a(0, 0), out);
        } else {
          detail::map_elements(b, [&](const auto& x) { return rule_(a(0, 0), x); }, out);
        }
      } else {
        // Each output row r, column c reads a and b at (r or 0, c or 0).
        const Eigen::Index rows = out.rows(), cols = out.cols();
        for (Eigen::Index r = 0; r < rows; ++r) {
          const Eigen::Index ra = b_.rows_a ? 0 : r, rb = b_.rows_b ? 0 : r;
          for (Eigen::Index c = 0; c < cols; ++c) {
            out(r, c) = rule_(a(ra, b_.cols_a ? 0 : c), b(rb, b_.cols_b ? 0 : c));
          }
        }
      }
    }
  }

  // out(r, c) reads a side at (r, c) unless that side broadcasts: such a
  // side may be written over.
  std::vector<std::size_t> in_place_inputs() const override {
    std::vector<std::size_t> sides;
    if (!b_.rows_a && !b_.cols_a) sides.push_back(0);
    if (!b_.rows_b && !b_.cols_b) sides.push_back(1);
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

}  // namespace dagrad
