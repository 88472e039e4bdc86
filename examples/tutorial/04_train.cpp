// Tutorial step 4 (docs/tutorial.md): the lesson's MLPClassifier, trained and scored.
#include "tutorial.hpp"

#include <dagrad/dagrad.hpp>

#include <iostream>

using namespace dagrad;

int main() {
  // tutorial:begin
  Mnist mnist = load_mnist(default_mnist_dir());
  // tutorial:end
  tutorial::shorten_for_tests(mnist);
  // tutorial:begin
  const Features x_train(mnist.train.images), x_test(mnist.test.images);
  const std::vector<int> y_train = to_labels(mnist.train.labels);
  const std::vector<int> y_test = to_labels(mnist.test.labels);

  MLPParams params;  // scikit-learn's defaults, then the lesson's choices
  params.hidden_layer_sizes = {50};
  params.max_iter = 10;
  params.verbose = 10;
  params.random_state = 1;
  MLPClassifier mlp(params);
  mlp.fit(x_train, y_train);
  std::cout << "Training score: " << mlp.score(x_train, y_train) << "\n";
  std::cout << "Testing score: " << mlp.score(x_test, y_test) << "\n";
  std::cout << mlp.summary();
  // tutorial:end
}
