// MLPClassifier(solver="lbfgs") against scikit-learn 1.2.1, which runs
// Debian's scipy 1.10 over the same L-BFGS-B library dagrad calls.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "contains.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace dagrad;

namespace {

// tests/lib/ml/lbfgs_reference.py's three_classes(): quarters and halves only,
// so numpy and C++ hold the same doubles.
struct Data {
  Matrix<double> X;
  std::vector<int> y;
};
Data three_classes(int n = 60) {
  Data d{Matrix<double>(n, 2), std::vector<int>(n)};
  const int labels[3] = {3, 5, 7};
  for (int i = 0; i < n; ++i) {
    d.X(i, 0) = double((i * 37) % 17 - 8) / 4.0 + double(i % 3) * 1.5;
    d.X(i, 1) = double((i * 11 + 5) % 13 - 6) / 4.0 - double(i % 3);
    d.y[i] = labels[i % 3];
  }
  return d;
}

MLPParams lbfgs(MLPParams p) {
  p.solver = "lbfgs";
  p.dtype = "float64";
  return p;
}

const std::string not_converged =
    "ConvergenceWarning: lbfgs failed to converge (status=1):\n"
    "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT.\n\n"
    "Increase the number of iterations (max_iter) or scale the data as shown in:\n"
    "    https://scikit-learn.org/stable/modules/preprocessing.html\n";

}  // namespace

// Figures from `/usr/bin/python3 tests/lib/ml/lbfgs_reference.py` (scikit-learn
// 1.2.1, scipy 1.10.1, numpy 1.24.2, Debian 12): loss_, n_iter_ and
// predict_proba(X[:4]). scikit-learn's lbfgs keeps no loss_curve_ and no
// best_loss_, and t_ stays 0. Measured agreement (the MESSAGEs below), GCC
// 12 and clang 14 native builds and GCC's portable ASan+UBSan build: the
// losses within 2e-16, 8e-13 (clang 4.9e-12) and 1.2e-12 relative; the
// probabilities within 2.4e-15, 7e-10 (clang 4.4e-9) and 1.4e-11. The converged case moves most: near the minimum a
// flat direction changes the probabilities more than the loss, and a
// compiler's rounding shows there. The checks allow 1e-9 relative on the
// loss and 1e-8 on each probability (1e-7 for the converged case).
TEST_CASE("lbfgs matches scikit-learn 1.2's loss, iterations and probabilities") {
  struct Case {
    std::string name;
    MLPParams params;
    double loss;
    int n_iter;
    bool warns;
    std::vector<double> proba;
    double proba_tolerance = 1e-8;
  };
  const std::vector<Case> cases{
      {"max_iter", {.hidden_layer_sizes = {5}, .max_iter = 15, .random_state = 1},
       0.5337396050466893, 15, true,
       {0.9964320079465676, 0.0035679913738783176, 6.795539602642066e-10, 0.2832830468507083,
        0.7039445210980922, 0.01277243205119945, 0.0035590193442651408, 0.054728234363295214,
        0.9417127462924396, 0.9315181937646454, 0.06844644751742042, 3.5358717934270704e-05}},
      {"converges",
       {.hidden_layer_sizes = {4}, .activation = "tanh", .alpha = 1.0, .max_iter = 500, .random_state = 0},
       0.6243117371825325, 67, false,
       {0.9462890584299251, 0.047572420614711175, 0.006138520955363713, 0.29197604510352104,
        0.571801380065918, 0.13622257483056108, 0.011563385661996795, 0.11364698161845356,
        0.8747896327195497, 0.9323063648665137, 0.059930245847103575, 0.00776338928638275},
       1e-7},
      {"logistic_alpha",
       {.hidden_layer_sizes = {6, 4}, .activation = "logistic", .alpha = 0.1, .max_iter = 40, .random_state = 3},
       0.6191690173894665, 40, true,
       {0.9609622263941215, 0.03692748054588895, 0.0021102930599893838, 0.25907811599606606,
        0.6045405391824059, 0.13638134482152806, 0.008621738444697463, 0.11684944202063932,
        0.8745288195346633, 0.9542415399693941, 0.04320952087540422, 0.00254893915520158}},
  };
  const Data d = three_classes();
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::ostringstream out, warnings;
    MLPClassifier mlp(lbfgs(c.params));
    mlp.set_output(&out, &warnings);
    mlp.fit(Features(d.X), d.y);
    MESSAGE(c.name << ": loss " << std::setprecision(17) << mlp.loss() << ", relative difference "
                   << std::abs(mlp.loss() - c.loss) / c.loss);
    CHECK(mlp.loss() == doctest::Approx(c.loss).epsilon(1e-9));
    CHECK(mlp.n_iter() == c.n_iter);
    CHECK(mlp.loss_curve().empty());
    CHECK_FALSE(mlp.best_loss().has_value());
    CHECK(warnings.str() == (c.warns ? not_converged : ""));
    CHECK(out.str().empty());
    const Matrix<double> proba = mlp.predict_proba(Features(d.X));
    double worst = 0;
    for (std::size_t k = 0; k < c.proba.size(); ++k) {
      const double ours = proba(Eigen::Index(k / 3), Eigen::Index(k % 3));
      worst = std::max(worst, std::abs(ours - c.proba[k]));
      CHECK(std::abs(ours - c.proba[k]) < c.proba_tolerance);
    }
    MESSAGE(c.name << ": largest probability difference " << worst);
  }
}

TEST_CASE("max_fun stops lbfgs early, with scikit-learn's warning") {
  // lbfgs_reference.py's "max_fun" case: stopped after the iteration in
  // which the 6th evaluation happened.
  const Data d = three_classes();
  std::ostringstream out, warnings;
  MLPClassifier mlp(lbfgs({.hidden_layer_sizes = {5}, .max_iter = 200, .random_state = 1, .max_fun = 5}));
  mlp.set_output(&out, &warnings);
  mlp.fit(Features(d.X), d.y);
  CHECK(mlp.n_iter() == 5);
  CHECK(mlp.loss() == doctest::Approx(0.6784363265471238).epsilon(1e-9));
  CHECK(warnings.str() ==
        "ConvergenceWarning: lbfgs failed to converge (status=1):\n"
        "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT.\n\n"
        "Increase the number of iterations (max_iter) or scale the data as shown in:\n"
        "    https://scikit-learn.org/stable/modules/preprocessing.html\n");
}

TEST_CASE("max_fun below 1 is refused, naming it") {
  MLPParams p;
  p.set("max_fun", "0");
  CHECK_THROWS_WITH_AS(p.validate(), doctest::Contains("'max_fun'"), Error);
  CHECK_THROWS_WITH_AS(MLPClassifier{p}, doctest::Contains("must be >= 1"), Error);
  CHECK(MLPParams{}.get("max_fun") == "15000");
}

TEST_CASE("lbfgs in float32 trains to the float64 loss within float's precision") {
  const Data d = three_classes();
  MLPParams p = lbfgs({.hidden_layer_sizes = {4}, .activation = "tanh", .alpha = 1.0, .max_iter = 500,
                       .random_state = 0});
  p.dtype = "float32";
  std::ostringstream sink;
  MLPClassifier mlp(p);
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(d.X), d.y);
  CHECK(mlp.loss() == doctest::Approx(0.6243117371825325).epsilon(1e-4));
  CHECK(mlp.n_iter() > 10);
  p.dtype = "float64";
  MLPClassifier exact(p);
  exact.set_output(&sink, &sink);
  exact.fit(Features(d.X), d.y);
  const Matrix<double> difference = mlp.predict_proba(Features(d.X)) - exact.predict_proba(Features(d.X));
  CHECK(difference.cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("lbfgs is not stochastic: partial_fit is refused as scikit-learn refuses it") {
  const Data d = three_classes();
  MLPClassifier mlp(lbfgs({.hidden_layer_sizes = {4}}));
  const std::vector<int> classes{3, 5, 7};
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), d.y, classes),
                       doctest::Contains("only available for stochastic optimizers. lbfgs is not stochastic"),
                       Error);
}

TEST_CASE("verbose lbfgs prints L-BFGS-B's own lines, as scikit-learn's verbose=1 does") {
  // scikit-learn's verbose=1 output for the "max_iter" case (the library
  // prints it; iprint 1), first lines and the end.
  const Data d = three_classes();
  char path[] = "/tmp/dagrad_lbfgs_verboseXXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::cout.flush();
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  dup2(fd, STDOUT_FILENO);
  std::ostringstream sink;
  {
    MLPClassifier mlp(lbfgs({.hidden_layer_sizes = {5}, .max_iter = 15, .random_state = 1, .verbose = 1}));
    mlp.set_output(&sink, &sink);
    mlp.fit(Features(d.X), d.y);
  }
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path);
  CHECK(text.rfind("RUNNING THE L-BFGS-B CODE\n\n           * * *\n\nMachine precision = 2.220D-16\n"
                   " N =           33     M =           10\n This problem is unconstrained.\n\n"
                   "At X0         0 variables are exactly at the bounds\n\n"
                   "At iterate    0    f=  1.34593D+00    |proj g|=  5.33938D-01\n\n"
                   "At iterate    1    f=  1.17535D+00    |proj g|=  1.02358D+00\n",
                   0) == 0);
  CHECK(contains(text, "At iterate   14    f=  5.35848D-01    |proj g|=  2.58185D-02\n\n"
                       "At iterate   15    f=  5.33740D-01    |proj g|=  1.94438D-02\n"));
  CHECK(contains(text, "   N    Tit     Tnf  Tnint  Skip  Nact     Projg        F\n"
                       "   33     15     16      1     0     0   1.944D-02   5.337D-01\n"));
  CHECK(contains(text, "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT"));
  CHECK(sink.str().find("Iteration") == std::string::npos);  // no per-epoch lines: lbfgs has no epochs
}
