#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <string>

using namespace dagrad;

namespace {
// square with a deliberately wrong gradient (x instead of 2x), to show that
// gradcheck catches a bad rule.
struct WrongSquareRule {
  static constexpr std::string_view key = "wrong_square";
  auto operator()(const auto& x) const { return x.square(); }
  Node grad(const GradContext& ctx) const { return mul(ctx.grad(), ctx.input(0)); }
};
Node wrong_square(Node x) { return unary(x, WrongSquareRule{}); }
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
  Node loss = sum(wrong_square(w));
  Matrix<double> W(1, 3);
  W << 0.5, -2.0, 1.0;
  GradcheckResult r = gradcheck(g, loss, {{w, W}}, {});
  CHECK_FALSE(r.ok);
  REQUIRE(r.entries.size() == 1);
  CHECK_FALSE(r.entries[0].ok);
  CHECK(r.entries[0].col == 1);  // |x - 2x| is largest where |x| is
  CHECK(r.entries[0].analytic == doctest::Approx(-2.0));
  CHECK(r.entries[0].numeric == doctest::Approx(-4.0).epsilon(1e-6));
  CHECK(r.entries[0].failures == 3);
  CHECK(r.entries[0].kinks == 0);
  CHECK(r.report().find("FAILED w: 3 of 3 elements; worst (0, 1)") == 0);
}

TEST_CASE("gradcheck refuses a node that is neither a parameter nor an input") {
  Graph g;
  Node w = g.parameter("w", {1, 1});
  Node y = square(w);
  Node loss = sum(y);
  Matrix<double> V = Matrix<double>::Ones(1, 1);
  CHECK_THROWS_AS(gradcheck(g, loss, {{y, V}}, {}), GraphError);
}

TEST_CASE("gradcheck tells a kink from a wrong gradient, and a nudge moves the point off it") {
  // A fresh relu layer: zero biases, and blank rows of x whose pre-activations
  // are the biases, 0, exactly on relu's kink.
  Graph g;
  Node x = g.input("x", {3, 2});
  Node w = g.parameter("w", {2, 2});
  Node b = g.parameter("b", {1, 2});
  Node loss = sum(relu(add(matmul(x, w), b)));
  Matrix<double> X(3, 2), W(2, 2);
  X << 0, 0, 0.5, -0.2, 0, 0;
  W << 0.4, -0.3, 0.1, 0.6;  // row 1's pre-activations: 0.18 and -0.27
  const Matrix<double> B = Matrix<double>::Zero(1, 2);

  GradcheckResult r = gradcheck(g, loss, {{w, W}, {b, B}}, {{x, X}});
  CHECK_MESSAGE(r.ok, r.report());
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].kinks == 0);  // moving w does not move a blank row
  CHECK(r.entries[1].kinks == 2);
  REQUIRE(r.entries[1].first_kink.has_value());
  // b[0]: to the left only row 1 is above 0; to the right all three are.
  CHECK(r.entries[1].first_kink->left == doctest::Approx(1.0));
  CHECK(r.entries[1].first_kink->right == doctest::Approx(3.0));
  CHECK(r.entries[1].first_kink->analytic == 1.0);
  const std::string report = r.report();
  CHECK(report.find("ok     w: 4 elements, largest |difference| ") == 0);
  CHECK(report.find("ok     b: 2 elements; 2 at kinks, where the loss has no derivative") != std::string::npos);
  CHECK(report.find("GradcheckOptions::nudge") != std::string::npos);
  CHECK(report.find("FAILED") == std::string::npos);

  GradcheckResult nudged = gradcheck(g, loss, {{w, W}, {b, B}}, {{x, X}}, {.nudge = 1e-3});
  CHECK_MESSAGE(nudged.ok, nudged.report());
  CHECK(nudged.entries[1].kinks == 0);
  CHECK(nudged.report().find("kinks") == std::string::npos);
  CHECK_THROWS_WITH_AS(gradcheck(g, loss, {{b, B}}, {{x, X}}, {.nudge = -1}),
                       doctest::Contains("nudge must be 0 or a positive number"), Error);
}
