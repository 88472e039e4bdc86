// The smallest whole dagrad program: build y = sigmoid(x w + b), take the
// mean as a loss, add its gradients to the graph, and run both on oneTBB.
// The README shows the lines between the tutorial markers.
#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  Matrix<double> X(4, 3), W(3, 2), B(1, 2);
  X << 1, 2, 3, 4, 5, 6, -1, 0, 1, 0.5, -0.5, 2;
  W << 0.1, -0.2, 0.3, 0.4, -0.5, 0.6;
  B << 0.01, -0.02;

  // tutorial:begin
  Graph g;
  Node x = g.input("x", {batch, 3});          // rows fixed by the feed at run time
  Node w = g.parameter("w", {3, 2});
  Node b = g.parameter("b", {1, 2});
  Node y = sigmoid(add(matmul(x, w), b));     // shapes are checked here, when built
  Node loss = mean(y);
  std::vector<Node> grads = gradients(loss, {w, b});  // backward nodes join g

  Executor<double> ex(g, {.threads = 2});
  ex.set(w, W); ex.set(b, B);
  auto out = ex.run({{x, X}}, {loss, grads[0], grads[1]});
  // tutorial:end
  std::cout << "loss = " << out[0](0, 0) << "\n"
            << "grad(w) =\n" << out[1] << "\n"
            << "grad(b) =\n" << out[2] << "\n";
}
