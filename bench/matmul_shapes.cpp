// The lesson's two large products at its shapes, one thread: Eigen's dense
// GEMM against matmul's sparse route, for a real MNIST batch and for
// matrices of set density. The dense figure is this machine's GEMM speed at
// these shapes; the crossing point is where detail::sparse_density_limit
// should sit.
//   build/bench/bench_matmul_shapes [MNIST_DIR]
#include <dagrad/core/detail/sparse_product.hpp>
#include <dagrad/dagrad.hpp>

#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

using namespace dagrad;
using M = Matrix<float>;

namespace {

template <class F>
double best_us(F&& f) {
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) f();
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 200);
  }
  return best;
}

void compare(const char* what, const M& x) {
  const M w = M::Random(784, 50), g = M::Random(200, 50);
  // The sparse kernel writes into outputs of its result's shape (views).
  M z(x.rows(), w.cols()), d(x.cols(), g.cols());
  const double flop = 2.0 * 200 * 784 * 50;
  const double dense_fwd = best_us([&] { z.noalias() = x * w; });
  const double dense_bwd = best_us([&] { d.noalias() = x.transpose() * g; });
  const bool sparse = detail::sparse_product(view_of(x), false, view_of(w), view_of(z));
  const double sparse_fwd = sparse ? best_us([&] { detail::sparse_product(view_of(x), false, view_of(w), view_of(z)); }) : 0;
  const double sparse_bwd = sparse ? best_us([&] { detail::sparse_product(view_of(x), true, view_of(g), view_of(d)); }) : 0;
  std::printf("%-22s dense X W %6.1f us (%4.1f GFLOP/s), Xt G %6.1f us (%4.1f GFLOP/s)", what, dense_fwd,
              flop / dense_fwd / 1e3, dense_bwd, flop / dense_bwd / 1e3);
  if (sparse) {
    std::printf(" | sparse X W %6.1f us, Xt G %6.1f us\n", sparse_fwd, sparse_bwd);
  } else {
    std::printf(" | sparse route declines\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  try {
    const Mnist m = load_mnist(argc > 1 ? argv[1] : default_mnist_dir());
    std::vector<std::size_t> rows(200);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    M batch;
    Features(m.train.images).gather(std::span<const std::size_t>(rows), batch);
    compare("MNIST batch (19%)", batch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_matmul_shapes: no MNIST (%s); synthetic only\n", e.what());
  }
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (const double density : {0.10, 0.20, 0.25, 0.30, 0.50}) {
    M x(200, 784);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = u(gen) < density ? u(gen) : 0.0f;
    char name[32];
    std::snprintf(name, sizeof name, "random, %.0f%% nonzero", density * 100);
    compare(name, x);
  }
  return 0;
}
