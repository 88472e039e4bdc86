// ops/gelu.cpp and ops/gelu_grad.cpp: both forms against values computed
// independently in long double (the erf formula, PyTorch's tanh formula),
// their first and second derivatives against long double differences, the
// far negative tail, labels and attributes. Gradient checks: test_registry.cpp.
#include <doctest/doctest.h>
#include <dagrad/dagrad.hpp>

#include <cmath>
#include <functional>
#include <vector>

using namespace dagrad;
using M = Matrix<double>;
using Real = long double;

namespace {

Real exact(Real x) { return 0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L))); }
Real tanh_form(Real x) {
  const Real k = std::sqrt(2.0L / 3.14159265358979323846264338327950288L);
  return 0.5L * x * (1.0L + std::tanh(k * (x + 0.044715L * x * x * x)));
}

const std::vector<double> points = {-4.5, -2.25, -1.0, -0.3, 0.0, 0.2, 0.7, 1.0, 1.9, 3.3, 6.0};

M row_of(const std::vector<double>& v) {
  M m(1, static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) m(0, static_cast<Eigen::Index>(i)) = v[i];
  return m;
}

// The value, slope and curvature of one form of gelu at `points`, from dagrad.
struct Computed {
  M value, slope, curvature;
};

Computed compute(GeluApproximation form) {
  Graph g;
  Node p = g.parameter("p", {1, static_cast<Dim>(points.size())});
  Node y = gelu(p, form);
  Node slope = gradients(sum(y), {p})[0];
  Node curvature = gradients(sum(slope), {p})[0];
  Executor<double> ex(g);
  ex.set(p, row_of(points));
  const auto out = ex.run({}, {y, slope, curvature});
  return {out[0], out[1], out[2]};
}

// `tolerance` relative on the values: the tanh form's 1 + tanh(u) cancels
// far below 0 in double just as PyTorch's does.
void check_against(const Computed& got, const std::function<Real(Real)>& f, double tolerance) {
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Eigen::Index c = static_cast<Eigen::Index>(i);
    const Real x = points[i];
    CAPTURE(points[i]);
    CHECK(got.value(0, c) == doctest::Approx(static_cast<double>(f(x))).epsilon(tolerance).scale(1e-30));
    const Real h1 = 1e-5L, h2 = 1e-4L;
    const Real slope = (f(x + h1) - f(x - h1)) / (2 * h1);
    const Real curvature = (f(x + h2) - 2 * f(x) + f(x - h2)) / (h2 * h2);
    CHECK(std::abs(got.slope(0, c) - static_cast<double>(slope)) < 1e-8);
    CHECK(std::abs(got.curvature(0, c) - static_cast<double>(curvature)) < 1e-6);
  }
}

}  // namespace

TEST_CASE("gelu's exact form is x Phi(x), with the erf formula's slope and curvature") {
  check_against(compute(GeluApproximation::none), exact, 1e-12);
}

TEST_CASE("gelu's tanh form is PyTorch's approximate='tanh' formula, with its slope and curvature") {
  const Computed got = compute(GeluApproximation::tanh);
  check_against(got, tanh_form, 1e-9);
  // The two forms differ, by at most about 5e-4 over these points.
  const Computed erf_form = compute(GeluApproximation::none);
  CHECK((got.value - erf_form.value).cwiseAbs().maxCoeff() > 1e-5);
  CHECK((got.value - erf_form.value).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("gelu keeps its relative precision far below zero, where 1 + erf would cancel") {
  Graph g;
  Node x = g.input("x", {1, 3});
  Node y = gelu(x);
  Executor<double> ex(g);
  const M out = ex.run({{x, M{{-10, -20, -30}}}}, {y})[0];
  for (Eigen::Index c = 0; c < 3; ++c) {
    const Real v = -10.0L * static_cast<Real>(c + 1);
    const Real want = 0.5L * v * std::erfc(-v / std::sqrt(2.0L));
    CHECK(out(0, c) < 0.0);
    CHECK(out(0, c) == doctest::Approx(static_cast<double>(want)).epsilon(1e-12).scale(1e-300));
  }
}

TEST_CASE("gelu computes in float what the long double formulas give") {
  Graph g;
  Node x = g.input("x", {1, 4});
  Node a = gelu(x), b = gelu(x, GeluApproximation::tanh);
  Executor<float> ex(g);
  const auto out = ex.run({{x, Matrix<float>{{-2.5f, -0.5f, 0.75f, 2.0f}}}}, {a, b});
  const Real xs[] = {-2.5L, -0.5L, 0.75L, 2.0L};
  for (int c = 0; c < 4; ++c) {
    CHECK(out[0](0, c) == doctest::Approx(static_cast<double>(exact(xs[c]))).epsilon(1e-5));
    CHECK(out[1](0, c) == doctest::Approx(static_cast<double>(tanh_form(xs[c]))).epsilon(1e-5));
  }
}

TEST_CASE("gelu at 1 is Phi(1), as PyTorch's gelu gives") {
  Graph g;
  Node x = g.input("x", {1, 1});
  Executor<double> ex(g);
  CHECK(ex.run({{x, M{{1.0}}}}, {gelu(x)})[0](0, 0) == doctest::Approx(0.8413447460685429).epsilon(1e-15));
}

TEST_CASE("gelu and gelu_grad name their form in the label and an attribute") {
  Graph g;
  Node x = g.input("x", {1, 2});
  Node exact_node = gelu(x), tanh_node = gelu(x, GeluApproximation::tanh);
  CHECK(exact_node.op()->label() == "gelu");
  CHECK(tanh_node.op()->label() == "gelu tanh");
  CHECK(gelu_grad(x, x, GeluApproximation::tanh).op()->label() == "gelu_grad tanh");
  REQUIRE(tanh_node.op()->attributes().size() == 1);
  CHECK(tanh_node.op()->attributes()[0].name == "approximate_tanh");
  CHECK(std::get<std::int64_t>(tanh_node.op()->attributes()[0].value) == 1);
  CHECK(std::get<std::int64_t>(exact_node.op()->attributes()[0].value) == 0);
}
