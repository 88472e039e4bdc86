#include <doctest/doctest.h>

#include <dagrad/core/detail/sparse_kernels.hpp>
#include <dagrad/core/detail/sparse_product.hpp>
#include <dagrad/core/kernels.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

using namespace dagrad;

namespace {

// rows x cols with one value in `every` nonzero, in pairs as in images
// (runs of nonzeros), the pattern shifted by the seed.
template <class T>
Matrix<T> sparse_random(Eigen::Index rows, Eigen::Index cols, int every, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Matrix<T> m = Matrix<T>::Zero(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    if ((i + seed) % (2 * every) < 2) m.data()[i] = static_cast<T>(u(gen));
  }
  return m;
}

template <class T>
Matrix<T> dense_random(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Matrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(u(gen));
  return m;
}

template <class T>
Matrix<T> reference(const Matrix<T>& a, bool transpose_a, const Matrix<T>& b) {
  const Matrix<double> a64 = a.template cast<double>(), b64 = b.template cast<double>();
  const Matrix<double> c = transpose_a ? Matrix<double>(a64.transpose() * b64) : Matrix<double>(a64 * b64);
  return c.template cast<T>();
}

// As the executor calls it: into an output sized for op(A) · B.
template <class T>
bool sparse_product(const Matrix<T>& a, bool transpose_a, const Matrix<T>& b, Matrix<T>& out) {
  out.resize(transpose_a ? a.cols() : a.rows(), b.cols());
  return detail::sparse_product(view_of(a), transpose_a, view_of(b), view_of(out));
}

template <class T>
Matrix<T> product_on(int threads, const Matrix<T>& a, bool transpose_a, const Matrix<T>& b) {
  Matrix<T> out;
  bool taken = false;
  tbb::task_arena(threads).execute([&] { taken = sparse_product(a, transpose_a, b, out); });
  REQUIRE(taken);
  return out;
}

}  // namespace

static tbb::global_control allow_threads(tbb::global_control::max_allowed_parallelism, 8);

TEST_CASE_TEMPLATE("sparse_product equals the dense product for every strip width and both layouts", T, float, double) {
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  // Widths around every register count and the strip width, products large
  // enough to be shared among tasks and small enough to run on one.
  for (const Eigen::Index m : {1, 2, 3, 7, 8, 9, 15, 16, 17, 50, 55, 56, 57, 64, 100, 130}) {
    for (const bool transpose_a : {false, true}) {
      for (const auto& size : {std::pair{3, 5}, std::pair{200, 784}, std::pair{37, 129}}) {
        // Named copies, not a structured binding: clang 14's CAPTURE cannot reach those.
        const int rows = size.first, inner = size.second;
        CAPTURE(m);
        CAPTURE(transpose_a);
        CAPTURE(rows);
        const Matrix<T> a = transpose_a ? sparse_random<T>(inner, rows, 7, 7u + unsigned(m))
                                        : sparse_random<T>(rows, inner, 7, 7u + unsigned(m));
        const Matrix<T> b = dense_random<T>(inner, m, 11u + unsigned(m));
        const Matrix<T> c = product_on(2, a, transpose_a, b);
        const Matrix<T> want = reference(a, transpose_a, b);
        REQUIRE(c.rows() == want.rows());
        REQUIRE(c.cols() == want.cols());
        CHECK((c - want).cwiseAbs().maxCoeff() <= tolerance);
      }
    }
  }
}

TEST_CASE_TEMPLATE("sparse_product gives the same bits on 1, 2 and 8 threads", T, float, double) {
  // The lesson's shapes: a batch of 200 images of 784 pixels times the
  // weights (784 x 50), and its transpose times the gradient (200 x 50).
  const Matrix<T> a = sparse_random<T>(200, 784, 5, 3);
  for (const bool transpose_a : {false, true}) {
    const Matrix<T> b = transpose_a ? dense_random<T>(200, 50, 5) : dense_random<T>(784, 50, 5);
    const Matrix<T> one = product_on(1, a, transpose_a, b);
    CHECK(one == product_on(2, a, transpose_a, b));
    CHECK(one == product_on(8, a, transpose_a, b));
  }
}

TEST_CASE("sparse_product declines a dense or empty left factor and leaves the output alone") {
  const Matrix<float> dense = dense_random<float>(64, 64, 1);
  const Matrix<float> b = dense_random<float>(64, 8, 2);
  Matrix<float> out = Matrix<float>::Constant(64, 8, 7.0f);
  CHECK_FALSE(sparse_product(dense, false, b, out));
  CHECK_FALSE(sparse_product(dense, true, b, out));
  CHECK(out == Matrix<float>::Constant(64, 8, 7.0f));
  const Matrix<float> empty(0, 64);
  CHECK_FALSE(sparse_product(empty, false, b, out));

  // Just above the limit: declined; just below: taken.
  Matrix<float> edge = Matrix<float>::Zero(32, 100);
  const auto over = static_cast<Eigen::Index>(detail::sparse_density_limit * 100) + 1;
  edge.leftCols(over).setOnes();
  CHECK_FALSE(sparse_product(edge, false, dense_random<float>(100, 8, 3), out));
  edge.leftCols(over).setZero();
  edge.leftCols(over - 2).setOnes();
  CHECK(sparse_product(edge, false, dense_random<float>(100, 8, 3), out));
}

TEST_CASE("sparse_product keeps a NaN or infinity of A, and of the B rows A's nonzeros pick") {
  Matrix<double> a = Matrix<double>::Zero(4, 20);
  a(1, 3) = std::numeric_limits<double>::quiet_NaN();
  a(2, 19) = 2.0;
  Matrix<double> b = dense_random<double>(20, 9, 4);
  b(19, 8) = std::numeric_limits<double>::infinity();  // B's last row, last column
  Matrix<double> out;
  REQUIRE(sparse_product(a, false, b, out));
  CHECK(std::isnan(out(1, 0)));
  CHECK(std::isinf(out(2, 8)));
  CHECK(out(2, 0) == 2.0 * b(19, 0));
  CHECK(out.row(0).isZero());
  CHECK(out.row(3).isZero());
}

TEST_CASE("sparse_product of an all-zero A is all zeros, in both layouts") {
  const Matrix<float> a = Matrix<float>::Zero(10, 30);
  Matrix<float> out;
  REQUIRE(sparse_product(a, false, dense_random<float>(30, 5, 1), out));
  CHECK(out == Matrix<float>::Zero(10, 5));
  REQUIRE(sparse_product(a, true, dense_random<float>(10, 5, 1), out));
  CHECK(out == Matrix<float>::Zero(30, 5));
}

TEST_CASE_TEMPLATE("every kernel table this CPU runs gives the dense product, the same bits however rows are cut", T,
                   float, double) {
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  const auto& tables = detail::sparse_kernel_tables();
  REQUIRE(!tables.empty());
  CHECK(std::string(tables.front()->name) == "baseline");
  CHECK(kernel_isa().find(detail::sparse_kernels_in_use().isa) == 0);
  for (const detail::SparseKernels* table : tables) {
    CAPTURE(table->name);
    const auto& k = [&]() -> const detail::SparseRowKernels<T>& {
      if constexpr (std::is_same_v<T, float>) {
        return table->f32;
      } else {
        return table->f64;
      }
    }();
    for (const Eigen::Index m : {1, 9, 50, 57}) {
      CAPTURE(m);
      const Matrix<T> a = sparse_random<T>(40, 131, 6, 3u + unsigned(m));
      const Matrix<T> b = dense_random<T>(131, m, 5u + unsigned(m)), bt = dense_random<T>(40, m, 9u);
      Matrix<T> whole(40, m), cut(40, m), whole_t(131, m), cut_t(131, m);
      k.product(a.data(), 131, b.data(), m, 0, 40, whole.data());
      for (Eigen::Index r = 0; r < 40; r += 7) k.product(a.data(), 131, b.data(), m, r, std::min<Eigen::Index>(40, r + 7), cut.data());
      CHECK((whole - reference(a, false, b)).cwiseAbs().maxCoeff() <= tolerance);
      CHECK(whole == cut);
      k.transposed(a.data(), 40, 131, bt.data(), m, 0, 131, whole_t.data());
      for (Eigen::Index p = 0; p < 131; p += 16) k.transposed(a.data(), 40, 131, bt.data(), m, p, std::min<Eigen::Index>(131, p + 16), cut_t.data());
      CHECK((whole_t - reference(a, true, bt)).cwiseAbs().maxCoeff() <= tolerance);
      CHECK(whole_t == cut_t);
    }
  }
}
