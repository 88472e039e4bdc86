// The lesson, in C++: scikit-learn's MLPClassifier on MNIST, first 60,000
// images to train, last 10,000 to test, every hyperparameter a flag named as
// in scikit-learn (--hidden-layer-sizes 10,10,10,10,10 --max-iter 10 ...).
//   mpirun -np 2 build/examples/mnist_mlp --hidden-layer-sizes 50   (each rank a shard of every batch)
#include "mnist_mlp_flags.hpp"
#include "mnist_training.hpp"
#include "ranks.hpp"

#include <algorithm>
#include <dagrad/dagrad.hpp>

#include <unistd.h>

#include <chrono>
#include <iomanip>
#include <iostream>

using namespace dagrad;

namespace {

// Where the fit's time went, node by node.
void print_profile(const MLPClassifier& mlp, const std::vector<NodeTime>& profile, double fit_seconds) {
  if (profile.empty()) {
    std::cout << "\n--profile: no training ran (a model given by --load is only scored unless "
                 "--warm-start), so there is no node time to show\n";
    return;
  }
  std::cout << "\nDuring the fit. " << profile_table(profile, fit_seconds, mlp.params().threads);
}

// Each pixel as a shade from ' ' (0) to '@' (255), two characters wide.
void show_digit(const Images& images, const std::vector<std::uint8_t>& labels, std::size_t k) {
  static const char shades[] = " .:-=+*#%@";
  std::cout << "image " << k << ", label " << int(labels[k]) << ":\n";
  for (std::size_t r = 0; r < images.rows; ++r) {
    std::string line;
    for (std::size_t c = 0; c < images.cols; ++c) {
      const int v = images.pixels[k * images.features() + r * images.cols + c];
      line.append(2, shades[v * 9 / 255]);
    }
    std::cout << line << "\n";
  }
}

// A user's own digit, made to look like MNIST's, shown as the 784-vector's
// picture, then classified.
void classify(const MLPClassifier& mlp, const std::string& path) {
  const Matrix<float> x = unroll(to_mnist_digit(read_image(path)));
  static const char shades[] = " .:-=+*#%@";
  std::cout << "\n" << path << " as the network sees it (28x28 = 784 values):\n";
  for (int r = 0; r < 28; ++r) {
    std::string line;
    for (int c = 0; c < 28; ++c) line.append(2, shades[static_cast<int>(x(0, r * 28 + c) * 9.0f + 0.5f)]);
    std::cout << line << "\n";
  }
  const Matrix<double> proba = mlp.predict_proba(Features(x));
  std::cout << "predicted digit: " << mlp.predict(Features(x))[0] << "\nprobabilities:";
  for (Eigen::Index k = 0; k < proba.cols(); ++k) {
    std::cout << " " << mlp.classes()[static_cast<std::size_t>(k)] << ":" << std::fixed
              << std::setprecision(3) << proba(0, k);
  }
  std::cout << std::defaultfloat << "\n";
}

// The network's parameters and hyperparameters, printed before it trains:
// a loaded model as it is, a new one as a copy built with the shapes fit
// will give it (the summary shows shapes and counts, not values).
void print_summary(const MLPClassifier& mlp, std::size_t features, const std::vector<int>& labels) {
  if (mlp.fitted()) {
    std::cout << mlp.summary() << "\n" << graph_summary(mlp.graph()) << "\n";
    return;
  }
  std::vector<int> classes = labels;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  mlp.params().check_memory(static_cast<int>(features), output_units(classes.size()));
  std::vector<int> units{static_cast<int>(features)};
  units.insert(units.end(), mlp.params().hidden_layer_sizes.begin(), mlp.params().hidden_layer_sizes.end());
  units.push_back(output_units(classes.size()));
  std::vector<Matrix<double>> coefs, intercepts;
  for (std::size_t i = 0; i + 1 < units.size(); ++i) {
    coefs.push_back(Matrix<double>::Zero(units[i], units[i + 1]));
    intercepts.push_back(Matrix<double>::Zero(1, units[i + 1]));
  }
  MLPClassifier preview(mlp.params());
  preview.set_weights(classes, coefs, intercepts);
  std::cout << preview.summary() << "\n" << graph_summary(preview.graph()) << "\n";
}

// --show (a digit as text, --show-png as a picture) and --digits (a grid).
void show_digits(const ParsedArgs& args, const Mnist& mnist, bool writes) {
  const auto& im = mnist.train.images;
  if (args.has("show")) {
    const auto k = static_cast<std::size_t>(args.get_int("show", 0, 0, long(im.count) - 1));
    show_digit(im, mnist.train.labels, k);
    if (args.has("show-png") && writes) {
      Image digit{im.rows, im.cols, 1, {}};
      digit.pixels.assign(im.pixels.begin() + long(k * im.features()), im.pixels.begin() + long((k + 1) * im.features()));
      write_png(digit, args.get("show-png"));
    }
  }
  if (args.has("digits") && writes) {
    write_png(digit_grid(im, mnist.train.labels, 0, std::min<std::size_t>(40, im.count), 10), args.get("digits"));
  }
}

// After training: the pictures, the model file and the ONNX file asked for.
void write_outputs(const ParsedArgs& args, const MLPClassifier& mlp, const std::vector<NodeTime>& fit_profile) {
  // With --profile the pictures show each node's share of the fit's kernel
  // time; with --memory, where each value of a training step lay.
  const DotOptions picture{.title = "MLPClassifier",
                           .profile = fit_profile,
                           .memory = args.has("memory") ? mlp.fit_memory_plan() : MemoryReport{}};
  if (args.has("dot")) write_dot(mlp.graph(), args.get("dot"), picture);
  if (args.has("svg")) render(to_dot(mlp.graph(), picture), args.get("svg"));
  if (args.has("weights")) {
    if (mlp.coefs()[0].rows() != 784) throw UsageError("mnist_mlp: --weights needs 784 inputs (28x28 images)");
    write_png(weight_images(mlp.coefs()[0], 10), args.get("weights"));
  }
  if (args.has("loss")) {
    write_file_atomically(args.get("loss"), loss_curve_svg(mlp.loss_curve(), mlp.validation_scores(), "loss",
                                                           mlp.validation_loss_curve()));
  }
  if (args.has("classify")) classify(mlp, args.get("classify"));
  if (args.has("save")) {
    save(mlp, args.get("save"));
    std::cout << "Saved the model to " << args.get("save") << "\n";
  }
  if (args.has("onnx")) {
    export_onnx(mlp.graph(), {mlp.output()}, mlp.parameter_values(), args.get("onnx"),
                {.graph_name = "mnist_mlp",
                 .doc = "MLPClassifier trained on MNIST by dagrad's mnist_mlp example; input x: rows of 784 pixels "
                        "scaled to [0, 1]; output: the ten class probabilities"});
    std::cout << "Exported the network to " << args.get("onnx") << " (ONNX)\n";
  }
}

// group: the ranks of mpirun, or null for one process. Every rank trains;
// only rank 0 prints (run_ranks silences the others) and writes files.
int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = mnist_mlp_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  // The hyperparameters given as flags, over the defaults or a loaded model's.
  MLPParams params;
  apply_mlp_param_flags(args, params);
  // Only the rows asked for (--train-rows, --test-rows); images stay bytes, scaled batch by batch.
  const Mnist mnist = load_mnist_rows(args);
  const std::vector<int> y_train = to_labels(mnist.train.labels);
  const std::vector<int> y_test = to_labels(mnist.test.labels);
  const bool writes = !group || group->rank() == 0;
  std::cout << "(" << mnist.train.images.count << ", " << mnist.train.images.features() << ")\n";
  show_digits(args, mnist, writes);

  MLPClassifier mlp(params);
  // A loaded model is only scored, unless --warm-start asks to train it further.
  const bool train = !args.has("load") || params.warm_start;
  if (args.has("load")) {
    mlp = load_mlp(args.get("load"));
    apply_mlp_param_flags(args, mlp.params());
  }
  mlp.set_group(group);
  std::ostream nowhere(nullptr);  // discards: the warnings (on standard error) once, from rank 0
  if (!writes) mlp.set_output(&std::cout, &nowhere);
  if (isatty(STDOUT_FILENO) && !group) {  // on a terminal (not mpirun's), a bar through each epoch
    mlp.set_progress([](const Progress& p) {
      std::cout << progress_bar(p.iteration, p.samples_done, p.samples_total) << std::flush;
    });
  }
  if (args.has("summary")) print_summary(mlp, mnist.train.images.features(), y_train);
  if (args.has("profile")) mlp.set_profiling(true);
  const auto start = std::chrono::steady_clock::now();
  if (train) mlp.fit(Features(mnist.train.images), y_train);
  const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<NodeTime> fit_profile = mlp.profile();
  if (!writes) return 0;  // the same model as rank 0's, bit for bit: rank 0 reports it

  std::cout << "Training score: " << repr(mlp.score(Features(mnist.train.images), y_train)) << "\n";
  std::cout << "Testing score: " << repr(mlp.score(Features(mnist.test.images), y_test)) << "\n";
  if (args.has("timing")) std::cout << "fit_seconds: " << fit_seconds << "\n";
  if (args.has("profile")) print_profile(mlp, fit_profile, fit_seconds);
  if (args.has("memory")) {
    std::cout << "\nA training step's " << (train ? plan_summary(mlp.fit_memory_plan()) : "memory plan: no training ran")
              << "\n";
  }
  write_outputs(args, mlp, fit_profile);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("mnist_mlp", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
