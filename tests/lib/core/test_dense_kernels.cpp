// lib/core/dense_kernels.cpp: Eigen's product built once per instruction set.
// Every table this CPU runs must give the product, and the same bits for a
// row however the rows are cut into calls.
#include <doctest/doctest.h>

#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/isa.hpp>
#include <dagrad/core/tensor.hpp>

#include <cmath>
#include <random>
#include <string>
#include <type_traits>

using namespace dagrad;

namespace {

template <class T>
Matrix<T> random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  Matrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = T(u(rng));
  return m;
}

template <class T>
const detail::DenseKernels<T>& kernels_of(const detail::DenseTable& table) {
  if constexpr (std::is_same_v<T, float>) {
    return table.f32;
  } else {
    return table.f64;
  }
}

const detail::DenseTable& table_of(detail::Isa isa) {
  switch (isa) {
#ifdef DAGRAD_TEST_DISPATCH
    case detail::Isa::avx2: return detail::avx2::dense_kernels();
    case detail::Isa::avx512: return detail::avx512::dense_kernels();
#endif
    default: return detail::baseline::dense_kernels();
  }
}

// f(kernels, ta, tb) for every instruction set this CPU runs, with each of
// the product's inputs as it is and transposed; all three captured.
template <class T, class F>
void for_each_table_and_transposition(F&& f) {
  for (detail::Isa isa : detail::isas_available()) {
    CAPTURE(detail::isa_name(isa));
    const auto& k = kernels_of<T>(table_of(isa));
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        CAPTURE(ta);
        CAPTURE(tb);
        f(k, ta, tb);
      }
    }
  }
}

// op(a) op(b) in double, op transposing where asked: the products' reference.
Matrix<double> op_product(const Matrix<double>& a, bool ta, const Matrix<double>& b, bool tb) {
  return (ta ? Matrix<double>(a.transpose()) : a) * (tb ? Matrix<double>(b.transpose()) : b);
}

}  // namespace

TEST_CASE_TEMPLATE("every instruction set's dense product gives op(A) op(B), the same bits however rows are cut", T,
                   float, double) {
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  REQUIRE(detail::isas_available().front() == detail::Isa::baseline);
  CHECK(&detail::dense_kernels<T>() == &kernels_of<T>(table_of(detail::isa_in_use())));
  for_each_table_and_transposition<T>([&](const detail::DenseKernels<T>& k, bool ta, bool tb) {
    // op(A) is 37 x 53, op(B) is 53 x 29: sizes that fill no register evenly.
    const Matrix<T> a = ta ? random_matrix<T>(53, 37, 1) : random_matrix<T>(37, 53, 1);
    const Matrix<T> b = tb ? random_matrix<T>(29, 53, 2) : random_matrix<T>(53, 29, 2);
    const Matrix<double> want = op_product(a.template cast<double>(), ta, b.template cast<double>(), tb);
    Matrix<T> whole(37, 29), cut(37, 29);
    k.product(a.data(), a.rows(), a.cols(), ta, b.data(), b.rows(), b.cols(), tb, 0, 37, whole.data());
    k.product(a.data(), a.rows(), a.cols(), ta, b.data(), b.rows(), b.cols(), tb, 0, 16, cut.data());
    k.product(a.data(), a.rows(), a.cols(), ta, b.data(), b.rows(), b.cols(), tb, 16, 21, cut.data());
    CHECK((whole.template cast<double>() - want).cwiseAbs().maxCoeff() < tolerance);
    CHECK(cut == whole);
  });
}

TEST_CASE_TEMPLATE("every instruction set's block product multiplies blocks in place inside wider matrices", T,
                   float, double) {
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  // op(A) is 19 x 23 and op(B) 23 x 11, each a block at an offset inside a
  // wider matrix; C goes into the middle of a 30 x 40 matrix whose other
  // elements must stay as they were.
  for_each_table_and_transposition<T>([&](const detail::DenseKernels<T>& k, bool ta, bool tb) {
    const Matrix<T> a = random_matrix<T>(40, 50, 3), b = random_matrix<T>(40, 50, 4);
    const Eigen::Index ar = ta ? 23 : 19, ac = ta ? 19 : 23, br = tb ? 11 : 23, bc = tb ? 23 : 11;
    const Matrix<double> want = op_product(a.block(2, 5, ar, ac).template cast<double>(), ta,
                                           b.block(7, 3, br, bc).template cast<double>(), tb);
    const Matrix<T> before = random_matrix<T>(30, 40, 6);
    Matrix<T> c = before;
    k.block_product(&a(2, 5), a.cols(), ta, &b(7, 3), b.cols(), tb, 19, 11, 23, &c(4, 6), c.cols());
    CHECK((c.block(4, 6, 19, 11).template cast<double>() - want).cwiseAbs().maxCoeff() < tolerance);
    c.block(4, 6, 19, 11) = before.block(4, 6, 19, 11);
    CHECK(c == before);
  });
}

TEST_CASE_TEMPLATE("every instruction set's element loops: sum of squares and product with one number", T, float,
                   double) {
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  // 1003 values: whole registers and a ragged end, in Matrix storage (aligned).
  const Matrix<T> x = random_matrix<T>(1, 1003, 5);
  double want = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i) want += double(x.data()[i]) * double(x.data()[i]);
  for (detail::Isa isa : detail::isas_available()) {
    CAPTURE(detail::isa_name(isa));
    const auto& k = kernels_of<T>(table_of(isa));
    CHECK(std::abs(double(k.sum_squares(x.data(), x.size())) - want) < tolerance * want);
    Matrix<T> out(1, 1003);
    k.scale(x.data(), T(-0.375), out.data(), x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) REQUIRE(out.data()[i] == x.data()[i] * T(-0.375));
  }
}

TEST_CASE("scale and mul by a 1x1 take the dispatched loop, large or small") {
  for (const Eigen::Index n : {7, 50000}) {  // one block, and blocks shared among threads
    CAPTURE(n);
    const Matrix<double> x = random_matrix<double>(1, n, 9);
    Matrix<double> out(1, n);
    detail::scale_elements(view_of(x), 2.5, view_of(out));
    REQUIRE(out.cols() == n);
    CHECK(out == Matrix<double>(x * 2.5));
  }
}
