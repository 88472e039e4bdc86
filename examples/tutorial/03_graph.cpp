// Tutorial step 3 (docs/tutorial.md): the lesson's network as a dagrad graph.
// With a file name argument, also draws its forward nodes there (PNG or SVG).
#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main(int argc, char** argv) {
  // tutorial:begin
  Graph g;
  Node x = g.input("x", {batch, 784});  // one row per image, any number of rows
  Node y = g.input("y", {batch, 10});   // the labels, one-hot
  Node w1 = g.parameter("hidden/w", {784, 50}), b1 = g.parameter("hidden/b", {1, 50});
  Node w2 = g.parameter("output/w", {50, 10}), b2 = g.parameter("output/b", {1, 10});

  Node h = relu(add(matmul(x, w1), b1));     // 50 hidden neurons
  Node logits = add(matmul(h, w2), b2);      // 10 output neurons, one per digit
  Node loss = softmax_cross_entropy(logits, y);

  std::cout << graph_summary(g);  // 784*50 + 50 + 50*10 + 10 = 39760 parameters
  // tutorial:end
  if (argc > 1) {
    render(g, argv[1], {.title = "the lesson's network, 784-50-10"});
    std::cout << "wrote " << argv[1] << "\n";
  }
  (void)loss;
}
