#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <string>

using namespace dagrad;

namespace {
// square with a deliberately wrong gradient (x instead of 2x), to show that
// gradcheck catches a bad rule.
class WrongSquare final : public OpBase<WrongSquare> {
 public:
  std::string_view key() const override { return "wrong_square"; }
  Shape infer(std::span<const Shape> in) const override { return in[0]; }
  template <class T>
  void kernel(Inputs<T> in, Matrix<T>& out) const {
    out.array() = in[0]->array().square();
  }
  std::vector<Node> backward(const GradContext& ctx) const override {
    return {mul(ctx.grad(), ctx.input(0))};
  }
};
}  // namespace

TEST_CASE("gradcheck passes a correct graph, for parameters and inputs alike") {
  Graph g;
  Node x = g.input("x", {3, 2});
  Node w = g.parameter("w", {2, 2});
  Node loss = mean(tanh(matmul(x, w)));
  Matrix<double> X(3, 2), W(2, 2);
  X << 0.1, -0.4, 0.7, 0.2, -0.3, 0.5;
  W << 0.3, -0.6, 0.9, 0.1;
  GradcheckResult r = gradcheck(g, loss, {{w, W}, {x, X}}, {});
  CHECK_MESSAGE(r.ok, r.report());
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].name == "w");
  CHECK(r.entries[1].name == "x");
  CHECK(r.entries[0].abs_error < 1e-8);
}

TEST_CASE("gradcheck reports the worst element of a wrong gradient") {
  Graph g;
  Node w = g.parameter("w", {1, 3});
  Node loss = sum(g.apply(std::make_shared<WrongSquare>(), {w}));
  Matrix<double> W(1, 3);
  W << 0.5, -2.0, 1.0;
  GradcheckResult r = gradcheck(g, loss, {{w, W}}, {});
  CHECK_FALSE(r.ok);
  REQUIRE(r.entries.size() == 1);
  CHECK_FALSE(r.entries[0].ok);
  CHECK(r.entries[0].col == 1);  // |x - 2x| is largest where |x| is
  CHECK(r.entries[0].analytic == doctest::Approx(-2.0));
  CHECK(r.entries[0].numeric == doctest::Approx(-4.0).epsilon(1e-6));
  CHECK(r.report().find("FAILED w") != std::string::npos);
}

TEST_CASE("gradcheck refuses a node that is neither a parameter nor an input") {
  Graph g;
  Node w = g.parameter("w", {1, 1});
  Node y = square(w);
  Node loss = sum(y);
  Matrix<double> V = Matrix<double>::Ones(1, 1);
  CHECK_THROWS_AS(gradcheck(g, loss, {{y, V}}, {}), GraphError);
}
