// Tutorial step 5 (docs/tutorial.md): five hidden layers of 10 instead of one of 50.
#include "tutorial.hpp"

#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  Mnist mnist = load_mnist(default_mnist_dir());
  tutorial::shorten_for_tests(mnist);
  const Features x_train(mnist.train.images), x_test(mnist.test.images);
  const std::vector<int> y_train = to_labels(mnist.train.labels);
  const std::vector<int> y_test = to_labels(mnist.test.labels);
  // tutorial:begin
  MLPParams params;  // scikit-learn's defaults, then the lesson's choices
  params.hidden_layer_sizes = {10, 10, 10, 10, 10};
  params.max_iter = 10;
  params.verbose = 1;
  params.random_state = 1;
  MLPClassifier mlp2(params);
  mlp2.fit(x_train, y_train);
  std::cout << "Training score: " << mlp2.score(x_train, y_train) << "\n";
  std::cout << "Testing score: " << mlp2.score(x_test, y_test) << "\n";
  // tutorial:end
}
