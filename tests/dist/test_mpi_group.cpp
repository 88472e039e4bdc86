// dist::MpiGroup under a real mpirun (tests/dist/meson.build starts it with
// 2, 3 and 5 ranks): all_gather's contract, and a Trainer or an MLPClassifier
// given the group taking the very steps of `shards = size` in one process.
// Every rank runs every test case, so the collective calls match up.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/dist/mpi_group.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <unistd.h>

#include "mpi_main.hpp"

using namespace dagrad;

namespace {

dist::MpiGroup* world = nullptr;

// A regression problem the test makes itself: 45 rows of 5 features.
struct Data {
  Matrix<double> X, Y;
};
Data make_data() {
  Data d{Matrix<double>(45, 5), Matrix<double>(45, 2)};
  for (int i = 0; i < 45; ++i) {
    for (int j = 0; j < 5; ++j) d.X(i, j) = std::sin(0.37 * i + 1.3 * j);
    d.Y(i, 0) = std::cos(0.21 * i);
    d.Y(i, 1) = d.X(i, 0) * d.X(i, 3);
  }
  return d;
}

// A 5-8-2 tanh network trained on the data with Adam; returns each epoch's
// loss and the final parameters.
template <class T>
struct Outcome {
  std::vector<double> loss;
  std::vector<Matrix<T>> parameters;
};
template <class T>
Outcome<T> train(const Data& d, nn::TrainOptions options, int threads) {
  Graph g;
  Node x = g.input("x", {batch, 5}), y = g.input("y", {batch, 2});
  nn::Init init(3);
  Node h = nn::dense(x, 8, init, "hidden", {.activation = nn::Activation::tanh});
  Node loss = mse_loss(nn::dense(h, 2, init, "out"), y);
  Executor<T> ex(g, {.threads = threads});
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = 0.01});
  nn::Trainer<T> trainer(ex, adam, x, y, std::move(options));
  std::ostringstream sink;
  trainer.set_output(&sink);
  const Matrix<T> X = d.X.cast<T>(), Y = d.Y.cast<T>();
  Outcome<T> out{trainer.fit(Features(X), Features(Y)).loss, {}};
  for (const Node& p : adam.parameters()) out.parameters.push_back(ex.value(p));
  return out;
}

template <class T>
void check_same_bits(const Outcome<T>& a, const Outcome<T>& b) {
  REQUIRE(a.loss.size() == b.loss.size());
  for (std::size_t e = 0; e < a.loss.size(); ++e) CHECK(std::memcmp(&a.loss[e], &b.loss[e], sizeof(double)) == 0);
  REQUIRE(a.parameters.size() == b.parameters.size());
  for (std::size_t k = 0; k < a.parameters.size(); ++k) {
    CHECK(a.parameters[k] == b.parameters[k]);
  }
}

}  // namespace

TEST_CASE("all_gather gives every rank's bytes in rank order, whatever their lengths") {
  const int rank = world->rank(), size = world->size();
  // Rank r sends r bytes of value r + 1: rank 0 sends none.
  std::vector<std::byte> mine(std::size_t(rank), std::byte(rank + 1));
  const auto all = world->all_gather(mine);
  REQUIRE(all.size() == std::size_t(size));
  for (int r = 0; r < size; ++r) {
    CAPTURE(r);
    const std::span<const std::byte> got = all[std::size_t(r)];
    CHECK(std::vector<std::byte>(got.begin(), got.end()) == std::vector<std::byte>(std::size_t(r), std::byte(r + 1)));
  }
  // Equal lengths take MPI_Allgather itself.
  const std::vector<std::byte> four(4, std::byte(10 + rank));
  const auto same = world->all_gather(four);
  for (int r = 0; r < size; ++r) {
    const std::span<const std::byte> got = same[std::size_t(r)];
    CHECK(std::vector<std::byte>(got.begin(), got.end()) == std::vector<std::byte>(4, std::byte(10 + r)));
  }
  CHECK(world->gathers() >= 2);
}

TEST_CASE("a Trainer given the group takes the steps of shards = size in one process, bit for bit") {
  const Data d = make_data();
  const int size = world->size();
  for (int threads : {1, 2}) {
    // Batch 16 of 45 rows: a last batch of 13; batch 2: with 3 ranks a shard is empty.
    for (std::size_t batch_size : {std::size_t(16), std::size_t(2)}) {
      CAPTURE(threads);
      CAPTURE(batch_size);
      const nn::TrainOptions base{.epochs = 3, .batch_size = batch_size, .seed = 5};
      nn::TrainOptions alone = base, ranks = base;
      alone.shards = size;
      ranks.group = world;
      check_same_bits(train<double>(d, alone, threads), train<double>(d, ranks, threads));
      check_same_bits(train<float>(d, alone, threads), train<float>(d, ranks, threads));
    }
  }
}

TEST_CASE("shards other than 1 or the group's size are refused, naming both") {
  const Data d = make_data();
  nn::TrainOptions options{.epochs = 1, .shards = world->size() + 1, .group = world};
  std::string what;
  try {
    train<double>(d, options, 1);
  } catch (const Error& e) {
    what = e.what();
  }
  CHECK(what.find("shards is " + std::to_string(world->size() + 1) + " but the group has " +
                  std::to_string(world->size()) + " ranks") != std::string::npos);
}

TEST_CASE("only rank 0 writes the checkpoint") {
  const Data d = make_data();
  // Each rank names its own file, so that each can see whether it wrote one.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("dagrad_test_mpi_checkpoint_" + std::to_string(::getpid()) + "_" +
                             std::to_string(world->rank())))
                               .string();
  std::filesystem::remove(path);
  train<double>(d, {.epochs = 2, .batch_size = 16, .checkpoint = path, .group = world}, 1);
  CHECK(std::filesystem::exists(path) == (world->rank() == 0));
  std::filesystem::remove(path);
}

namespace {

struct MlpRun {
  std::vector<double> loss_curve, validation_scores;
  std::vector<Matrix<double>> coefs, intercepts;
  double loss = 0;
};

// mlp, printing nothing, fitted to X and y alone (group null) or on the
// group: what the runs' comparisons read.
template <class Estimator, class Targets>
MlpRun fitted(Estimator mlp, nn::ShardGroup* group, const Matrix<double>& X, const Targets& y) {
  std::ostringstream sink;
  mlp.set_output(&sink, &sink);
  mlp.set_group(group);
  mlp.fit(Features(X), y);
  return {mlp.loss_curve(), mlp.validation_scores(), mlp.coefs(), mlp.intercepts(), mlp.loss()};
}

// An MLPClassifier on 150 rows of the data (three classes by the first
// target's sign and size), alone with `shards` or on the group.
MlpRun fit_mlp(MLPParams p, nn::ShardGroup* group) {
  const Data d = make_data();
  Matrix<double> X(150, 5);
  std::vector<int> y(150);
  for (int i = 0; i < 150; ++i) {
    X.row(i) = d.X.row(i % 45) * (1.0 + 0.01 * (i / 45));
    const double t = d.Y(i % 45, 0) + 0.1 * (i / 45);
    y[std::size_t(i)] = t < -0.3 ? 0 : t < 0.3 ? 1 : 2;
  }
  return fitted(MLPClassifier(p), group, X, y);
}

// An MLPRegressor on the same 150 rows with both targets (multi-output),
// alone with `shards` or on the group.
MlpRun fit_regressor(MLPParams p, nn::ShardGroup* group) {
  const Data d = make_data();
  Matrix<double> X(150, 5), Y(150, 2);
  for (int i = 0; i < 150; ++i) {
    X.row(i) = d.X.row(i % 45) * (1.0 + 0.01 * (i / 45));
    Y.row(i) = d.Y.row(i % 45).array() + 0.1 * (i / 45);
  }
  return fitted(MLPRegressor(p), group, X, Y);
}

void check_same_bits(const MlpRun& a, const MlpRun& b) {
  CHECK(std::memcmp(&a.loss, &b.loss, sizeof(double)) == 0);
  REQUIRE(a.loss_curve.size() == b.loss_curve.size());
  // (memcmp of an empty vector's data(), null, is undefined even for 0 bytes: lbfgs has no loss curve.)
  CHECK((a.loss_curve.empty() ||
         std::memcmp(a.loss_curve.data(), b.loss_curve.data(), a.loss_curve.size() * sizeof(double)) == 0));
  REQUIRE(a.validation_scores.size() == b.validation_scores.size());
  CHECK(a.validation_scores == b.validation_scores);
  REQUIRE(a.coefs.size() == b.coefs.size());
  for (std::size_t k = 0; k < a.coefs.size(); ++k) {
    CHECK(a.coefs[k] == b.coefs[k]);
    CHECK(a.intercepts[k] == b.intercepts[k]);
  }
}

}  // namespace

TEST_CASE("an MLPClassifier given the group trains as shards = size does in one process, bit for bit") {
  const int size = world->size();
  for (const char* dtype : {"float64", "float32"}) {
    for (bool early_stopping : {false, true}) {
      for (int threads : {1, 2}) {
        CAPTURE(dtype);
        CAPTURE(early_stopping);
        CAPTURE(threads);
        // Batches of 16 (a last one of 6 or, held out, of 7); 2 for an empty shard with 3 ranks.
        for (int batch_size : {16, 2}) {
          CAPTURE(batch_size);
          const MLPParams p{.hidden_layer_sizes = {7}, .alpha = 0.01, .batch_size = batch_size,
                            .learning_rate_init = 0.01, .max_iter = 4, .random_state = 2,
                            .early_stopping = early_stopping, .dtype = dtype, .threads = threads};
          MLPParams alone = p;
          alone.shards = size;
          const MlpRun together = fit_mlp(p, world);
          check_same_bits(fit_mlp(alone, nullptr), together);
          CHECK(together.validation_scores.size() == (early_stopping ? together.loss_curve.size() : 0));
        }
      }
    }
  }
}

TEST_CASE("an MLPClassifier on the group without a random_state starts every rank from rank 0's seed") {
  const MlpRun run = fit_mlp({.hidden_layer_sizes = {6}, .batch_size = 16, .max_iter = 2}, world);
  // Every rank's weights, gathered: all rank 0's.
  const Matrix<double>& w = run.coefs.front();
  const auto all = world->all_gather(std::as_bytes(std::span(w.data(), std::size_t(w.size()))));
  for (int r = 1; r < world->size(); ++r) {
    CAPTURE(r);
    REQUIRE(all[std::size_t(r)].size() == all[0].size());
    CHECK((all[0].empty() || std::memcmp(all[std::size_t(r)].data(), all[0].data(), all[0].size()) == 0));
  }
}

TEST_CASE("an MLPClassifier refuses shards other than 1 or the group's size") {
  std::string what;
  try {
    fit_mlp({.hidden_layer_sizes = {6}, .max_iter = 1, .random_state = 1, .shards = world->size() + 1}, world);
  } catch (const Error& e) {
    what = e.what();
  }
  CHECK(what.find("MLPClassifier: shards is " + std::to_string(world->size() + 1) + " but the group has " +
                  std::to_string(world->size()) + " ranks") != std::string::npos);
}

TEST_CASE("lbfgs on the group: each rank's rows of the full batch, the bits of shards = size in one process") {
  for (const char* dtype : {"float64", "float32"}) {
    CAPTURE(dtype);
    const MLPParams p{.hidden_layer_sizes = {7}, .solver = "lbfgs", .alpha = 0.01, .max_iter = 12,
                      .random_state = 3, .dtype = dtype};
    MLPParams alone = p;
    alone.shards = world->size();
    const MlpRun together = fit_mlp(p, world);
    check_same_bits(fit_mlp(alone, nullptr), together);
    CHECK(together.loss > 0);
  }
}

TEST_CASE("a multi-output MLPRegressor on the group: the bits of shards = size in one process, adam and lbfgs") {
  for (const char* solver : {"adam", "lbfgs"}) {
    for (bool early_stopping : {false, true}) {
      CAPTURE(solver);
      CAPTURE(early_stopping);
      const MLPParams p{.hidden_layer_sizes = {7}, .solver = solver, .alpha = 0.01, .batch_size = 16,
                        .learning_rate_init = 0.01, .max_iter = 6, .random_state = 4,
                        .early_stopping = early_stopping};
      MLPParams alone = p;
      alone.shards = world->size();
      const MlpRun together = fit_regressor(p, world);
      check_same_bits(fit_regressor(alone, nullptr), together);
      CHECK(together.coefs.back().cols() == 2);
      CHECK(together.loss > 0);
    }
  }
}

int main(int argc, char** argv) { return run_on_all_ranks(argc, argv, "test_mpi_group", world); }
