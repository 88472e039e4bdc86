#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/nn.hpp>

#include <cmath>

#include "contains.hpp"
#include "thrown.hpp"

using namespace dagrad;

namespace {

struct Moments {
  double mean, variance, max_abs;
};
Moments moments(const Matrix<double>& m) {
  const double mean = m.mean();
  const double variance = (m.array() - mean).square().sum() / double(m.size());
  return {mean, variance, m.cwiseAbs().maxCoeff()};
}

// The values Init draws for one parameter of this shape.
Matrix<double> draw(nn::Initializer how, Shape shape, std::uint32_t seed = 3) {
  Graph g;
  nn::Init init(seed);
  init.parameter(g, "w", shape, how);
  return init.values().front();
}

}  // namespace

TEST_CASE("uniform initializers stay inside their bound and fill it with the variance b^2 / 3") {
  const Shape shape{200, 300};
  struct Case {
    nn::Initializer how;
    double bound;
  };
  const Case cases[] = {{nn::glorot_uniform(), std::sqrt(6.0 / 500)},
                        {nn::he_uniform(), std::sqrt(6.0 / 200)},
                        {nn::glorot_uniform(2.0), 2 * std::sqrt(6.0 / 500)},
                        {nn::uniform(0.5), 0.5}};
  for (const Case& c : cases) {
    CHECK(nn::scale_of(c.how, shape) == doctest::Approx(c.bound).epsilon(1e-15));
    const Moments m = moments(draw(c.how, shape));
    CHECK(m.max_abs <= c.bound);
    CHECK(m.max_abs > 0.999 * c.bound);
    CHECK(std::abs(m.mean) < 0.01 * c.bound);
    CHECK(m.variance == doctest::Approx(c.bound * c.bound / 3).epsilon(0.02));
  }
}

TEST_CASE("normal initializers have mean 0 and the standard deviation their rule gives") {
  const Shape shape{200, 300};
  struct Case {
    nn::Initializer how;
    double std;
  };
  // normal(std) ignores the fans: GPT-2's 0.02, and its residual projections'
  // 0.02 / sqrt(2 * layers) for 4 layers.
  const Case cases[] = {{nn::glorot_normal(), std::sqrt(2.0 / 500)},
                        {nn::he_normal(), std::sqrt(2.0 / 200)},
                        {nn::normal(0.02), 0.02},
                        {nn::normal(0.02 / std::sqrt(8.0)), 0.02 / std::sqrt(8.0)}};
  for (const Case& c : cases) {
    const Moments m = moments(draw(c.how, shape));
    CHECK(std::abs(m.mean) < 0.01 * c.std);
    CHECK(std::sqrt(m.variance) == doctest::Approx(c.std).epsilon(0.02));
    // A normal sample of 60,000 reaches past 3 standard deviations.
    CHECK(m.max_abs > 3 * c.std);
  }
}

TEST_CASE("fan_in and fan_out override the shape, as a convolution needs") {
  nn::Initializer how = nn::he_uniform();
  how.fan_in = 25;
  CHECK(nn::scale_of(how, {6, 150}) == doctest::Approx(std::sqrt(6.0 / 25)));
  CHECK(draw(how, {6, 150}).cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 25));
}

TEST_CASE("zeros and constant fill every value") {
  CHECK(draw(nn::zeros(), {3, 4}).isZero(0));
  CHECK((draw(nn::constant(0.25), {3, 4}).array() == 0.25).all());
}

TEST_CASE("the same seed gives the same values on every call; another seed others") {
  Graph g;
  nn::Init a(7), b(7), c(8);
  Node w = a.parameter(g, "w", {4, 5}, nn::glorot_uniform());
  Node v = a.parameter(g, "v", {1, 5}, nn::he_normal());
  b.add(w, nn::glorot_uniform());
  b.add(v, nn::he_normal());
  c.add(w, nn::glorot_uniform());
  c.add(v, nn::he_normal());
  const auto first = a.values(), again = a.values(), twin = b.values(), other = c.values();
  REQUIRE(first.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(first[k] == again[k]);
    CHECK(first[k] == twin[k]);
    CHECK(first[k] != other[k]);
  }
}

TEST_CASE("scikit-learn's Glorot draws from sqrt(2 / fans) for logistic layers, else sqrt(6 / fans)") {
  CHECK(nn::scale_of(nn::scikit_learn_glorot(true), {30, 20}) == std::sqrt(2.0 / 50));
  CHECK(nn::scale_of(nn::scikit_learn_glorot(false), {30, 20}) == std::sqrt(6.0 / 50));
  CHECK(nn::scale_of(nn::scikit_learn_glorot(false), {30, 20}) == nn::scale_of(nn::glorot_uniform(), {30, 20}));
  // A bias drawn from its weight's bound, as scikit-learn draws it.
  nn::Initializer bias = nn::scikit_learn_glorot(true);
  bias.fan_in = 30;
  bias.fan_out = 20;
  CHECK(nn::scale_of(bias, {1, 20}) == std::sqrt(2.0 / 50));
  const Matrix<double> v = draw(nn::scikit_learn_glorot(true), {30, 20});
  CHECK(v.cwiseAbs().maxCoeff() <= std::sqrt(2.0 / 50));
}

TEST_CASE("values and apply from a caller's stream draw what the seed draws, and leave the stream after them") {
  Graph g;
  nn::Init init(11);
  Node w = init.parameter(g, "w", {3, 4}, nn::glorot_uniform());
  Node b = init.parameter(g, "b", {1, 4}, nn::uniform(0.5));
  NumpyRandom stream(11);
  const auto from_stream = init.values(stream), seeded = init.values();
  REQUIRE(from_stream.size() == 2);
  CHECK(from_stream[0] == seeded[0]);
  CHECK(from_stream[1] == seeded[1]);
  // The stream has moved on by the 16 draws: its next value is the 17th.
  NumpyRandom fresh(11);
  for (int k = 0; k < 16; ++k) fresh.uniform(0, 1);
  CHECK(stream.uniform(0, 1) == fresh.uniform(0, 1));
  NumpyRandom again(11);
  Executor<double> ex(g);
  init.apply(ex, again);
  CHECK(ex.value(w) == seeded[0]);
  CHECK(ex.value(b) == seeded[1]);
}

TEST_CASE("apply sets every recorded parameter, as values() in the executor's type") {
  Graph g;
  nn::Init init(1);
  Node x = g.input("x", {batch, 3});
  Node h = nn::dense(x, 4, init, "hidden", {.activation = nn::Activation::tanh});
  Node out = nn::dense(h, 2, init, "out");
  (void)out;
  const auto values = init.values();
  REQUIRE(init.parameters().size() == 4);
  for (int threads : {1, 2}) {
    Executor<float> ex(g, {.threads = threads});
    init.apply(ex);
    for (std::size_t k = 0; k < 4; ++k) CHECK(ex.value(init.parameters()[k]) == values[k].cast<float>());
  }
  Executor<double> ex(g);
  init.apply(ex);
  CHECK(ex.value(init.parameters()[0]) == values[0]);
}

TEST_CASE("dense names its parameters and nodes under its scope") {
  Graph g;
  nn::Init init(1);
  Node x = g.input("x", {batch, 3});
  Node h = nn::dense(x, 4, init, "hidden", {.activation = nn::Activation::relu});
  Node logits = nn::dense(h, 2, init, "out");
  CHECK(h.name() == "hidden/activation");
  CHECK(logits.name() == "out/z");
  CHECK(logits.shape() == Shape{batch, 2});
  REQUIRE(init.parameters().size() == 4);
  CHECK(init.parameters()[0].name() == "hidden/w");
  CHECK(init.parameters()[0].shape() == Shape{3, 4});
  CHECK(init.parameters()[1].name() == "hidden/b");
  CHECK(init.parameters()[1].shape() == Shape{1, 4});
  CHECK(init.parameters()[2].name() == "out/w");
  CHECK(init.parameters()[3].name() == "out/b");
  for (NodeId id = 0; id < g.size(); ++id) {
    const NodeInfo& info = g.info(id);
    if (info.name.rfind("out/", 0) == 0) CHECK(info.scope == "out");
  }
  // The bias starts at zero and the weights within Glorot's bound.
  const auto v = init.values();
  CHECK(v[1].isZero(0));
  CHECK(v[0].cwiseAbs().maxCoeff() <= std::sqrt(6.0 / 7));

  Executor<double> ex(g);
  init.apply(ex);
  Matrix<double> X(2, 3);
  X << 1, 2, 3, -1, 0.5, 2;
  const Matrix<double> hidden = ((X * v[0]).rowwise() + v[1].row(0)).cwiseMax(0.0);
  const Matrix<double> expected = (hidden * v[2]).rowwise() + v[3].row(0);
  CHECK((ex.run({{x, X}}, {logits})[0] - expected).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("dense without bias has only its weights") {
  Graph g;
  nn::Init init(1);
  Node x = g.input("x", {batch, 3});
  nn::dense(x, 2, init, "linear", {.bias = false});
  REQUIRE(init.parameters().size() == 1);
  CHECK(init.parameters()[0].name() == "linear/w");
}

TEST_CASE("bad layers and bad records are errors naming the layer or node") {
  Graph g;
  nn::Init init(1);
  Node x = g.input("x", {batch, 3});
  std::string what = thrown<ShapeError>([&] { nn::dense(x, 0, init, "empty"); });
  check_contains(what, {"empty", "units is 0"});
  what = thrown<GraphError>([&] { init.add(x, nn::zeros()); });
  check_contains(what, {"'x'", "not a parameter"});
  Node w = init.parameter(g, "w", {3, 3}, nn::zeros());
  CHECK_THROWS_WITH_AS(init.add(w, nn::zeros()), doctest::Contains("'w' is recorded already"), GraphError);
  nn::dense(x, 2, init, "layer");
  CHECK_THROWS_AS(nn::dense(x, 2, init, "layer"), GraphError);  // layer/w exists
}

TEST_CASE("Init::reuse finds a layer's parameters by name and shape, making none, and names what it cannot find") {
  Graph g;
  nn::Init init(1);
  const Node x = g.input("x", {batch, 3});
  nn::dense(x, 4, init, "out");
  const std::size_t nodes = g.size();
  nn::Init shared = nn::Init::reuse();
  const Node y = nn::dense(x, 4, shared, "out");
  CHECK(y.input(0).input(1) == *g.find("out/w"));
  CHECK(y.input(1) == *g.find("out/b"));
  CHECK(shared.parameters().empty());
  CHECK(g.size() == nodes + 2);  // the product and the bias, no parameter
  CHECK_THROWS_WITH_AS(nn::dense(x, 4, shared, "other"), "nn::Init::reuse: the graph has no parameter 'other/w' to reuse",
                       GraphError);
  CHECK_THROWS_WITH_AS(nn::dense(x, 5, shared, "out"), "nn::Init::reuse: parameter 'out/w' is 3x4, not 3x5",
                       ShapeError);
}
