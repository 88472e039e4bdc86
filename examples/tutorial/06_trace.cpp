// Tutorial step 6 (docs/tutorial.md): tracing a tiny network by hand, one point.
#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  // tutorial:begin
  Graph g;
  Node x = g.input("x", {1, 2});
  Node w1 = g.parameter("w1", {2, 2}), b1 = g.parameter("b1", {1, 2});
  Node w2 = g.parameter("w2", {2, 1}), b2 = g.parameter("b2", {1, 1});
  Node h = sigmoid(add(matmul(x, w1), b1));
  Node y_hat = sigmoid(add(matmul(h, w2), b2));

  Matrix<double> X(1, 2), W1(2, 2), B1(1, 2), W2(2, 1), B2(1, 1);
  X << 0.05, 0.10;
  W1 << 0.15, 0.25, 0.20, 0.30;
  B1 << 0.35, 0.35;
  W2 << 0.40, 0.45;
  B2 << 0.60;

  Executor<double> ex(g, {.threads = 1});
  ex.set(w1, W1); ex.set(b1, B1); ex.set(w2, W2); ex.set(b2, B2);
  std::vector<Matrix<double>> out = ex.run({{x, X}}, {h, y_hat});
  std::cout << "hidden layer: " << out[0] << "\n";  // sigmoid(x w1 + b1) = 0.59327 0.596884
  std::cout << "output: " << out[1] << "\n";        // sigmoid(h w2 + b2) = 0.751365
  // tutorial:end
}
