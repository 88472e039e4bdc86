// Your own network from nothing: two interleaved spirals in the plane, a
// 2-16-16-2 tanh network from nn's dense layers, trained with Adam by nn's
// training loop, then one point traced node by node, forward and backward.
//   build/examples/custom/spiral
#include <dagrad/dagrad.hpp>

#include <cmath>
#include <iostream>

using namespace dagrad;

// tutorial:begin
// 200 points a spiral arm: arm k is turned by k pi, its points drift outwards.
void spirals(Matrix<double>& X, Matrix<double>& Y) {
  const int per_arm = 200;
  X.resize(2 * per_arm, 2);
  Y = Matrix<double>::Zero(2 * per_arm, 2);
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < per_arm; ++i) {
      const double r = 0.1 + 0.9 * i / per_arm, angle = 2.5 * r * M_PI + k * M_PI;
      const int row = k * per_arm + i;
      X(row, 0) = r * std::cos(angle);
      X(row, 1) = r * std::sin(angle);
      Y(row, k) = 1;  // one-hot: which arm
    }
  }
}

int main() {
  Matrix<double> X, Y;
  spirals(X, Y);

  // The network: each nn layer a name scope, its parameters recorded in init.
  Graph g;
  Node x = g.input("x", {batch, 2});
  Node y = g.input("y", {batch, 2});
  nn::Init init(/*seed=*/3);
  Node h = nn::dense(x, 16, init, "hidden1", {.activation = nn::Activation::tanh});
  h = nn::dense(h, 16, init, "hidden2", {.activation = nn::Activation::tanh});
  Node logits = nn::dense(h, 2, init, "out");
  Node loss = softmax_cross_entropy(logits, y);

  // Training: Adam adds the gradient nodes to g once; the Trainer shuffles,
  // batches and steps.
  Executor<double> ex(g, {.threads = 1, .plan_memory = false});  // the trace reads every node
  init.apply(ex);
  nn::Adam adam(loss, {.learning_rate = 0.01});
  nn::Trainer<double> trainer(ex, adam, x, y, {.epochs = 300, .batch_size = 40, .seed = 3});
  const nn::History& history = trainer.fit(Features(X), Features(Y));
  std::cout << "epoch 1 loss " << history.loss.front() << ", epoch 300 loss " << history.loss.back() << "\n";

  // Accuracy: the larger logit is the arm.
  const Matrix<double> z = ex.run({{x, X}}, {logits})[0];
  int right = 0;
  for (Eigen::Index r = 0; r < X.rows(); ++r) right += (z(r, 1) > z(r, 0)) == (Y(r, 1) == 1);
  std::cout << "accuracy " << double(right) / double(X.rows()) << "\n\n";

  // One point, every node: what backpropagation computes, line by line.
  ex.compute({{x, X.topRows(1)}, {y, Y.topRows(1)}}, adam.fetches());
  trace(std::cout, ex, loss, adam.gradients());
}
// tutorial:end
