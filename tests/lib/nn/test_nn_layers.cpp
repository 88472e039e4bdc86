// lib/nn/layers.cpp's image layers, dropout, embeddings and transformer
// blocks: parameters and scopes, the errors naming the layer, the training
// step a Trainer feeds, and a block against the ops composed by hand.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <functional>
#include <random>

#include "normal_matrix.hpp"

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
  // inference_feeds gives that -1.
  std::vector<Feed<float>> feeds = nn::inference_feeds<float>(g);
  REQUIRE(feeds.size() == 1);
  CHECK(feeds[0].node == step);
  feeds.push_back({x, X});
  feeds.push_back({y, Y});
  CHECK(ex.run(feeds, {loss})[0](0, 0) == by_hand(0, 0));
  Graph plain;
  CHECK(nn::inference_feeds<double>(plain).empty());

  Graph bad;
  bad.input("training_step", {1, 2});
  CHECK_THROWS_WITH_AS(nn::training_step(bad), doctest::Contains("not a 1x1 input"), GraphError);
  CHECK_THROWS_WITH_AS(nn::inference_feeds<float>(bad), doctest::Contains("not a 1x1 input"), GraphError);
}

TEST_CASE("embedding makes name/table (vocabulary x dim) drawn from N(0, 0.02^2) and looks rows up by id") {
  Graph g;
  Node ids = g.input("ids", {batch, 1});
  nn::Init init(5);
  Node e = nn::embedding(ids, 40, 30, init, "tok");
  CHECK(e.shape() == Shape{batch, 30});
  CHECK(e.name() == "tok/lookup");
  REQUIRE(init.parameters().size() == 1);
  CHECK(init.parameters()[0].name() == "tok/table");
  CHECK(init.parameters()[0].shape() == Shape{40, 30});
  const Matrix<double> table = init.values()[0];
  const double mean = table.mean();
  CHECK(std::abs(mean) < 0.003);
  CHECK(std::sqrt((table.array() - mean).square().mean()) == doctest::Approx(0.02).epsilon(0.1));

  Executor<double> ex(g, {.threads = 1});
  init.apply(ex);
  const Matrix<double> out = ex.run({{ids, Matrix<double>{{3}, {0}, {3}}}}, {e})[0];
  CHECK(out.row(0) == table.row(3));
  CHECK(out.row(1) == table.row(0));
  CHECK(out.row(2) == table.row(3));
  CHECK_THROWS_WITH_AS(nn::embedding(ids, 0, 30, init, "bad"), doctest::Contains("nn::embedding 'bad'"), ShapeError);
}

TEST_CASE("layers take existing parameters: a head tied to the embedding table computes x @ table^T") {
  Graph g;
  Node ids = g.input("ids", {batch, 1});
  nn::Init init(6);
  Node e = nn::embedding(ids, 7, 4, init, "tok");
  Node table = init.parameters()[0];
  Node logits = nn::dense(e, 7, init, "head", {.bias = false, .weight = table, .transpose_weight = true});
  CHECK(logits.shape() == Shape{batch, 7});
  CHECK(init.parameters().size() == 1);  // the table, recorded once
  CHECK(nn::parameters_of(logits) == std::vector<Node>{table});
  // A second embedding sharing the table.
  Node again = nn::embedding(ids, 7, 4, init, "tok2", {.table = table});
  CHECK(init.parameters().size() == 1);

  Executor<double> ex(g, {.threads = 1});
  init.apply(ex);
  const Matrix<double> id_values{{2}, {5}};
  const auto out = ex.run({{ids, id_values}}, {logits, again});
  const Matrix<double> t = init.values()[0];
  const Matrix<double> expected = Matrix<double>(t({2, 5}, Eigen::all)) * t.transpose();
  CHECK((out[0] - expected).cwiseAbs().maxCoeff() < 1e-15);
  CHECK(out[1] == Matrix<double>(t({2, 5}, Eigen::all)));

  // A given parameter of the wrong shape, or not a parameter, is refused
  // before anything is made.
  const std::size_t nodes = g.size();
  CHECK_THROWS_WITH_AS(nn::dense(e, 7, init, "head2", {.weight = table}),
                       doctest::Contains("nn::dense 'head2': the given weight 'tok/table' is 7x4, not 4x7"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(nn::dense(e, 7, init, "head3", {.weight = e}), doctest::Contains("not a parameter"),
                       GraphError);
  CHECK_THROWS_AS(nn::embedding(ids, 8, 4, init, "tok3", {.table = table}), ShapeError);
  CHECK(g.size() == nodes);
}

namespace {

// The parameter of init named `name`.
Node named(const nn::Init& init, const std::string& name) {
  for (const Node& p : init.parameters()) {
    if (p.name() == name) return p;
  }
  FAIL("no parameter " << name);
  return {};
}

}  // namespace

TEST_CASE("a transformer block is x + attn(ln1(x)), then h + mlp(ln2(h)), its nodes and parameters under its scope") {
  Graph g;
  Node x = g.input("x", {batch, 8});
  nn::Init init(4);
  const std::size_t before = g.size();
  Node y = nn::transformer_block(x, {.heads = 2, .context = 3, .layers = 2}, init, "block1");
  CHECK(y.shape() == Shape{batch, 8});
  CHECK(y.name() == "block1/residual2");
  for (std::size_t id = before; id < g.size(); ++id) CHECK(g.info(NodeId(id)).scope.rfind("block1", 0) == 0);
  const std::vector<std::pair<std::string, Shape>> expected{
      {"block1/ln1/gain", {1, 8}},       {"block1/ln1/bias", {1, 8}},     {"block1/attn/qkv/w", {8, 24}},
      {"block1/attn/qkv/b", {1, 24}},    {"block1/attn/proj/w", {8, 8}},  {"block1/attn/proj/b", {1, 8}},
      {"block1/ln2/gain", {1, 8}},       {"block1/ln2/bias", {1, 8}},     {"block1/mlp/fc/w", {8, 32}},
      {"block1/mlp/fc/b", {1, 32}},      {"block1/mlp/proj/w", {32, 8}},  {"block1/mlp/proj/b", {1, 8}}};
  REQUIRE(init.parameters().size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    CHECK(init.parameters()[k].name() == expected[k].first);
    CHECK(init.parameters()[k].shape() == expected[k].second);
  }

  // The same ops composed by hand from the block's parameters: the same bits.
  const auto p = [&](const char* name) { return named(init, std::string("block1/") + name); };
  const auto linear = [&](Node in, const char* w, const char* b) { return add(matmul(in, p(w)), p(b)); };
  Node a = linear(attention(linear(layer_norm(x, p("ln1/gain"), p("ln1/bias")), "attn/qkv/w", "attn/qkv/b"),
                            {.heads = 2, .context = 3}),
                  "attn/proj/w", "attn/proj/b");
  Node h = add(x, a);
  Node m = linear(gelu(linear(layer_norm(h, p("ln2/gain"), p("ln2/bias")), "mlp/fc/w", "mlp/fc/b")), "mlp/proj/w",
                  "mlp/proj/b");
  Node by_hand = add(h, m);
  Executor<double> ex(g, {.threads = 2});
  init.apply(ex);
  // Gains and biases away from their initial ones and zeros, so that each is used.
  for (const Node& q : init.parameters()) ex.set(q, normal_matrix(q.shape().rows, q.shape().cols, unsigned(q.id())) * 0.3);
  const auto out = ex.run({{x, normal_matrix(6, 8, 1)}}, {y, by_hand});
  CHECK(out[0] == out[1]);
  // Causal: the first row of each sequence sees itself alone, so changing
  // the later rows of a sequence leaves it as it was.
  Matrix<double> changed = normal_matrix(6, 8, 1);
  changed.row(1).setConstant(5);
  changed.row(2).setConstant(-5);
  const Matrix<double> again = ex.run({{x, changed}}, {y})[0];
  CHECK(again.row(0) == out[0].row(0));
  CHECK(again.row(3) == out[0].row(3));
  CHECK(again.row(1) != out[0].row(1));
}

namespace {

// Each recorded parameter's initial value, by name.
std::function<Matrix<double>(const std::string&)> initial_values(const nn::Init& init) {
  return [values = init.values(), &init](const std::string& name) {
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (init.parameters()[k].name() == name) return values[k];
    }
    FAIL("no parameter " << name);
    return Matrix<double>();
  };
}

}  // namespace

TEST_CASE("GPT-2's initial values: weights N(0, 0.02^2), residual projections scaled by 1/sqrt(2 layers), norms 1 and 0") {
  Graph g;
  Node x = g.input("x", {batch, 64});
  nn::Init init(8);
  nn::transformer_block(x, {.heads = 4, .context = 8, .layers = 8}, init, "b");
  const auto value = initial_values(init);
  const auto std_of = [](const Matrix<double>& m) { return std::sqrt(m.array().square().mean()); };
  CHECK(std_of(value("b/attn/qkv/w")) == doctest::Approx(0.02).epsilon(0.05));
  CHECK(std_of(value("b/mlp/fc/w")) == doctest::Approx(0.02).epsilon(0.05));
  CHECK(std_of(value("b/attn/proj/w")) == doctest::Approx(0.005).epsilon(0.08));  // 0.02 / sqrt(16)
  CHECK(std_of(value("b/mlp/proj/w")) == doctest::Approx(0.005).epsilon(0.05));
  CHECK(value("b/ln1/gain") == Matrix<double>::Ones(1, 64));
  CHECK(value("b/ln2/bias") == Matrix<double>::Zero(1, 64));
  CHECK(value("b/attn/qkv/b") == Matrix<double>::Zero(1, 192));
}

TEST_CASE("PyTorch's defaults on request: dense layers U(+-1/sqrt(fan_in)) for weights and biases alike") {
  Graph g;
  Node x = g.input("x", {batch, 64});
  nn::Init init(8);
  const nn::Initializer torch = nn::torch_linear();
  nn::transformer_block(x, {.heads = 4, .context = 8, .layers = 8, .weights = torch, .bias = torch, .residual = torch},
                        init, "b");
  const auto value = initial_values(init);
  // U(-b, b): inside the bound, and its variance b^2 / 3. A bias takes its
  // weight's fan_in (64 into qkv and fc, 256 into the MLP's projection).
  // (Not a structured binding: clang 14 cannot capture one in doctest's checks.)
  for (const auto& entry : std::vector<std::pair<std::string, double>>{
           {"b/attn/qkv/w", 64}, {"b/attn/qkv/b", 64}, {"b/mlp/fc/b", 64}, {"b/mlp/proj/w", 256},
           {"b/mlp/proj/b", 256}}) {
    const std::string& name = entry.first;
    const double fan_in = entry.second;
    const Matrix<double> v = value(name);
    const double bound = 1 / std::sqrt(fan_in);
    CHECK_MESSAGE(v.cwiseAbs().maxCoeff() <= bound, name);
    CHECK_MESSAGE(v.array().square().mean() == doctest::Approx(bound * bound / 3).epsilon(0.3), name);
  }
  CHECK(value("b/ln1/gain") == Matrix<double>::Ones(1, 64));
}

TEST_CASE("heads that do not divide the width are refused by name before anything is made") {
  Graph g;
  Node x = g.input("x", {batch, 10});
  nn::Init init(1);
  const std::size_t nodes = g.size();
  CHECK_THROWS_WITH_AS(nn::attention(x, {.heads = 3, .context = 4}, init, "attn"),
                       doctest::Contains("nn::attention 'attn'"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::transformer_block(x, {.heads = 4, .context = 4}, init, "block1"),
                       doctest::Contains("4 heads do not divide its width 10"), ShapeError);
  CHECK(g.size() == nodes);
  CHECK(init.parameters().empty());
}

TEST_CASE("layer_norm makes name/gain (ones) and name/bias (zeros) of the row's width") {
  Graph g;
  Node x = g.input("x", {batch, 5});
  nn::Init init(1);
  Node y = nn::layer_norm(x, init, "ln");
  CHECK(y.shape() == Shape{batch, 5});
  CHECK(y.name() == "ln/norm");
  REQUIRE(init.parameters().size() == 2);
  CHECK(init.parameters()[0].name() == "ln/gain");
  CHECK(init.parameters()[1].name() == "ln/bias");
  CHECK(init.values()[0] == Matrix<double>::Ones(1, 5));
  Executor<double> ex(g, {.threads = 1});
  init.apply(ex);
  const Matrix<double> out = ex.run({{x, Matrix<double>{{1, 2, 3, 4, 5}}}}, {y})[0];
  // (x - 3) / sqrt(2 + eps): mean 0, variance 2 (the biased one, as PyTorch's).
  for (int j = 0; j < 5; ++j) CHECK(out(0, j) == doctest::Approx((j + 1 - 3) / std::sqrt(2 + 1e-5)).epsilon(1e-12));
}
