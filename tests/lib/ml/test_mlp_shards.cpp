// MLPParams::shards: each mini-batch cut into shards, computed in turn and
// summed in order, as that many data-parallel processes compute it
// (tests/dist and tests/examples/mpi_examples.py run the processes).
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>

#include "temp_dir.hpp"

using namespace dagrad;

namespace {

// Three Gaussian blobs in 4-D, one per class.
struct Blobs {
  Matrix<double> X;
  std::vector<int> y;
};
Blobs blobs(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 1.2);
  Blobs b{Matrix<double>(n, 4), std::vector<int>(std::size_t(n))};
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    for (int j = 0; j < 4; ++j) b.X(i, j) = (j == c ? 2.0 : 0.0) + noise(rng);
    b.y[std::size_t(i)] = c;
  }
  return b;
}

struct Run {
  std::vector<double> loss_curve, validation_scores;
  std::vector<Matrix<double>> coefs;
};

// 300 rows in batches of 32: the last batch has 12, so shards differ in size.
template <class Estimator>
Run fit(MLPParams p, int shards, int threads, const auto& fit_data) {
  p.shards = shards;
  p.threads = threads;
  Estimator mlp(p);
  std::ostringstream sink;
  mlp.set_output(&sink, &sink);
  fit_data(mlp);
  return {mlp.loss_curve(), mlp.validation_scores(), mlp.coefs()};
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  // memcmp of an empty vector's data() (null) is undefined even for 0 bytes.
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Every epoch's loss within `rel` of the other's, relative; and at least one
// not the same bits (else the shards were not taken).
void check_last_bits(const std::vector<double>& sharded, const std::vector<double>& whole, double rel) {
  REQUIRE(sharded.size() == whole.size());
  REQUIRE_FALSE(whole.empty());
  double worst = 0;
  for (std::size_t e = 0; e < whole.size(); ++e) worst = std::max(worst, std::abs(sharded[e] - whole[e]) / whole[e]);
  MESSAGE("largest relative difference from shards = 1: " << worst);
  CHECK(worst <= rel);
  CHECK_FALSE(same_bits(sharded, whole));
}

}  // namespace

TEST_CASE("MLPClassifier with shards gives the same bits at any thread count, and shards = 1's to 1e-12") {
  const Blobs d = blobs(300, 4);
  auto data = [&](MLPClassifier& m) { m.fit(Features(d.X), d.y); };
  for (const char* solver : {"adam", "sgd"}) {
    for (bool early_stopping : {false, true}) {
      CAPTURE(solver);
      CAPTURE(early_stopping);
      // alpha large enough that an L2 term counted once per shard would show.
      const MLPParams p{.hidden_layer_sizes = {12, 8}, .solver = solver, .alpha = 0.01, .batch_size = 32,
                        .learning_rate_init = 0.01, .max_iter = 12, .random_state = 3,
                        .early_stopping = early_stopping, .dtype = "float64"};
      const Run whole = fit<MLPClassifier>(p, 1, 1, data);
      for (int shards : {2, 3}) {
        CAPTURE(shards);
        const Run one = fit<MLPClassifier>(p, shards, 1, data), two = fit<MLPClassifier>(p, shards, 2, data);
        CHECK(same_bits(one.loss_curve, two.loss_curve));
        CHECK(same_bits(one.validation_scores, two.validation_scores));
        REQUIRE(one.coefs.size() == two.coefs.size());
        for (std::size_t k = 0; k < one.coefs.size(); ++k) CHECK(one.coefs[k] == two.coefs[k]);
        CHECK(one.validation_scores.size() == (early_stopping ? one.loss_curve.size() : 0));
        check_last_bits(one.loss_curve, whole.loss_curve, 1e-12);
      }
    }
  }
}

TEST_CASE("MLPRegressor with shards and several outputs reports scikit-learn's loss, not the objective") {
  // Two outputs: the solver descends 2 data terms plus the penalty, and the
  // loss curve shows one data term plus the penalty, found from the
  // objective's shard sums when the batch is sharded.
  const Blobs d = blobs(300, 5);
  Matrix<double> Y(300, 2);
  for (Eigen::Index i = 0; i < 300; ++i) {
    Y(i, 0) = std::sin(d.X(i, 0)) + 0.5 * d.X(i, 1);
    Y(i, 1) = d.X(i, 2) * d.X(i, 3);
  }
  auto data = [&](MLPRegressor& m) { m.fit(Features(d.X), Y); };
  const MLPParams p{.hidden_layer_sizes = {10}, .activation = "tanh", .alpha = 0.05, .batch_size = 32,
                    .learning_rate_init = 0.01, .max_iter = 8, .random_state = 1, .dtype = "float64"};
  const Run whole = fit<MLPRegressor>(p, 1, 1, data);
  const Run one = fit<MLPRegressor>(p, 2, 1, data), two = fit<MLPRegressor>(p, 2, 2, data);
  CHECK(same_bits(one.loss_curve, two.loss_curve));
  check_last_bits(one.loss_curve, whole.loss_curve, 1e-12);
}

TEST_CASE("a bad shards value is refused, naming shards") {
  for (const char* bad : {"0", "-2"}) {
    MLPParams p;
    p.set("shards", bad);
    const std::string message = "parameter 'shards' cannot be '" + std::string(bad) + "'";
    CHECK_THROWS_WITH_AS(MLPClassifier{p}, doctest::Contains(message.c_str()), Error);
  }
  MLPParams p;
  CHECK_THROWS_WITH_AS(p.set("shards", "two"), doctest::Contains("'shards'"), Error);
  CHECK(p.get("shards") == "1");
  CHECK_FALSE(MLPParams::from_scikit_learn("shards"));
}

// lbfgs's full-batch loss and gradient in shards: 4,500 rows in 2 shards of
// 2,250, each two chunks (2,000 and 250), and in 3.
TEST_CASE("lbfgs in shards gives the same bits at any thread count, and the whole loss but for the last bits") {
  const Blobs d = blobs(4500, 3);
  struct Result {
    double loss;
    int n_iter;
    std::vector<Matrix<double>> coefs;
  };
  auto run = [&](int shards, int threads) {
    MLPClassifier mlp({.hidden_layer_sizes = {6}, .solver = "lbfgs", .max_iter = 15, .random_state = 2,
                       .dtype = "float64", .threads = threads, .shards = shards});
    std::ostringstream sink;
    mlp.set_output(&sink, &sink);
    mlp.fit(Features(d.X), d.y);
    return Result{mlp.loss(), mlp.n_iter(), mlp.coefs()};
  };
  const Result whole = run(1, 1);
  for (int shards : {2, 3}) {
    CAPTURE(shards);
    const Result one = run(shards, 1), two = run(shards, 2);
    CHECK(std::memcmp(&one.loss, &two.loss, sizeof(double)) == 0);
    REQUIRE(one.coefs.size() == two.coefs.size());
    for (std::size_t k = 0; k < one.coefs.size(); ++k) CHECK(one.coefs[k] == two.coefs[k]);
    CHECK(one.n_iter == whole.n_iter);
    const double rel = std::abs(one.loss - whole.loss) / whole.loss;
    CHECK(rel < 1e-9);
    // The sums were taken in another order: some bit differs.
    bool differs = one.loss != whole.loss;
    for (std::size_t k = 0; k < one.coefs.size(); ++k) differs = differs || one.coefs[k] != whole.coefs[k];
    CHECK(differs);
    MESSAGE("lbfgs, " << shards << " shards: loss within " << rel << " of one shard's");
  }
}

TEST_CASE("shards survive a model file, and more shards than a batch has rows leave some empty") {
  const Blobs d = blobs(30, 2);
  // Batches of 2 rows in 3 shards: one shard of each batch is empty.
  MLPParams p{.hidden_layer_sizes = {5}, .batch_size = 2, .max_iter = 2, .random_state = 7, .dtype = "float64",
              .shards = 3};
  auto data = [&](MLPClassifier& m) { m.fit(Features(d.X), d.y); };
  const Run three = fit<MLPClassifier>(p, 3, 1, data), two = fit<MLPClassifier>(p, 2, 1, data);
  // A shard of one row is the row itself: 2 rows in 2 or 3 shards are the same sums.
  CHECK(same_bits(three.loss_curve, two.loss_curve));

  MLPClassifier mlp(p);
  std::ostringstream sink;
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(d.X), d.y);
  const dagrad::testing::TempDir dir("mlp_shards");
  const std::string path = dir.file("shards.model");
  save(mlp, path);
  CHECK(load_mlp(path).params().shards == 3);
}
