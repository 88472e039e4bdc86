// A program outside dagrad's build, compiled against the installed tree with
// whatever flags a user picks (-O0 or -O2, with or without -march=native, GCC
// or clang): matrices made here are resized and freed by the library and the
// other way round, and the gradients it gets must be right.
// It uses the core, nn and ml only, so it also builds against those parts
// alone (pkg-config dagrad-ml, CMake's dagrad::ml).
#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/gradcheck.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/ml/mlp.hpp>
#include <dagrad/nn.hpp>

#include <cmath>
#include <cstdio>

using namespace dagrad;

namespace {

// A three-layer network on 5 rows of 7 features, float64.
struct Network {
  Graph g;
  Node x = g.input("x", {batch, 7});
  Node y = g.input("y", {batch, 3});
  Node w1 = g.parameter("w1", {7, 6}), b1 = g.parameter("b1", {1, 6});
  Node w2 = g.parameter("w2", {6, 4}), b2 = g.parameter("b2", {1, 4});
  Node w3 = g.parameter("w3", {4, 3}), b3 = g.parameter("b3", {1, 3});
  Node loss = softmax_cross_entropy(
      add(matmul(sigmoid(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2)), w3), b3), y);
};

Matrix<double> filled(Eigen::Index rows, Eigen::Index cols, double seed) {
  Matrix<double> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = std::sin(seed + 0.7 * double(i));
  return m;
}

}  // namespace

int main() {
  Network n;
  Matrix<double> X = filled(5, 7, 1.0), Y = Matrix<double>::Zero(5, 3);
  for (int r = 0; r < 5; ++r) Y(r, r % 3) = 1;

  // gradcheck compares the gradient nodes with central differences.
  const std::vector<Feed<double>> values = {
      {n.w1, filled(7, 6, 2.0)}, {n.b1, filled(1, 6, 3.0)}, {n.w2, filled(6, 4, 4.0)},
      {n.b2, filled(1, 4, 5.0)}, {n.w3, filled(4, 3, 6.0)}, {n.b3, filled(1, 3, 7.0)}};
  GradcheckResult check = gradcheck(n.g, n.loss, values, {{n.x, X}, {n.y, Y}});
  if (!check.ok) {
    std::printf("gradcheck failed:\n%s\n", check.report().c_str());
    return 1;
  }

  // Matrices cross the boundary both ways: run() returns storage the library
  // allocated and this program frees; input() hands out storage the library
  // owns for this program to resize; set() copies this program's matrices.
  std::vector<Node> grads = gradients(n.loss, {n.w1, n.b3});
  Executor<float> ex(n.g, {.threads = 2});
  for (const Feed<double>& v : values) ex.set(v.node, v.value.cast<float>());
  double previous = 0;
  for (int rows : {5, 64, 3}) {
    Matrix<float>& x = ex.input(n.x);
    x = filled(rows, 7, 1.0).cast<float>();
    Matrix<float>& y = ex.input(n.y);
    y.setZero(rows, 3);
    for (int r = 0; r < rows; ++r) y(r, r % 3) = 1;
    std::vector<Matrix<float>> out = ex.run({}, {n.loss, grads[0], grads[1]});
    if (out.size() != 3 || out[1].rows() != 7 || out[1].cols() != 6 || !out[1].allFinite() ||
        !std::isfinite(out[0](0, 0)) || out[0](0, 0) == previous) {
      std::printf("float run on %d rows gave a wrong result\n", rows);
      return 1;
    }
    previous = out[0](0, 0);
  }
  // nn and ml are libraries of their own: an optimizer step and a check of
  // MLPClassifier's hyperparameters need both linked.
  nn::SGD sgd(n.loss, {.learning_rate = 0.1});
  const double first = sgd.step(ex, {{n.x, X.cast<float>()}, {n.y, Y.cast<float>()}});
  const double second = sgd.step(ex, {{n.x, X.cast<float>()}, {n.y, Y.cast<float>()}});
  MLPParams params;
  params.validate();
  if (!(second < first) || sgd.parameters().size() != 6) {
    std::printf("nn::SGD did not lower the loss (%g, then %g)\n", first, second);
    return 1;
  }
  std::printf("ok: gradients checked, float runs at 5, 64 and 3 rows, SGD steps\n");
  return 0;
}
