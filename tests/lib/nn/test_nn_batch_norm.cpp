// nn::batch_norm: its parameters and state, values by PyTorch's formulas in
// training and inference, the running averages an optimizer step gives
// (with no gradient and no weight decay), and the running state kept by
// checkpoints and graph files, with the same bits at 1 and 2 threads.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <random>
#include <sstream>

#include "normal_matrix.hpp"
#include "temp_dir.hpp"

using namespace dagrad;
using M = Matrix<double>;

namespace {

// A classifier: dense, batch norm, tanh, dense; its executor and an SGD
// with weight decay.
template <class T>
struct Net {
  Graph g;
  Node x, y, loss;
  nn::Init init{3};
  std::unique_ptr<Executor<T>> ex;
  std::unique_ptr<nn::SGD> opt;
  explicit Net(int threads = 2) {
    x = g.input("x", {batch, 4});
    y = g.input("y", {batch, 3});
    Node h = nn::dense(x, 6, init, "fc1", {.bias = false});
    h = tanh(nn::batch_norm(h, init, "bn1"));
    loss = softmax_cross_entropy(nn::dense(h, 3, init, "out"), y);
    ex = std::make_unique<Executor<T>>(g, ExecutorOptions{.threads = threads});
    init.apply(*ex);
    opt = std::make_unique<nn::SGD>(loss, nn::SGDOptions{.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 0.5});
  }
  Matrix<T> value(const char* name) { return ex->value(*g.find(name)); }
};

struct Data {
  Matrix<float> X, Y;
};
Data data(int n) {
  const M X = normal_matrix(n, 4, 7, 1.0, 2.0);
  Data d{X.cast<float>(), Matrix<float>::Zero(n, 3)};
  for (int i = 0; i < n; ++i) d.Y(i, (X(i, 0) > 1) + (X(i, 1) > 1)) = 1;
  return d;
}

}  // namespace

TEST_CASE("nn::batch_norm makes gain and bias, learned, and the running mean and variance, kept as state") {
  Net<double> net;
  for (const char* name : {"bn1/gain", "bn1/bias", "bn1/running_mean", "bn1/running_var"}) {
    CAPTURE(name);
    REQUIRE(net.g.find(name));
    CHECK(net.g.find(name)->shape() == Shape{1, 6});
  }
  CHECK(net.value("bn1/gain") == M::Ones(1, 6));
  CHECK(net.value("bn1/running_mean") == M::Zero(1, 6));
  CHECK(net.value("bn1/running_var") == M::Ones(1, 6));
  std::vector<std::string> learned, state;
  for (const Node& p : net.opt->parameters()) learned.push_back(p.name());
  for (const Node& p : net.opt->state_parameters()) state.push_back(p.name());
  CHECK(learned == std::vector<std::string>{"fc1/w", "bn1/gain", "bn1/bias", "out/w", "out/b"});
  CHECK(state == std::vector<std::string>{"bn1/running_mean", "bn1/running_var"});
  CHECK(net.opt->state_updates()[1].op()->key() == "batch_norm_running");
  CHECK(net.g.info(net.opt->state_updates()[1].id()).scope == "bn1");
  // Trained by name, the running statistics have no gradient.
  CHECK_THROWS_WITH_AS(nn::SGD(net.loss, {}, {*net.g.find("bn1/running_var")}),
                       doctest::Contains("has no gradient with respect to its input 4 ('bn1/running_var')"),
                       GraphError);
  // A layer on rows of the wrong width names itself.
  Node wide = net.g.input("wide", {batch, 10});
  CHECK_THROWS_WITH_AS(nn::batch_norm(wide, net.init, "bn2", {.image = ImageShape{2, 2, 2}}),
                       doctest::Contains("nn::batch_norm 'bn2': input 'wide' is ?x10; its rows must be images of 8"),
                       ShapeError);
}

TEST_CASE("nn::batch_norm normalizes by the batch while training and by the running statistics at inference") {
  Graph g;
  Node x = g.input("x", {batch, 2});
  nn::Init init(1);
  Node y = nn::batch_norm(x, init, "bn", {.eps = 0.01});
  Executor<double> ex(g);
  init.apply(ex);
  ex.set(*g.find("bn/gain"), M{{2, 1}});
  ex.set(*g.find("bn/running_mean"), M{{1, -1}});
  ex.set(*g.find("bn/running_var"), M{{4, 0.25}});
  const M X{{0, 10}, {2, 20}, {4, 60}};
  const Node step = nn::training_step(g);
  const M train = ex.run({{x, X}, {step, M::Constant(1, 1, 0)}}, {y})[0];
  // Column 0: mean 2, biased variance 8/3; times gain 2.
  CHECK(train(0, 0) == doctest::Approx(-2 / std::sqrt(8.0 / 3 + 0.01) * 2));
  // Column 1: mean 30, biased variance (400 + 100 + 900) / 3.
  CHECK(train(2, 1) == doctest::Approx(30 / std::sqrt(1400.0 / 3 + 0.01)));
  const M infer = ex.run({{x, X}, {step, M::Constant(1, 1, -1)}}, {y})[0];
  CHECK(infer(1, 0) == doctest::Approx((2 - 1) / std::sqrt(4.01) * 2));
  CHECK(infer(1, 1) == doctest::Approx((20 + 1) / std::sqrt(0.26)));
}

TEST_CASE("each step moves the running statistics a tenth of the way to the batch's, untouched by weight decay") {
  Net<double> net;
  const Node fc1 = *net.g.find("fc1/w"), step = nn::training_step(net.g);
  M mean = M::Zero(1, 6), var = M::Ones(1, 6);
  for (int k = 0; k < 4; ++k) {
    const M X = normal_matrix(5, 4, 20 + k, 0.5, 1.5), Y = M::Identity(5, 3);
    // The batch the layer sees is X @ fc1/w, with the weights before this step.
    const M h = X * net.ex->value(fc1);
    const M batch_mean = h.colwise().mean();
    const M unbiased = (h.rowwise() - batch_mean.row(0)).array().square().colwise().sum() / 4.0;
    mean = 0.9 * mean + 0.1 * batch_mean;
    var = 0.9 * var + 0.1 * unbiased;
    net.opt->step(*net.ex, {{net.x, X}, {net.y, Y}, {step, M::Constant(1, 1, k)}});
    CHECK(((net.value("bn1/running_mean") - mean).array().abs() < 1e-12).all());
    CHECK(((net.value("bn1/running_var") - var).array().abs() < 1e-12).all());
  }
  CHECK(net.value("bn1/gain") != M::Ones(1, 6));  // learned meanwhile
  // At inference (step -1) a step leaves them where they are.
  net.opt->step(*net.ex, {{net.x, normal_matrix(5, 4, 30, 0, 1)}, {net.y, M::Identity(5, 3)}, {step, M::Constant(1, 1, -1)}});
  CHECK(((net.value("bn1/running_mean") - mean).array().abs() < 1e-12).all());
}

TEST_CASE("a checkpoint keeps the running statistics, and a resumed run has the bits of an uninterrupted one") {
  const Data d = data(120);
  const dagrad::testing::TempDir dir("nn_batch_norm");
  const std::string path = dir.file("bn_checkpoint");
  const nn::TrainOptions options{.epochs = 4, .batch_size = 16, .seed = 2, .validation_fraction = 0.2};
  std::ostringstream sink;
  Net<float> straight;
  nn::Trainer<float> uninterrupted(*straight.ex, *straight.opt, straight.x, straight.y, options);
  uninterrupted.set_output(&sink);
  uninterrupted.fit(Features(d.X), Features(d.Y));
  {
    Net<float> first;
    nn::TrainOptions half = options;
    half.epochs = 2;
    half.checkpoint = path;
    nn::Trainer<float> trainer(*first.ex, *first.opt, first.x, first.y, half);
    trainer.set_output(&sink);
    trainer.fit(Features(d.X), Features(d.Y));
    bool saved = false;
    for (const auto& [name, value] : load_tensors(path)) {
      if (name == "bn1/running_var") saved = value == first.value("bn1/running_var").cast<double>();
    }
    CHECK(saved);
  }
  Net<float> second(1);
  nn::Trainer<float> resumed(*second.ex, *second.opt, second.x, second.y, options);
  resumed.set_output(&sink);
  resumed.load_checkpoint(path);
  resumed.fit(Features(d.X), Features(d.Y));
  CHECK(resumed.history().loss == uninterrupted.history().loss);
  CHECK(resumed.history().validation_loss == uninterrupted.history().validation_loss);
  for (const char* name : {"bn1/running_mean", "bn1/running_var", "bn1/gain"}) {
    CAPTURE(name);
    CHECK(second.value(name) == straight.value(name));
  }
  CHECK(straight.value("bn1/running_var") != Matrix<float>::Ones(1, 6));
}

TEST_CASE("training with batch norm gives the same bits at 1 and 2 threads") {
  const Data d = data(200);
  std::vector<std::vector<double>> losses;
  std::vector<Matrix<float>> running;
  for (int threads : {1, 2}) {
    Net<float> net(threads);
    nn::Trainer<float> trainer(*net.ex, *net.opt, net.x, net.y, {.epochs = 3, .batch_size = 32, .seed = 4});
    std::ostringstream sink;
    trainer.set_output(&sink);
    losses.push_back(trainer.fit(Features(d.X), Features(d.Y)).loss);
    running.push_back(net.value("bn1/running_var"));
  }
  CHECK(losses[0] == losses[1]);
  CHECK(running[0] == running[1]);
}

TEST_CASE("a graph file keeps the running statistics, and the loaded graph infers as the saved one") {
  Net<double> net;
  const Node step = nn::training_step(net.g);
  for (int k = 0; k < 3; ++k) {
    net.opt->step(*net.ex, {{net.x, normal_matrix(8, 4, 40 + k, 0, 1)}, {net.y, M::Identity(8, 3)}, {step, M::Constant(1, 1, k)}});
  }
  const dagrad::testing::TempDir dir("nn_batch_norm");
  const std::string path = dir.file("bn.dagradg");
  save_graph(*net.ex, path);
  const LoadedGraph loaded = load_graph(path);
  Executor<double> ex(*loaded.graph);
  loaded.set_parameters(ex);
  for (const char* name : {"bn1/running_mean", "bn1/running_var"}) {
    CAPTURE(name);
    CHECK(ex.value(*loaded.graph->find(name)) == net.value(name));
  }
  const M X = normal_matrix(3, 4, 50, 0, 1), Y = M::Identity(3, 3);
  const double saved = net.ex->run({{net.x, X}, {net.y, Y}, {step, M::Constant(1, 1, -1)}}, {net.loss})[0](0, 0);
  Graph& g = *loaded.graph;
  const double again = ex.run({{*g.find("x"), X}, {*g.find("y"), Y}, {*g.find("training_step"), M::Constant(1, 1, -1)}},
                              {*g.find(net.loss.name())})[0](0, 0);
  CHECK(again == saved);
  // An optimizer on the loaded graph finds the state again.
  nn::SGD opt(*g.find(net.loss.name()));
  CHECK(opt.state_parameters().size() == 2);
  CHECK(opt.parameters().size() == 5);
}
