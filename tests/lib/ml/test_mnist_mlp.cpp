// MLPClassifier on the real MNIST (fetched by scripts/setup.sh).
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <iomanip>
#include <sstream>

using namespace dagrad;

namespace {
Mnist& mnist() {
  static Mnist m = load_mnist(default_mnist_dir());
  return m;
}
// The first n training rows, as a Features view over a trimmed copy.
struct Slice {
  Images images;
  std::vector<int> labels;
};
Slice first_rows(const Dataset& d, std::size_t n) {
  Slice s{d.images, {}};
  s.images.count = n;
  s.images.pixels.resize(n * d.images.features());
  s.labels = to_labels(std::span(d.labels).first(n));
  return s;
}
}  // namespace

TEST_CASE("5,000 MNIST training rows reach at least 0.90 test accuracy") {
  Slice train = first_rows(mnist().train, 5000);
  std::vector<int> test_labels = to_labels(mnist().test.labels);
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {50}, .max_iter = 10, .random_state = 1});
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(train.images), train.labels);
  const double accuracy = mlp.score(Features(mnist().test.images), test_labels);
  MESSAGE("test accuracy on 10,000 images: " << accuracy);
  CHECK(accuracy >= 0.90);
}

TEST_CASE("in float64 the loss curve follows scikit-learn 1.2's to many digits") {
  // scikit-learn 1.2.1, same rows, as printed by its loss_curve_:
  //   MLPClassifier(hidden_layer_sizes=(50,), max_iter=3, random_state=1)
  //   MLPClassifier((10, 10), max_iter=2, random_state=1, solver='sgd',
  //                 learning_rate='invscaling', activation='tanh')
  //   MLPClassifier((20,), max_iter=2, random_state=1, activation='logistic',
  //                 alpha=0.01, batch_size=128, shuffle=False)
  Slice train = first_rows(mnist().train, 5000);
  struct Case {
    MLPParams params;
    std::vector<double> sklearn;
  };
  std::vector<Case> cases{
      {{.hidden_layer_sizes = {50}, .max_iter = 3, .random_state = 1},
       {1.6425826601227425, 0.7542678396487322, 0.5036408481624863}},
      {{.hidden_layer_sizes = {10, 10}, .activation = "tanh", .solver = "sgd",
        .learning_rate = "invscaling", .max_iter = 2, .random_state = 1},
       {2.3166323561622786, 2.210065593140658}},
      {{.hidden_layer_sizes = {20}, .activation = "logistic", .alpha = 0.01, .batch_size = 128,
        .max_iter = 2, .shuffle = false, .random_state = 1},
       {2.162784181951595, 1.8859465503263861}},
  };
  for (Case& c : cases) {
    c.params.dtype = "float64";
    std::ostringstream sink;
    MLPClassifier mlp(c.params);
    mlp.set_output(&sink, &sink);
    mlp.fit(Features(train.images), train.labels);
    REQUIRE(mlp.loss_curve().size() == c.sklearn.size());
    for (std::size_t i = 0; i < c.sklearn.size(); ++i) {
      CAPTURE(i);
      CHECK(mlp.loss_curve()[i] == doctest::Approx(c.sklearn[i]).epsilon(1e-9));
    }
  }
}

TEST_CASE("in float64 lbfgs follows scikit-learn 1.2's on 5,000 MNIST rows") {
  // scikit-learn 1.2.1 (Debian 12's, over the same L-BFGS-B library), run
  // from ../shared/anchors with /usr/bin/python3:
  //   from idx import load; from sklearn.neural_network import MLPClassifier
  //   X, y, Xt, yt = load(DATA)
  //   m = MLPClassifier(solver='lbfgs', hidden_layer_sizes=(50,), max_iter=20,
  //                     random_state=1).fit(X[:5000] / 255., y[:5000])
  //   print(repr(m.loss_), m.n_iter_, repr(m.score(Xt / 255., yt)))
  // gives 0.28208952468288184 20 0.8925.
  Slice train = first_rows(mnist().train, 5000);
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {50}, .solver = "lbfgs", .max_iter = 20, .random_state = 1,
                     .dtype = "float64"});
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(train.images), train.labels);
  MESSAGE("loss " << std::setprecision(17) << mlp.loss() << ", relative difference "
                  << std::abs(mlp.loss() - 0.28208952468288184) / 0.28208952468288184);
  CHECK(mlp.loss() == doctest::Approx(0.28208952468288184).epsilon(1e-9));
  CHECK(mlp.n_iter() == 20);
  CHECK(mlp.loss_curve().empty());
  CHECK(mlp.score(Features(mnist().test.images), to_labels(mnist().test.labels)) == 0.8925);
}
