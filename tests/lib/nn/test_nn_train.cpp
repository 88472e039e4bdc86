#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "contains.hpp"
#include "temp_dir.hpp"
#include "thrown.hpp"

using namespace dagrad;

namespace {

// Three noisy Gaussian blobs in `features` dimensions, one-hot labels.
struct Blobs {
  Matrix<float> X, Y;
};
Blobs blobs(int n, int features, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1.5f);
  Blobs b{Matrix<float>(n, features), Matrix<float>::Zero(n, 3)};
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    for (int j = 0; j < features; ++j) b.X(i, j) = (j % 3 == c ? 1.0f : 0.0f) + noise(rng);
    b.Y(i, c) = 1;
  }
  return b;
}

// A classifier with one hidden layer, its executor and an optimizer: all a
// run needs, built afresh as a resumed process would.
template <class T>
struct Net {
  Graph g;
  Node x, y, loss;
  nn::Init init{5};
  std::unique_ptr<Executor<T>> ex;
  std::unique_ptr<nn::Optimizer> opt;
  Net(int features, int hidden, int threads = 2, bool sgd = false) {
    x = g.input("x", {batch, features});
    y = g.input("y", {batch, 3});
    Node h = nn::dense(x, hidden, init, "hidden", {.activation = nn::Activation::tanh});
    loss = softmax_cross_entropy(nn::dense(h, 3, init, "out"), y);
    ex = std::make_unique<Executor<T>>(g, ExecutorOptions{.threads = threads});
    init.apply(*ex);
    if (sgd) {
      opt = std::make_unique<nn::SGD>(loss, nn::SGDOptions{.learning_rate = 0.05, .momentum = 0.9,
                                                           .nesterov = true,
                                                           .schedule = nn::inverse_scaling(0.5)});
    } else {
      opt = std::make_unique<nn::Adam>(
          loss, nn::AdamOptions{.learning_rate = 1e-2,
                                .schedule = nn::exponential_decay(0.999, nn::Schedule::Unit::step),
                                .clip_norm = 1.0});
    }
  }
  nn::Trainer<T> trainer(nn::TrainOptions options) {
    nn::Trainer<T> t(*ex, *opt, x, y, std::move(options));
    static std::ostringstream sink;
    t.set_output(&sink);
    return t;
  }
};

// One softmax layer on three blobs, its executor set: for the stopping rules.
struct OneLayer {
  Blobs data = blobs(60, 6, 6);
  Graph g;
  nn::Init init{1};
  Node x = g.input("x", {batch, 6}), y = g.input("y", {batch, 3});
  Node loss = softmax_cross_entropy(nn::dense(x, 3, init, "out"), y);
  Executor<double> ex{g};
  OneLayer() { init.apply(ex); }
};

}  // namespace

TEST_CASE("a small network learns XOR") {
  Matrix<double> X(4, 2), Y(4, 2);
  X << 0, 0, 0, 1, 1, 0, 1, 1;
  Y << 1, 0, 0, 1, 0, 1, 1, 0;
  Graph g;
  nn::Init init(1);
  Node x = g.input("x", {batch, 2}), y = g.input("y", {batch, 2});
  Node h = nn::dense(x, 8, init, "hidden", {.activation = nn::Activation::tanh});
  Node logits = nn::dense(h, 2, init, "out");
  Node loss = softmax_cross_entropy(logits, y);
  Executor<double> ex(g, {.threads = 1});
  init.apply(ex);
  nn::Adam opt(loss, {.learning_rate = 0.05});
  const nn::History history = nn::fit(ex, opt, x, y, Features(X), Features(Y), {.epochs = 300, .batch_size = 4});
  REQUIRE(history.epochs() == 300);
  CHECK(history.loss.front() > 0.5);
  CHECK(history.loss.back() < 0.05);
  const Matrix<double> out = ex.run({{x, X}}, {logits})[0];
  for (int r = 0; r < 4; ++r) {
    Eigen::Index best;
    out.row(r).maxCoeff(&best);
    CHECK(best == (r == 1 || r == 2 ? 1 : 0));
  }
}

TEST_CASE("the same seed gives the same bits at 1, 2 and 8 threads") {
  const Blobs data = blobs(600, 20, 1);
  std::vector<std::vector<double>> losses;
  std::vector<Matrix<float>> weights;
  for (int threads : {1, 2, 8}) {
    // 20 x 2000 hidden weights: updates cut into blocks shared by the threads.
    Net<float> net(20, 2000, threads);
    auto trainer = net.trainer({.epochs = 3, .batch_size = 100, .seed = 4, .validation_fraction = 0.2});
    trainer.fit(Features(data.X), Features(data.Y));
    losses.push_back(trainer.history().loss);
    losses.back().insert(losses.back().end(), trainer.history().validation_loss.begin(),
                         trainer.history().validation_loss.end());
    weights.push_back(net.ex->value(*net.g.find("hidden/w")));
  }
  REQUIRE(losses[0].size() == 6);
  CHECK(losses[0] == losses[1]);
  CHECK(losses[0] == losses[2]);
  CHECK(weights[0] == weights[1]);
  CHECK(weights[0] == weights[2]);
  CHECK(losses[0][2] < losses[0][0]);
}

TEST_CASE("another seed shuffles otherwise") {
  const Blobs data = blobs(300, 6, 2);
  std::vector<double> first;
  for (std::uint32_t seed : {1u, 2u}) {
    Net<float> net(6, 16);
    auto trainer = net.trainer({.epochs = 2, .batch_size = 32, .seed = seed});
    trainer.fit(Features(data.X), Features(data.Y));
    if (first.empty()) {
      first = trainer.history().loss;
    } else {
      CHECK(trainer.history().loss != first);
    }
  }
}

TEST_CASE("training resumed from a checkpoint continues with the bits of an uninterrupted run") {
  const Blobs data = blobs(300, 6, 3);
  const dagrad::testing::TempDir dir("nn_train");
  for (bool sgd : {false, true}) {
    const std::string path = dir.file(sgd ? "resume_sgd" : "resume_adam");
    const nn::TrainOptions options{.epochs = 6, .batch_size = 32, .seed = 9, .validation_fraction = 0.1};

    Net<float> straight(6, 16, 2, sgd);
    auto uninterrupted = straight.trainer(options);
    uninterrupted.fit(Features(data.X), Features(data.Y));

    {
      Net<float> first(6, 16, 2, sgd);
      nn::TrainOptions half = options;
      half.epochs = 3;
      half.checkpoint = path;
      auto trainer = first.trainer(half);
      trainer.fit(Features(data.X), Features(data.Y));
    }
    Net<float> second(6, 16, 1, sgd);  // a new process, another thread count
    nn::TrainOptions rest = options;
    rest.seed = 12345;  // the checkpoint's seed takes over
    auto resumed = second.trainer(rest);
    resumed.load_checkpoint(path);
    CHECK(resumed.epochs_done() == 3);
    resumed.fit(Features(data.X), Features(data.Y));

    CHECK(resumed.history().loss == uninterrupted.history().loss);
    CHECK(resumed.history().validation_loss == uninterrupted.history().validation_loss);
    for (const char* name : {"hidden/w", "hidden/b", "out/w", "out/b"}) {
      CHECK(second.ex->value(*second.g.find(name)) == straight.ex->value(*straight.g.find(name)));
    }
    CHECK(second.opt->steps() == straight.opt->steps());
  }
}

TEST_CASE("a checkpoint of another network is refused, naming the parameter and both shapes") {
  const Blobs data = blobs(90, 6, 4);
  const dagrad::testing::TempDir dir("nn_train");
  const std::string path = dir.file("other_network");
  {
    Net<float> net(6, 16);
    auto trainer = net.trainer({.epochs = 1, .batch_size = 30, .checkpoint = path});
    trainer.fit(Features(data.X), Features(data.Y));
  }
  Net<float> wider(6, 24);
  const Matrix<float> before = wider.ex->value(*wider.g.find("hidden/w"));
  auto trainer = wider.trainer({});
  const std::string what = thrown<DataError>([&] { trainer.load_checkpoint(path); });
  check_contains(what, {path, "parameter 'hidden/w' is 6x16 in the checkpoint but 6x24 in this network"});
  CHECK(wider.ex->value(*wider.g.find("hidden/w")) == before);
  CHECK(trainer.epochs_done() == 0);

  // An SGD run cannot resume from Adam's state.
  Net<float> same(6, 16, 2, /*sgd=*/true);
  auto sgd_trainer = same.trainer({});
  CHECK_THROWS_WITH_AS(sgd_trainer.load_checkpoint(path), doctest::Contains("'state:sgd/steps'"), DataError);
  CHECK(sgd_trainer.epochs_done() == 0);
}

TEST_CASE("verbose lines and the progress callback report every epoch and batch") {
  const Blobs data = blobs(100, 6, 5);
  Net<double> net(6, 8);
  auto trainer = net.trainer({.epochs = 2, .batch_size = 30, .verbose = 1});
  std::ostringstream out;
  trainer.set_output(&out);
  std::vector<nn::TrainProgress> calls;
  trainer.set_progress([&](const nn::TrainProgress& p) { calls.push_back(p); });
  trainer.fit(Features(data.X), Features(data.Y));
  char expected[80];
  std::snprintf(expected, sizeof expected, "Epoch 1, loss = %.8f\nEpoch 2, loss = %.8f\n",
                trainer.history().loss[0], trainer.history().loss[1]);
  CHECK(out.str() == expected);
  REQUIRE(calls.size() == 8);  // 4 batches (30, 30, 30, 10) in each of 2 epochs
  CHECK(calls[0].epoch == 1);
  CHECK(calls[0].samples_done == 30);
  CHECK(calls[3].samples_done == 100);
  CHECK(calls[7].epoch == 2);
  CHECK(calls[7].samples_total == 100);
}

TEST_CASE("early stopping stops after `patience` epochs without improvement") {
  OneLayer net;
  nn::SGD frozen(net.loss, {.learning_rate = 0});  // the loss never falls
  nn::Trainer<double> trainer(net.ex, frozen, net.x, net.y,
                              {.epochs = 50, .batch_size = 20, .early_stopping = true, .patience = 3, .verbose = 1});
  std::ostringstream out;
  trainer.set_output(&out);
  trainer.fit(Features(net.data.X), Features(net.data.Y));
  CHECK(trainer.history().stopped_early);
  CHECK(trainer.epochs_done() == 4);  // the first epoch sets the best; three more do not beat it
  CHECK(contains(out.str(), "Training loss did not improve more than tol=0.000100 for 3 consecutive epochs. Stopping."));
  // A stopped run stays stopped.
  trainer.fit(Features(net.data.X), Features(net.data.Y));
  CHECK(trainer.epochs_done() == 4);
}

TEST_CASE("with an adaptive schedule, early stopping lowers the rate at each plateau and stops once it is too small") {
  OneLayer net;
  // A tolerance no epoch can beat: every 2 epochs are a plateau. 0.1 is
  // divided by 5 twice (0.004 <= 0.005), then training stops.
  nn::SGD opt(net.loss, {.learning_rate = 0.1, .schedule = nn::adaptive(5, 0.005)});
  nn::Trainer<double> trainer(net.ex, opt, net.x, net.y,
                              {.epochs = 50, .batch_size = 20, .early_stopping = true, .patience = 2, .tol = 1e9,
                               .verbose = 1});
  std::ostringstream out;
  trainer.set_output(&out);
  trainer.fit(Features(net.data.X), Features(net.data.Y));
  CHECK(trainer.history().stopped_early);
  CHECK(trainer.epochs_done() == 7);  // the first sets the best; then three plateaus of 2
  CHECK(opt.learning_rate() == 0.1 / 5 / 5);
  const std::string stalled = "Training loss did not improve more than tol=1000000000.000000 for 2 consecutive epochs.";
  check_contains(out.str(), {stalled + " Setting learning rate to 0.020000\n",
                             stalled + " Setting learning rate to 0.004000\n", stalled + " Stopping.\n"});
}

TEST_CASE("early stopping on validation data ends with the best epoch's parameters") {
  const Blobs train = blobs(90, 6, 7), val = blobs(60, 6, 8);
  Net<double> net(6, 16);
  // A tolerance no epoch can beat: training stops after `patience` epochs.
  auto trainer = net.trainer({.epochs = 20, .batch_size = 30, .early_stopping = true, .patience = 3, .tol = 1e9});
  trainer.fit(Features(train.X), Features(train.Y), Features(val.X), Features(val.Y));
  REQUIRE(trainer.epochs_done() == 4);
  const auto& v = trainer.history().validation_loss;
  REQUIRE(v.size() == 4);
  const double best = *std::min_element(v.begin(), v.end());
  CHECK(best < v.front());
  CHECK(trainer.evaluate(Features(val.X), Features(val.Y)) == best);
}

TEST_CASE("evaluate gives the mean loss over all rows without training") {
  const Blobs data = blobs(50, 6, 9);
  Net<double> net(6, 8);
  auto trainer = net.trainer({.batch_size = 16});
  const Matrix<double> before = net.ex->value(*net.g.find("out/w"));
  const double loss = trainer.evaluate(Features(data.X), Features(data.Y));
  const double whole = net.ex->run({{net.x, data.X.cast<double>()}, {net.y, data.Y.cast<double>()}}, {net.loss})[0](0, 0);
  CHECK(loss == doctest::Approx(whole).epsilon(1e-12));
  CHECK(net.ex->value(*net.g.find("out/w")) == before);
}

TEST_CASE("bad data and settings are errors that say what is wrong") {
  const Blobs data = blobs(30, 6, 10);
  Net<float> net(6, 8);
  auto trainer = net.trainer({});
  const Matrix<float> short_Y = data.Y.topRows(20), narrow_X = data.X.leftCols(5);
  CHECK_THROWS_WITH_AS(trainer.fit(Features(data.X), Features(short_Y)),
                       doctest::Contains("X has 30 rows but Y has 20"), ShapeError);
  CHECK_THROWS_WITH_AS(trainer.fit(Features(narrow_X), Features(data.Y)),
                       doctest::Contains("X has 5 columns but input 'x' is ?x6"), ShapeError);
  CHECK_THROWS_WITH(net.trainer({.batch_size = 0}), doctest::Contains("batch_size"));
  CHECK_THROWS_WITH(net.trainer({.validation_fraction = 1.0}), doctest::Contains("validation_fraction 1.000"));
  CHECK_THROWS_WITH(nn::Trainer<float>(*net.ex, *net.opt, net.x, net.loss, {}),
                    doctest::Contains("x and y must be inputs"));
  Node fixed = net.g.input("fixed", {30, 6});
  CHECK_THROWS_WITH(nn::Trainer<float>(*net.ex, *net.opt, fixed, net.y, {}), doctest::Contains("must be open"));
  CHECK_THROWS_WITH_AS(trainer.load_checkpoint("/nonexistent/dagrad/missing.ckpt"), doctest::Contains("cannot open"), DataError);
}

// loss = Σ (x w)² over a batch of one-column rows x, w = 1 at first,
// trained by SGD at `rate`: the run_batches tests' network.
struct Squares {
  Graph g;
  Node x = g.input("x", {batch, 1});
  Node w = g.parameter("w", {1, 1});
  Node loss = sum_squares(matmul(x, w));
  Executor<double> ex;
  nn::SGD opt;
  explicit Squares(double rate, bool check_numerics = false)
      : ex(g, {.threads = 2, .check_numerics = check_numerics}), opt(loss, {.learning_rate = rate}) {
    ex.set(w, Matrix<double>::Constant(1, 1, 1.0));
  }
};

TEST_CASE("run_batches: rows in the order given, batch by batch, the mean loss weighted by rows, errors placed") {
  // Learning rate 0: a batch's loss stays the sum of its x².
  Squares net(0, true);
  Executor<double>& ex = net.ex;
  nn::SGD& opt = net.opt;
  const Node x = net.x;
  std::vector<double> value{1, 2, 3, 4, 5, 6, 7};
  const std::vector<std::size_t> rows{6, 0, 5, 1, 4, 2, 3};
  std::vector<std::vector<std::size_t>> fed;
  std::vector<std::size_t> done;
  auto feed = [&](std::span<const std::size_t> batch_rows) {
    fed.emplace_back(batch_rows.begin(), batch_rows.end());
    Matrix<double>& in = ex.input(x);
    in.resize(static_cast<Eigen::Index>(batch_rows.size()), 1);
    for (std::size_t r = 0; r < batch_rows.size(); ++r) in(Eigen::Index(r), 0) = value[batch_rows[r]];
  };
  const double mean = nn::run_batches<double>(ex, opt, rows, {.who = "test", .epoch = 3, .batch_size = 3}, feed,
                                              [&](std::size_t n) { done.push_back(n); });
  CHECK(fed == std::vector<std::vector<std::size_t>>{{6, 0, 5}, {1, 4, 2}, {3}});
  CHECK(done == std::vector<std::size_t>{3, 6, 7});
  // Batch losses 49+1+36, 4+25+9, 16; each weighted by its rows, over 7 rows.
  CHECK(mean == doctest::Approx((86.0 * 3 + 38.0 * 3 + 16.0 * 1) / 7).epsilon(1e-15));

  value[4] = std::nan("");  // row 4 is in the second batch
  try {
    nn::run_batches<double>(ex, opt, rows, {.who = "test", .epoch = 3, .batch_size = 3}, feed);
    FAIL("a NaN passed check_numerics");
  } catch (const ExecutionError& e) {
    CHECK(contains(e.what(), "test: epoch 3, batch 2 of 3: "));
  }
}

TEST_CASE("run_batches' read_ahead: the next batch's rows after a step's backward, before its update") {
  // Learning rate 0.01: each update moves w, so read_ahead can tell
  // whether the update it precedes has happened.
  Squares net(0.01);
  Executor<double>& ex = net.ex;
  nn::SGD& opt = net.opt;
  const Node x = net.x, w = net.w;
  const std::vector<std::size_t> rows{6, 0, 5, 1, 4, 2, 3};
  std::vector<std::vector<std::size_t>> fed, read;
  std::vector<double> w_fed, w_read;  // w when each was called
  std::vector<std::uint64_t> steps_read;
  auto feed = [&](std::span<const std::size_t> batch_rows) {
    fed.emplace_back(batch_rows.begin(), batch_rows.end());
    w_fed.push_back(ex.value(w)(0, 0));
    Matrix<double>& in = ex.input(x);
    in.resize(static_cast<Eigen::Index>(batch_rows.size()), 1);
    for (std::size_t r = 0; r < batch_rows.size(); ++r) in(Eigen::Index(r), 0) = double(batch_rows[r] + 1);
  };
  nn::BatchLoop loop{.who = "test", .batch_size = 3};
  loop.read_ahead = [&](std::span<const std::size_t> next) {
    read.emplace_back(next.begin(), next.end());
    w_read.push_back(ex.value(w)(0, 0));
    steps_read.push_back(opt.steps());
  };
  nn::run_batches<double>(ex, opt, rows, loop, feed);
  // Every batch is fed; the next one's rows are read ahead after each step but the last.
  CHECK(fed == std::vector<std::vector<std::size_t>>{{6, 0, 5}, {1, 4, 2}, {3}});
  CHECK(read == std::vector<std::vector<std::size_t>>{{1, 4, 2}, {3}});
  // Before the update: w is still what the step's feed saw, and the step not yet counted.
  REQUIRE(w_read.size() == 2);
  CHECK(w_read[0] == w_fed[0]);
  CHECK(w_read[1] == w_fed[1]);
  CHECK(w_fed[1] != w_fed[0]);
  CHECK(steps_read == std::vector<std::uint64_t>{0, 1});
}

TEST_CASE("run_batches with shards: each shard fed its own rows, the loss their rows-weighted sum") {
  // The loss of a shard is the sum of its x² (learning rate 0): the batch
  // of 7 rows in 3 shards is rows {6, 0}, {5, 1}, {4, 2, 3}.
  Squares net(0);
  Executor<double>& ex = net.ex;
  nn::SGD& opt = net.opt;
  const Node x = net.x;
  const std::vector<double> value{1, 2, 3, 4, 5, 6, 7};
  const std::vector<std::size_t> rows{6, 0, 5, 1, 4, 2, 3};
  std::vector<std::vector<std::size_t>> fed;
  auto feed = [&](std::span<const std::size_t> batch_rows) {
    fed.emplace_back(batch_rows.begin(), batch_rows.end());
    Matrix<double>& in = ex.input(x);
    in.resize(static_cast<Eigen::Index>(batch_rows.size()), 1);
    for (std::size_t r = 0; r < batch_rows.size(); ++r) in(Eigen::Index(r), 0) = value[batch_rows[r]];
  };
  const double mean = nn::run_batches<double>(ex, opt, rows, {.who = "test", .batch_size = 7, .shards = 3}, feed);
  CHECK(fed == std::vector<std::vector<std::size_t>>{{6, 0}, {5, 1}, {4, 2, 3}});
  // Shard losses 49+1, 36+4, 25+9+16, weighted 2/7, 2/7, 3/7; one batch of 7 rows.
  CHECK(mean == doctest::Approx(2.0 / 7 * 50 + 2.0 / 7 * 40 + 3.0 / 7 * 50).epsilon(1e-15));
}

TEST_CASE("shards: a step takes the rows-weighted sum of the shards' gradients, in shard order") {
  // 7 rows in one batch, 3 shards: rows [0, 2), [2, 4), [4, 7).
  Graph g;
  Node x = g.input("x", {batch, 3});
  Node y = g.input("y", {batch, 1});
  nn::Init init(2);
  Node loss = mse_loss(nn::dense(x, 1, init, "out", {.activation = nn::Activation::tanh}), y);
  Matrix<double> X(7, 3), Y(7, 1);
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 3; ++j) X(i, j) = std::sin(1.7 * i + 0.9 * j);
    Y(i, 0) = std::cos(0.8 * i);
  }
  const double lr = 0.1;

  // By hand: each shard's gradients on its own, then sum (n_s / 7) g_s in order.
  Executor<double> by_hand(g, {.threads = 1});
  init.apply(by_hand);
  nn::SGD reference(loss, {.learning_rate = lr});
  const std::vector<Node> params = reference.parameters(), grads = reference.gradients();
  std::vector<Matrix<double>> expected;
  for (const Node& p : params) expected.push_back(by_hand.value(p));
  std::vector<Matrix<double>> sum(params.size());
  const int bounds[] = {0, 2, 4, 7};
  for (int s = 0; s < 3; ++s) {
    const int lo = bounds[s], rows = bounds[s + 1] - lo;
    const std::vector<Matrix<double>> out =
        by_hand.run({{x, X.middleRows(lo, rows)}, {y, Y.middleRows(lo, rows)}}, grads);
    for (std::size_t k = 0; k < params.size(); ++k) {
      const Matrix<double> weighted = (double(rows) / 7.0) * out[k];
      sum[k] = s == 0 ? weighted : Matrix<double>(sum[k] + weighted);
    }
  }
  for (std::size_t k = 0; k < params.size(); ++k) expected[k] -= lr * sum[k];

  Executor<double> ex(g, {.threads = 2});
  init.apply(ex);
  nn::SGD sgd(loss, {.learning_rate = lr});
  nn::fit(ex, sgd, x, y, Features(X), Features(Y), {.epochs = 1, .batch_size = 7, .shuffle = false, .shards = 3});
  for (std::size_t k = 0; k < params.size(); ++k) {
    CAPTURE(params[k].name());
    const Matrix<double>& got = ex.value(params[k]);
    for (Eigen::Index i = 0; i < got.size(); ++i) {
      CHECK(got.data()[i] == doctest::Approx(expected[k].data()[i]).epsilon(1e-15));
    }
  }
}

TEST_CASE("shards: the same losses at any thread count, near the unsharded ones; empty shards are skipped") {
  const Blobs b = blobs(90, 6, 3);
  const Matrix<double> X = b.X.cast<double>(), Y = b.Y.cast<double>();
  auto run = [&](int threads, int shards, std::size_t batch_size) {
    Net<double> net(6, 8, threads);
    return nn::fit(*net.ex, *net.opt, net.x, net.y, Features(X), Features(Y),
                   {.epochs = 4, .batch_size = batch_size, .seed = 7, .shards = shards})
        .loss;
  };
  const std::vector<double> one = run(1, 3, 16), two = run(2, 3, 16), whole = run(2, 1, 16);
  CHECK(one == two);
  REQUIRE(one.size() == whole.size());
  for (std::size_t e = 0; e < one.size(); ++e) CHECK(one[e] == doctest::Approx(whole[e]).epsilon(1e-12));
  CHECK(one.back() < one.front());
  // Batches of 2 rows in 4 shards: shards 1 and 3 hold a row each, 0 and 2
  // none, which is 2 shards of one row.
  CHECK(run(2, 4, 2) == run(2, 2, 2));
}

TEST_CASE("shards below 1 are refused, naming the option") {
  Net<float> net(4, 3);
  const Blobs b = blobs(12, 4, 1);
  std::string what;
  try {
    nn::fit(*net.ex, *net.opt, net.x, net.y, Features(b.X), Features(b.Y), {.epochs = 1, .shards = 0});
  } catch (const Error& e) {
    what = e.what();
  }
  CHECK(contains(what, "shards must be at least 1, not 0"));
}

TEST_CASE("a checkpoint edited to hold values no run writes, or names no run writes, is refused and changes nothing") {
  const Blobs data = blobs(90, 6, 4);
  const dagrad::testing::TempDir dir("nn_train");
  const std::string path = dir.file("good"), bad = dir.file("edited");
  {
    Net<double> net(6, 16);
    auto trainer = net.trainer({.epochs = 2, .batch_size = 30, .checkpoint = path});
    trainer.fit(Features(data.X), Features(data.Y));
  }
  const auto good = load_tensors(path);
  // The checkpoint with `name` set to `value` (added if absent): what loading it says.
  auto refused = [&](const std::string& name, const Matrix<double>& value) {
    auto edited = good;
    auto it = std::find_if(edited.begin(), edited.end(), [&](const auto& t) { return t.first == name; });
    if (it == edited.end()) {
      edited.emplace_back(name, value);
    } else {
      it->second = value;
    }
    save_tensors(edited, bad);
    Net<double> net(6, 16);
    const Matrix<double> before = net.ex->value(*net.g.find("hidden/w"));
    auto trainer = net.trainer({});
    try {
      trainer.load_checkpoint(bad);
    } catch (const DataError& e) {
      CHECK(net.ex->value(*net.g.find("hidden/w")) == before);
      CHECK(trainer.epochs_done() == 0);
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  auto one = [](double v) { return Matrix<double>::Constant(1, 1, v); };
  CHECK(refused("state:train/epochs_done", one(2)) == "loaded");
  CHECK(refused("state:adam/m/ghost", Matrix<double>::Zero(6, 16)) ==
        bad + ": holds state 'state:adam/m/ghost', which a checkpoint of this network and nn::adam never holds");
  CHECK(refused("ghost", one(0)) == bad + ": holds parameter 'ghost' (1x1), which this network does not train");
  Matrix<double> w = Matrix<double>::Zero(6, 16);
  w(0, 1) = std::nan("");
  CHECK(refused("hidden/w", w) == bad + ": parameter 'hidden/w' holds a value that is not finite at row 0, column 1");
  w(0, 1) = -1;
  CHECK(refused("state:adam/v/hidden/w", w) ==
        bad + ": nn::adam: 'state:adam/v/hidden/w' holds -1 at row 0, column 1, not a finite mean of squares");
  CHECK(refused("state:adam/learning_rate", one(INFINITY)) ==
        bad + ": nn::adam: 'state:adam/learning_rate' is inf; it must be finite and at least 0");
  CHECK(refused("state:train/stopped_early", one(2)) ==
        bad + ": 'state:train/stopped_early' is 2.0, not a count up to 1");
  CHECK(refused("state:train/no_improvement", one(3)) ==
        bad + ": 'state:train/no_improvement' is 3.0, not a count up to 2");
  CHECK(refused("state:train/best", one(std::nan(""))) == bad + ": 'state:train/best' is not a number");
  // A metric's history must have one value an epoch; any name loads.
  CHECK(refused("state:train/metric/accuracy", Matrix<double>::Zero(1, 3)) ==
        bad + ": metric 'state:train/metric/accuracy' is 1x3 in the checkpoint but 1x2 in this network");
  CHECK(refused("state:train/metric/\xff\xfe not UTF-8", Matrix<double>::Zero(1, 2)) == "loaded");
}

namespace {

// The share of `rows` of X whose largest output is Y's class.
double accuracy(Net<float>& net, Node logits, const Features& X, const Features& Y,
                std::span<const std::size_t> rows) {
  Matrix<float> x, y;
  X.gather(rows, x);
  Y.gather(rows, y);
  const Matrix<float> out = net.ex->run({{net.x, x}}, {logits})[0];
  std::size_t right = 0;
  for (Eigen::Index r = 0; r < out.rows(); ++r) {
    Eigen::Index want = 0, got = 0;
    y.row(r).maxCoeff(&want);
    out.row(r).maxCoeff(&got);
    right += want == got;
  }
  return double(right) / double(out.rows());
}

}  // namespace

TEST_CASE("metrics: a program scores each epoch on the held-out rows; kept, printed and resumed") {
  const Blobs data = blobs(300, 6, 4);
  const dagrad::testing::TempDir dir("nn_train");
  const std::string path = dir.file("metrics");
  const nn::TrainOptions options{.epochs = 4, .batch_size = 32, .seed = 3, .validation_fraction = 0.2, .verbose = 1};
  std::vector<std::vector<std::size_t>> seen_rows;
  auto with_metrics = [&](Net<float>& net, nn::Trainer<float>& t) {
    const Node logits = net.loss.input(0);
    t.set_metrics([&net, logits, &seen_rows](const nn::EpochEnd& e) {
      REQUIRE(e.X_val != nullptr);
      REQUIRE(e.validation_loss.has_value());
      seen_rows.emplace_back(e.validation_rows.begin(), e.validation_rows.end());
      return nn::Metrics{{"validation accuracy", accuracy(net, logits, *e.X_val, *e.Y_val, e.validation_rows)},
                         {"epoch squared", double(e.epoch * e.epoch)}};
    });
  };

  Net<float> straight(6, 16);
  auto t = straight.trainer(options);
  std::ostringstream out;
  t.set_output(&out);
  with_metrics(straight, t);
  const nn::History& h = t.fit(Features(data.X), Features(data.Y));
  // 60 of 300 rows held out, drawn from the seed, the same every epoch.
  REQUIRE(t.held_out_rows().size() == 60);
  CHECK(std::is_sorted(t.held_out_rows().begin(), t.held_out_rows().end()));
  REQUIRE(seen_rows.size() == 4);
  for (const auto& rows : seen_rows) CHECK(rows == t.held_out_rows());
  REQUIRE(h.metrics.size() == 2);
  CHECK(h.metrics.at("epoch squared") == std::vector<double>{1, 4, 9, 16});
  const std::vector<double>& acc = h.metrics.at("validation accuracy");
  REQUIRE(acc.size() == 4);
  CHECK(acc.back() > 0.6);  // three blobs: chance is a third
  check_contains(out.str(), {"Epoch 4, loss = ", "Validation accuracy: ", "Epoch squared: 16.00000000\n"});

  // Resumed from epoch 2: the metrics of epochs 1-2 come from the checkpoint.
  {
    Net<float> first(6, 16);
    nn::TrainOptions half = options;
    half.epochs = 2;
    half.checkpoint = path;
    auto t1 = first.trainer(half);
    with_metrics(first, t1);
    t1.fit(Features(data.X), Features(data.Y));
  }
  Net<float> second(6, 16, 1);
  auto t2 = second.trainer(options);
  with_metrics(second, t2);
  t2.load_checkpoint(path);
  CHECK(t2.history().metrics.at("epoch squared") == std::vector<double>{1, 4});
  t2.fit(Features(data.X), Features(data.Y));
  CHECK(t2.history().metrics == h.metrics);
  CHECK(t2.history().loss == h.loss);

  // Given validation data, no rows are held out of X.
  Net<float> given(6, 16);
  auto t3 = given.trainer({.epochs = 1, .batch_size = 32, .seed = 3});
  with_metrics(given, t3);
  const Blobs val = blobs(30, 6, 5);
  t3.fit(Features(data.X), Features(data.Y), Features(val.X), Features(val.Y));
  CHECK(t3.held_out_rows().empty());
  CHECK(seen_rows.back().size() == 30);
}

TEST_CASE("metrics: a name missing at some epoch, added late, repeated or empty is refused") {
  const Blobs data = blobs(60, 6, 4);
  const std::vector<std::pair<nn::Metrics, std::string>> cases{
      {{{"", 1.0}}, "empty name"},
      {{{"a", 1.0}, {"a", 2.0}}, "metric 'a' is returned twice at epoch 1"},
  };
  for (const auto& one : cases) {
    const nn::Metrics metrics = one.first;
    const std::string message = one.second;
    CAPTURE(message);
    Net<float> net(6, 8);
    auto t = net.trainer({.epochs = 1, .batch_size = 32});
    t.set_metrics([metrics](const nn::EpochEnd&) { return metrics; });
    CHECK_THROWS_WITH_AS(t.fit(Features(data.X), Features(data.Y)), doctest::Contains(message.c_str()), Error);
  }
  Net<float> late(6, 8);
  auto t = late.trainer({.epochs = 2, .batch_size = 32});
  t.set_metrics([](const nn::EpochEnd& e) { return e.epoch == 1 ? nn::Metrics{} : nn::Metrics{{"late", 1.0}}; });
  CHECK_THROWS_WITH_AS(t.fit(Features(data.X), Features(data.Y)),
                       doctest::Contains("metric 'late' is returned at epoch 2 but not at every epoch before it"),
                       Error);
  Net<float> gone(6, 8);
  auto t2 = gone.trainer({.epochs = 2, .batch_size = 32});
  t2.set_metrics([](const nn::EpochEnd& e) { return e.epoch == 2 ? nn::Metrics{} : nn::Metrics{{"gone", 1.0}}; });
  CHECK_THROWS_WITH_AS(t2.fit(Features(data.X), Features(data.Y)),
                       doctest::Contains("metric 'gone' was returned before epoch 2 but not at it"), Error);
}
