// The lesson's pictures: a grid of MNIST digits with their labels, the
// first-layer weights of the lesson's network as 28x28 images, its loss curve,
// and your own handwritten digit read, vectorized and classified.
//   lesson_pictures --digits digits.png --weights weights.png --loss loss.svg
//   lesson_pictures --classify my_seven.png
#include <dagrad/dagrad.hpp>

#include "mnist_training.hpp"

#include <cstdio>
#include <iostream>

using namespace dagrad;

namespace {

ArgParser make_parser() {
  ArgParser p("lesson_pictures",
              "Draws MNIST digits, trains the lesson's MLPClassifier(hidden_layer_sizes=(50,),\n"
              "max_iter=10, random_state=1), draws its weights and loss curve, and classifies\n"
              "an image of your own.");
  add_mnist_flags(p, /*test_rows=*/false);
  p.add("digits", "FILE.png", "write a grid of the first --count training digits with their labels");
  p.add("count", "N", "how many digits the grid shows (default 40)");
  p.add("weights", "FILE.png", "write each hidden unit's 784 weights as a 28x28 image");
  p.add("loss", "FILE.svg", "write the loss curve");
  p.add("classify", "IMAGE", "read a PNG/PGM/PPM of a handwritten digit and classify it");
  p.add("max-iter", "N", "epochs of training (default 10, the lesson's)");
  return p;
}

// The 784 features as a 28x28 text picture, each value a shade from ' ' to '@'.
void print_vector(const Matrix<float>& x) {
  static const char shades[] = " .:-=+*#%@";
  for (int r = 0; r < 28; ++r) {
    std::string line;
    for (int c = 0; c < 28; ++c) line.append(2, shades[static_cast<int>(x(0, r * 28 + c) * 9.0f + 0.5f)]);
    std::cout << line << "\n";
  }
}

int run(int argc, char** argv) {
  const std::optional<ParsedArgs> parsed = make_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const Mnist mnist = load_mnist_rows(args);
  std::cout << "training images: (" << mnist.train.images.count << ", " << mnist.train.images.features() << ")\n";

  if (args.has("digits")) {
    const long held = long(mnist.train.images.count);
    const auto count = static_cast<std::size_t>(args.get_int("count", std::min(40L, held), 1, held));
    write_png(digit_grid(mnist.train.images, mnist.train.labels, 0, count, 10), args.get("digits"));
    std::cout << "wrote " << args.get("digits") << " (the first " << count << " training digits)\n";
  }
  if (!args.has("weights") && !args.has("loss") && !args.has("classify")) return 0;

  MLPParams params;
  params.hidden_layer_sizes = {50};
  params.random_state = 1;
  params.verbose = 10;
  params.set("max_iter", args.get("max-iter", "10"));
  MLPClassifier mlp(params);
  mlp.set_output(&std::cout, &std::cerr);
  mlp.fit(Features(mnist.train.images), to_labels(mnist.train.labels));
  std::cout << "Testing score: " << mlp.score(Features(mnist.test.images), to_labels(mnist.test.labels)) << "\n\n"
            << mlp.summary() << "\n" << graph_summary(mlp.graph()) << "\n";

  if (args.has("weights")) {
    write_png(weight_images(mlp.coefs()[0], 10, 2), args.get("weights"));
    std::cout << "wrote " << args.get("weights") << " (first-layer weights, one 28x28 tile per hidden unit)\n";
  }
  if (args.has("loss")) {
    write_file_atomically(args.get("loss"), loss_curve_svg(mlp.loss_curve(), mlp.validation_scores(),
                                                           "MLPClassifier(hidden_layer_sizes=(50,)) on MNIST"));
    std::cout << "wrote " << args.get("loss") << " (the loss curve)\n";
  }
  if (args.has("classify")) {
    const Image digit = to_mnist_digit(read_image(args.get("classify")));
    const Matrix<float> x = unroll(digit);  // 1 x 784, the vector the network sees
    std::cout << "\n" << args.get("classify") << " as MNIST sees it (" << x.cols() << " features):\n";
    print_vector(x);
    const Matrix<double> proba = mlp.predict_proba(Features(x));
    std::cout << "predicted digit: " << mlp.predict(Features(x))[0] << "\nprobabilities:\n";
    for (Eigen::Index k = 0; k < proba.cols(); ++k) {
      char line[32];
      std::snprintf(line, sizeof line, "  %d: %.4f\n", mlp.classes()[static_cast<std::size_t>(k)], proba(0, k));
      std::cout << line;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("lesson_pictures", [&] { return run(argc, argv); });
}
