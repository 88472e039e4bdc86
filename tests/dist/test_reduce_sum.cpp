// dist::MpiGroup::reduce_sum under a real mpirun (tests/dist/meson.build
// starts it with 2 to 5 ranks, so that slices are uneven): every rank ends
// with every rank's values weighted and added in rank order, the bits of one
// process adding them itself, and a Trainer on the group steps as one
// process with `shards = size` does.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>
#include <dagrad/dist/mpi_group.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <cstring>
#include <sstream>

#include "mpi_main.hpp"

using namespace dagrad;

namespace {

dist::MpiGroup* world = nullptr;

// Rank r's i-th value: magnitudes from 2^-20 to 2^20 and both signs, so that
// most sums round, and differently in another order.
template <class T>
T value_of(int r, std::size_t i) {
  const double mantissa = 1.0 + 0.37 * double((i * 7 + std::size_t(r) * 13) % 11);
  const int exponent = int((i + 3 * std::size_t(r)) % 41) - 20;
  return static_cast<T>(((i + std::size_t(r)) % 3 == 0 ? -1.0 : 1.0) * std::ldexp(mantissa, exponent));
}

template <class T>
std::vector<T> values_of(int r, std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = value_of<T>(r, i);
  return v;
}

// Rank r's weight: a shard's share of a batch, rounded to T.
template <class T>
T weight_of(int r) {
  return static_cast<T>(double(3 + r) / 17.0);
}

// sum = w_0 v_0, then += w_k v_k, k = 1 to N - 1, or from N - 1 down to 0:
// as one process adds its shards, in order or reversed. weighted false:
// plain sums, v_0 + v_1 + ..., with no multiply to round.
template <class T>
std::vector<T> serial_sum(std::size_t n, int ranks, bool weighted, bool reverse) {
  std::vector<T> sum(n);
  for (int k = 0; k < ranks; ++k) {
    const int r = reverse ? ranks - 1 - k : k;
    const std::vector<T> v = values_of<T>(r, n);
    if (weighted) {
      nn::accumulate_shard<T>(sum, v, weight_of<T>(r), k == 0);
    } else {
      for (std::size_t i = 0; i < n; ++i) sum[i] = k == 0 ? v[i] : sum[i] + v[i];
    }
  }
  return sum;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class T>
void check_rank_order(bool weighted) {
  const int rank = world->rank(), ranks = world->size();
  // Few values (sent whole), fewer values than ranks (empty slices), uneven
  // slices, and a gradient's size.
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(4), std::size_t(5), std::size_t(7), std::size_t(1001),
                        std::size_t(65537), std::size_t(1863690)}) {
    CAPTURE(n);
    std::vector<T> values = values_of<T>(rank, n);
    const std::uint64_t sent = world->bytes_sent(), received = world->bytes_received();
    world->reduce_sum(std::span<T>(values), weighted ? weight_of<T>(rank) : T(1));
    CHECK(same_bits(values, serial_sum<T>(n, ranks, weighted, false)));
    // The data tells the orders apart (two ranks may commute), so the check above can fail.
    if (n >= 1001 && n <= 65537 && ranks >= 3) {
      CHECK_FALSE(same_bits(values, serial_sum<T>(n, ranks, weighted, true)));
    }
    // Out: the others' slices of this rank's values and this rank's summed
    // slice to each other rank; in: as many. Up to 4 values go whole to
    // every rank instead.
    const nn::Slice mine = nn::slice_of(n, std::size_t(rank), std::size_t(ranks));
    const std::size_t slice = mine.end - mine.begin;
    const std::uint64_t moved =
        (n <= 4 ? std::size_t(ranks - 1) * n : n - slice + std::size_t(ranks - 1) * slice) * sizeof(T);
    CHECK(world->bytes_sent() - sent == moved);
    CHECK(world->bytes_received() - received == moved);
    // At most 2 (N - 1) / N of the values, plus the slices' unevenness.
    if (n > 4) CHECK(moved <= (2 * std::size_t(ranks - 1) * n / std::size_t(ranks) + std::size_t(ranks)) * sizeof(T));
  }
}

}  // namespace

TEST_CASE("reduce_sum adds every rank's float values in rank order, the bits of a serial sum") {
  check_rank_order<float>(false);
}

TEST_CASE("reduce_sum adds every rank's double values in rank order, the bits of a serial sum") {
  check_rank_order<double>(false);
}

TEST_CASE("reduce_sum weights and accumulates float values in rank order as one process adds its shards") {
  check_rank_order<float>(true);
}

TEST_CASE("reduce_sum weights and accumulates double values in rank order as one process adds its shards") {
  check_rank_order<double>(true);
}

TEST_CASE("a rank of weight 0 adds nothing, not even to a zero's sign; all of weight 0 sum to 0") {
  const int rank = world->rank(), ranks = world->size();
  // Rank 0 (weight 0) sends NaNs, which are never read; element 0 is -0.0
  // on the others, whose sum keeps the sign, as in one process that leaves
  // an empty shard out.
  std::vector<double> values{rank == 0 ? NAN : -0.0, rank == 0 ? NAN : 1.5};
  world->reduce_sum(std::span<double>(values), rank == 0 ? 0.0 : 1.0);
  CHECK(values[0] == 0.0);
  CHECK(std::signbit(values[0]));
  CHECK(values[1] == 1.5 * (ranks - 1));
  std::vector<float> none{NAN, -2.0f};
  world->reduce_sum(std::span<float>(none), 0.0f);
  CHECK(none == std::vector<float>{0.0f, 0.0f});
  CHECK(world->reductions() >= 2);
}

TEST_CASE("reduce_sum with counts that differ between ranks throws on every rank, naming them") {
  const int rank = world->rank();
  std::vector<float> values(std::size_t(rank + 2), 1.0f);
  std::string what;
  try {
    world->reduce_sum(std::span<float>(values), 1.0f);
  } catch (const Error& e) {
    what = e.what();
  }
  CHECK(what.find("reduce_sum of " + std::to_string(rank + 2) + " values on rank " + std::to_string(rank)) !=
        std::string::npos);
  CHECK(what.find("every rank passes as many") != std::string::npos);
  // The group still works.
  std::vector<float> one{float(rank)};
  world->reduce_sum(std::span<float>(one), 1.0f);
  CHECK(one[0] == float(world->size() * (world->size() - 1) / 2));
}

namespace {

// A 4-6-1 tanh network trained with Adam on 23 rows (batches of 8: a last
// one of 7, and with 5 ranks shards of 1 and 2 rows); returns the epochs'
// losses and the parameters, and counts the group's calls.
template <class T>
struct Run {
  std::vector<double> loss;
  std::vector<Matrix<T>> parameters;
};
template <class T>
Run<T> train(nn::TrainOptions options) {
  Matrix<T> X(23, 4), Y(23, 1);
  for (int i = 0; i < 23; ++i) {
    for (int j = 0; j < 4; ++j) X(i, j) = static_cast<T>(std::sin(0.41 * i + 0.9 * j));
    Y(i, 0) = static_cast<T>(std::cos(0.3 * i));
  }
  Graph g;
  Node x = g.input("x", {batch, 4}), y = g.input("y", {batch, 1});
  nn::Init init(7);
  Node h = nn::dense(x, 6, init, "hidden", {.activation = nn::Activation::tanh});
  Node loss = mse_loss(nn::dense(h, 1, init, "out"), y);
  Executor<T> ex(g, {.threads = 1});
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = 0.02});
  nn::Trainer<T> trainer(ex, adam, x, y, std::move(options));
  std::ostringstream sink;
  trainer.set_output(&sink);
  Run<T> out{trainer.fit(Features(X), Features(Y)).loss, {}};
  for (const Node& p : adam.parameters()) out.parameters.push_back(ex.value(p));
  return out;
}

template <class T>
void check_trainer() {
  const nn::TrainOptions base{.epochs = 2, .batch_size = 8, .seed = 3};
  nn::TrainOptions alone = base, ranks = base;
  alone.shards = world->size();
  ranks.group = world;
  const std::uint64_t reductions = world->reductions(), gathers = world->gathers();
  const Run<T> together = train<T>(ranks);
  // Two reduce_sums a batch (the loss, the gradients), 3 batches an epoch; no whole gathers.
  CHECK(world->reductions() - reductions == 12);
  CHECK(world->gathers() == gathers);
  const Run<T> one = train<T>(alone);
  REQUIRE(one.loss.size() == together.loss.size());
  CHECK(std::memcmp(one.loss.data(), together.loss.data(), one.loss.size() * sizeof(double)) == 0);
  REQUIRE(one.parameters.size() == together.parameters.size());
  for (std::size_t k = 0; k < one.parameters.size(); ++k) CHECK(one.parameters[k] == together.parameters[k]);
}

}  // namespace

TEST_CASE("a Trainer on the group sums through reduce_sum and takes the steps of shards = size, float") {
  check_trainer<float>();
}

TEST_CASE("a Trainer on the group sums through reduce_sum and takes the steps of shards = size, double") {
  check_trainer<double>();
}

int main(int argc, char** argv) { return run_on_all_ranks(argc, argv, "test_reduce_sum", world); }
