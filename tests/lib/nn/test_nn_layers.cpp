// lib/nn/layers.cpp's image layers and dropout: parameters and scopes, the
// geometry errors naming the layer, and the training step a Trainer feeds.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <random>

using namespace dagrad;

TEST_CASE("conv2d makes name/w (out x in*k*k) and name/b (1 x out) under its scope, with convolution fans") {
  Graph g;
  Node x = g.input("x", {batch, 2 * 6 * 6});
  nn::Init init(3);
  Node h = nn::conv2d(x, {.in = {2, 6, 6}, .out_channels = 4, .kernel = 3, .padding = 1}, init, "conv1",
                      {.activation = nn::Activation::relu});
  CHECK(h.shape() == Shape{batch, 4 * 6 * 6});
  CHECK(h.name() == "conv1/activation");
  REQUIRE(init.parameters().size() == 2);
  CHECK(init.parameters()[0].name() == "conv1/w");
  CHECK(init.parameters()[0].shape() == Shape{4, 18});
  CHECK(init.parameters()[1].name() == "conv1/b");
  CHECK(init.parameters()[1].shape() == Shape{1, 4});
  // Glorot's bound with a convolution's fans: 6 / (2*9 + 4*9).
  const Matrix<double> w = init.values()[0];
  const double bound = std::sqrt(6.0 / (18.0 + 36.0));
  CHECK(w.cwiseAbs().maxCoeff() <= bound);
  CHECK(w.cwiseAbs().maxCoeff() > 0.8 * bound);
  Node pooled = nn::max_pool2d(h, {.in = {4, 6, 6}, .size = 2}, "pool1");
  CHECK(pooled.shape() == Shape{batch, 4 * 3 * 3});
  CHECK(g.info(pooled.id()).scope == "pool1");
}

TEST_CASE("a conv2d layer whose geometry does not fit its input is an error naming the layer and the numbers") {
  Graph g;
  Node x = g.input("x", {batch, 700});
  nn::Init init(1);
  CHECK_THROWS_WITH_AS(nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5}, init, "conv1"),
                       doctest::Contains("nn::conv2d 'conv1'"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5}, init, "conv1"),
                       doctest::Contains("784"), ShapeError);
}

TEST_CASE("dropout layers share the graph's training_step, which a Trainer feeds: on in training, off in evaluate") {
  Graph g;
  Node x = g.input("x", {batch, 8});
  Node y = g.input("y", {batch, 3});
  nn::Init init(2);
  Node h = nn::dropout(nn::dense(x, 16, init, "fc1", {.activation = nn::Activation::relu}), 0.5, "drop1", 9);
  h = nn::dropout(h, 0.2, "drop2", 9);
  Node logits = nn::dense(h, 3, init, "out");
  Node loss = softmax_cross_entropy(logits, y);
  Node step = nn::training_step(g);
  CHECK(step.kind() == NodeKind::input);
  CHECK(step.shape() == Shape{1, 1});
  CHECK(g.find("training_step_1") == std::nullopt);  // one step for every dropout layer

  std::mt19937 rng(4);
  std::normal_distribution<float> noise(0, 1);
  Matrix<float> X(90, 8), Y = Matrix<float>::Zero(90, 3);
  for (Eigen::Index i = 0; i < 90; ++i) {
    for (Eigen::Index j = 0; j < 8; ++j) X(i, j) = noise(rng) + (j % 3 == i % 3 ? 2.0f : 0.0f);
    Y(i, i % 3) = 1;
  }
  Executor<float> ex(g, {.threads = 2});
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = 0.01});
  nn::Trainer<float> trainer(ex, adam, x, y, {.epochs = 5, .batch_size = 30, .seed = 1});
  const nn::History& h1 = trainer.fit(Features(X), Features(Y));
  CHECK(h1.loss.back() < h1.loss.front());
  // evaluate runs with dropout off: the same as feeding a step of -1 by hand.
  const double evaluated = trainer.evaluate(Features(X), Features(Y));
  Matrix<float> by_hand = ex.run({{x, X}, {y, Y}, {step, Matrix<float>::Constant(1, 1, -1)}}, {loss})[0];
  CHECK(evaluated == doctest::Approx(by_hand(0, 0)).epsilon(1e-6));
  Matrix<float> dropped = ex.run({{x, X}, {y, Y}, {step, Matrix<float>::Constant(1, 1, 0)}}, {loss})[0];
  CHECK(dropped(0, 0) != by_hand(0, 0));

  Graph bad;
  bad.input("training_step", {1, 2});
  CHECK_THROWS_WITH_AS(nn::training_step(bad), doctest::Contains("not a 1x1 input"), GraphError);
}
