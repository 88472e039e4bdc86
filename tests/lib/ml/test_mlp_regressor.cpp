// MLPRegressor against scikit-learn 1.2.1: the loss curves, iterations,
// validation scores, R^2 and predictions of tests/lib/ml/regressor_reference.py,
// and its checks of bad input.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include "contains.hpp"

#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

using namespace dagrad;

namespace {

// regressor_reference.py's regression(): quarters and halves and their
// products, so numpy and C++ hold the same doubles. Y has three columns.
struct Data {
  Matrix<double> X, Y;
};
Data regression(int n = 60) {
  Data d{Matrix<double>(n, 3), Matrix<double>(n, 3)};
  for (int i = 0; i < n; ++i) {
    const double x0 = double((i * 37) % 17 - 8) / 4.0, x1 = double((i * 11 + 5) % 13 - 6) / 4.0,
                 x2 = double(i % 5) / 2.0 - 1.0;
    d.X.row(i) << x0, x1, x2;
    d.Y.row(i) << x0 - 2 * x1 + 0.5 * x0 * x2, x1 * x1 - 1.0, 0.25 * (x0 + x2);
  }
  return d;
}

// Within 1e-9 of scikit-learn's figure, relative to it (absolute below 1).
bool close(double ours, double sklearn, double tolerance = 1e-9) {
  return std::abs(ours - sklearn) <= tolerance * std::max(1.0, std::abs(sklearn));
}

// The largest difference, for the MESSAGEs that record the agreement.
double worst_of(const std::vector<double>& ours, const std::vector<double>& sklearn) {
  double worst = 0;
  for (std::size_t i = 0; i < ours.size() && i < sklearn.size(); ++i) {
    worst = std::max(worst, std::abs(ours[i] - sklearn[i]) / std::max(1.0, std::abs(sklearn[i])));
  }
  return worst;
}

std::vector<double> first_rows(const Matrix<double>& m, int rows) {
  std::vector<double> out;
  for (int r = 0; r < rows; ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) out.push_back(m(r, c));
  }
  return out;
}

// A float64 regressor fitted on d.X and the first `outputs` columns of d.Y,
// its warnings into `warnings` (the verbose lines, if any, dropped).
MLPRegressor fit_float64(MLPParams p, const Data& d, int outputs, std::ostringstream& warnings) {
  static std::ostringstream out;
  p.dtype = "float64";
  MLPRegressor mlp(p);
  mlp.set_output(&out, &warnings);
  mlp.fit(Features(d.X), Matrix<double>(d.Y.leftCols(outputs)));
  return mlp;
}

const char* const max_iter_warning = "ConvergenceWarning: Stochastic Optimizer: Maximum iterations (";

struct Case {
  std::string name;
  int outputs;
  MLPParams params;
  std::vector<double> loss_curve;  // scikit-learn's, whole
  double score;
  std::vector<double> predict;     // predict(X[:3]), row by row
};

}  // namespace

// Figures from `/usr/bin/python3 tests/lib/ml/regressor_reference.py`
// (scikit-learn 1.2.1, scipy 1.10.1, numpy 1.24.2, Debian 12). The checks
// allow 1e-9 relative (absolute below 1); the MESSAGEs record the agreement
// measured. GCC 12 native build: sgd and adam's loss curves, scores and
// predictions within 8e-16, early stopping's within 7e-16; lbfgs's losses
// within 9e-14 (three outputs, stopped by max_iter) and 7e-12 (converged);
// clang 14's portable build: the same to 8e-16, lbfgs's 2.3e-14 and 1.1e-11.
// As for the classifier, the converged lbfgs case moves most: near the
// minimum a flat direction shifts the predictions (1.6e-8, clang 2.5e-8) more than the
// loss, so its predictions and score are allowed 1e-7.
TEST_CASE("sgd and adam follow scikit-learn 1.2's MLPRegressor epoch by epoch") {
  const std::vector<Case> cases{
      {"adam_one", 1, {.hidden_layer_sizes = {5}, .max_iter = 20, .random_state = 1},
       {2.4774558095640042, 2.4694553254173073, 2.461484110902506, 2.4535426142424437, 2.4456472852169027,
        2.437783691737638, 2.429951332089976, 2.422180414726507, 2.414446135726266, 2.4067486299795564,
        2.399114347441422, 2.3915095311642456, 2.3839344844918378, 2.3763895013309946, 2.3689141242124805,
        2.3614929647074416, 2.3541048306417762, 2.3467494079673994, 2.3394264337402655, 2.3322706034040324},
       0.0747490038437365, {1.3354020719586457, 1.1311118465760193, 1.5143489797725058}},
      {"sgd_three", 3,
       {.hidden_layer_sizes = {6}, .activation = "tanh", .solver = "sgd", .batch_size = 16,
        .learning_rate_init = 0.01, .max_iter = 15, .random_state = 2},
       {1.057230112013303, 0.8678645155364703, 0.6506567063160591, 0.46996308043082036, 0.3273194443268741,
        0.21089407136602212, 0.1665346124210295, 0.16388867596911466, 0.16394661372529543, 0.1550249255126804,
        0.14230493392674204, 0.13394360340518846, 0.12792895716222974, 0.12319896491814217, 0.11849348726495675},
       0.6880517179565278,
       {-1.3313840476530097, -0.6865710787283594, -0.4066182344681348, 0.4059582122869776, -0.2877910596180638,
        -0.43635138084552133, 2.2702759159846644, 0.0041650044221619165, -0.31815335098141273}},
      {"invscaling_two_layers", 1,
       {.hidden_layer_sizes = {4, 3}, .activation = "logistic", .solver = "sgd", .alpha = 0.01, .batch_size = 25,
        .learning_rate = "invscaling", .learning_rate_init = 0.05, .power_t = 0.25, .max_iter = 12,
        .random_state = 3},
       {2.657394681887887, 2.545938629545235, 2.506647275132705, 2.5258291762355203, 2.565318196848071,
        2.573855092177367, 2.5495810290628627, 2.5426952940703935, 2.507117039690335, 2.517980713359146,
        2.5071996545825366, 2.5057551680006283},
       0.0010276696237375704, {0.05914377083261135, 0.06985186629623574, 0.08096001624499038}},
  };
  const Data d = regression();
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::ostringstream warnings;
    const MLPRegressor mlp = fit_float64(c.params, d, c.outputs, warnings);
    const Matrix<double> Y = d.Y.leftCols(c.outputs);
    REQUIRE(mlp.loss_curve().size() == c.loss_curve.size());
    for (std::size_t i = 0; i < c.loss_curve.size(); ++i) CHECK(close(mlp.loss_curve()[i], c.loss_curve[i]));
    CHECK(mlp.n_iter() == int(c.loss_curve.size()));
    CHECK(mlp.t() == 60u * c.loss_curve.size());
    CHECK(mlp.loss() == mlp.loss_curve().back());
    REQUIRE(mlp.best_loss().has_value());
    CHECK(*mlp.best_loss() == doctest::Approx(c.loss_curve.back()).epsilon(1e-9));
    CHECK(contains(warnings.str(), max_iter_warning + std::to_string(c.loss_curve.size()) + ") reached"));
    CHECK(mlp.n_outputs() == c.outputs);
    CHECK(mlp.out_activation() == "identity");
    const double score = mlp.score(Features(d.X), Y);
    CHECK(close(score, c.score));
    const std::vector<double> predicted = first_rows(mlp.predict(Features(d.X)), 3);
    REQUIRE(predicted.size() == c.predict.size());
    for (std::size_t i = 0; i < predicted.size(); ++i) CHECK(close(predicted[i], c.predict[i]));
    MESSAGE(c.name << ": loss curve within " << worst_of(mlp.loss_curve(), c.loss_curve) << ", predictions within "
                   << worst_of(predicted, c.predict) << ", score within " << std::abs(score - c.score));
  }
}

// regressor_reference.py's SCHEDULE_CASES. adaptive: nn's adaptive schedule
// divides the rate by 5 at each plateau of the training loss, eight times,
// then stops with the rate at 5.12e-7. invscaling_warm_start: a second fit
// with warm_start trains a fresh optimizer from learning_rate_init, whose
// schedule's clock continues from the samples the first fit saw (t_ = 240),
// so its rate ends at 0.05 / sqrt(481).
TEST_CASE("adaptive's plateaus and invscaling's clock over a warm start follow scikit-learn 1.2") {
  const Data d = regression();
  const Matrix<double> y = d.Y.leftCols(1);
  std::ostringstream out, warnings;
  MLPRegressor adaptive({.hidden_layer_sizes = {5}, .solver = "sgd", .batch_size = 20, .learning_rate = "adaptive",
                         .learning_rate_init = 0.2, .max_iter = 40, .random_state = 6, .tol = 0.05, .verbose = 1,
                         .n_iter_no_change = 2, .dtype = "float64"});
  adaptive.set_output(&out, &warnings);
  adaptive.fit(Features(d.X), y);
  const std::vector<double> adaptive_curve{
      2.7050683319556796,  0.4346118734646165,  0.25571912672966424, 0.23707365279246603, 0.2728241664249285,
      0.20584084284641088, 0.20390153764425392, 0.22038739805574145, 0.27565964245527314, 0.29664894078157517,
      0.3594102852817121,  0.23651958325124153, 0.1171738229484128,  0.12309405924837832, 0.16453639255870137,
      0.19650558230124351, 0.21025197878262888, 0.21760228557739525, 0.22032240018044652, 0.21876253719265407,
      0.2171974161886391,  0.21553486736337557, 0.21363836176904005, 0.21228848426168145, 0.21087093916897282,
      0.2100740760536611,  0.20932661436451439, 0.20872979366344827, 0.20838474594583903, 0.20800555125960343,
      0.20780051524021204};
  REQUIRE(adaptive.loss_curve().size() == adaptive_curve.size());
  for (std::size_t i = 0; i < adaptive_curve.size(); ++i) CHECK(close(adaptive.loss_curve()[i], adaptive_curve[i]));
  CHECK(adaptive.t() == 1860u);
  const std::string stalled = "Training loss did not improve more than tol=0.050000 for 2 consecutive epochs.";
  std::string lowered;
  for (const char* rate : {"0.040000", "0.008000", "0.001600", "0.000320", "0.000064", "0.000013", "0.000003",
                           "0.000001"}) {
    lowered += stalled + " Setting learning rate to " + rate + "\n";
  }
  std::string lines;  // the verbose lines but the iterations'
  std::istringstream verbose(out.str());
  for (std::string line; std::getline(verbose, line);) {
    if (line.rfind("Iteration", 0) != 0) lines += line + "\n";
  }
  CHECK(lines == lowered + stalled + " Learning rate too small. Stopping.\n");
  const std::vector<double> adaptive_predict{-0.6484925990607577, -0.2726865703438583, 1.0282362069013598};
  const std::vector<double> predicted = first_rows(adaptive.predict(Features(d.X)), 3);
  for (std::size_t i = 0; i < predicted.size(); ++i) CHECK(close(predicted[i], adaptive_predict[i]));
  MESSAGE("adaptive: loss curve within " << worst_of(adaptive.loss_curve(), adaptive_curve));

  MLPRegressor warm({.hidden_layer_sizes = {4}, .solver = "sgd", .batch_size = 16, .learning_rate = "invscaling",
                     .learning_rate_init = 0.05, .power_t = 0.5, .max_iter = 4, .random_state = 7,
                     .warm_start = true, .dtype = "float64"});
  warm.set_output(&out, &warnings);
  warm.fit(Features(d.X), y);
  warm.fit(Features(d.X), y);
  const std::vector<double> warm_curve{2.7926254957628998, 1.1286619709168542, 0.9836816385469669,
                                       0.9307163101066044, 0.8198417598021851, 0.5771495634244076,
                                       0.543776811056254,  0.571730989144183};
  REQUIRE(warm.loss_curve().size() == warm_curve.size());
  for (std::size_t i = 0; i < warm_curve.size(); ++i) CHECK(close(warm.loss_curve()[i], warm_curve[i]));
  CHECK(warm.t() == 480u);
  const std::vector<double> warm_predict{-0.032689467634925196, 1.6764121554731959, 1.6764121554731959};
  const std::vector<double> warm_predicted = first_rows(warm.predict(Features(d.X)), 3);
  for (std::size_t i = 0; i < warm_predicted.size(); ++i) CHECK(close(warm_predicted[i], warm_predict[i]));
  MESSAGE("invscaling_warm_start: loss curve within " << worst_of(warm.loss_curve(), warm_curve));
}

TEST_CASE("lbfgs follows scikit-learn 1.2's MLPRegressor, one output and three") {
  struct LbfgsCase {
    std::string name;
    int outputs;
    MLPParams params;
    double loss;
    int n_iter;
    bool warns;
    double score;
    std::vector<double> predict;
    double tolerance = 1e-9;
  };
  const std::vector<LbfgsCase> cases{
      {"lbfgs_three", 3, {.hidden_layer_sizes = {5}, .solver = "lbfgs", .max_iter = 30, .random_state = 0},
       0.03246966719511971, 30, true, 0.9188090663188758,
       {-0.25226673470660055, -1.13276106187169, -0.7146403900702406, 0.6062740145448438, -0.3375956046039287,
        -0.3448954312309178, 1.995426489134947, 0.3296227054324677, -0.051796928932644065}},
      {"lbfgs_converges", 1,
       {.hidden_layer_sizes = {3}, .activation = "tanh", .solver = "lbfgs", .alpha = 1.0, .max_iter = 500,
        .random_state = 4},
       0.13111078620735908, 76, false, 0.9876517825646547,
       {-0.627041110980769, 0.6275919913104173, 1.8241558816562187}, 1e-7},
  };
  const Data d = regression();
  for (const LbfgsCase& c : cases) {
    CAPTURE(c.name);
    std::ostringstream warnings;
    const MLPRegressor mlp = fit_float64(c.params, d, c.outputs, warnings);
    const Matrix<double> Y = d.Y.leftCols(c.outputs);
    CHECK(close(mlp.loss(), c.loss));
    CHECK(mlp.n_iter() == c.n_iter);
    CHECK(mlp.loss_curve().empty());
    CHECK(mlp.t() == 0u);
    CHECK(contains(warnings.str(), "lbfgs failed to converge") == c.warns);
    const double score = mlp.score(Features(d.X), Y);
    CHECK(close(score, c.score, c.tolerance));
    const std::vector<double> predicted = first_rows(mlp.predict(Features(d.X)), 3);
    for (std::size_t i = 0; i < predicted.size(); ++i) CHECK(close(predicted[i], c.predict[i], c.tolerance));
    MESSAGE(c.name << ": loss within " << std::abs(mlp.loss() - c.loss) / c.loss << " relative, predictions within "
                   << worst_of(predicted, c.predict) << ", score within " << std::abs(score - c.score));
  }
}

TEST_CASE("early stopping holds out rows and scores R^2 as scikit-learn 1.2's MLPRegressor") {
  // regressor_reference.py's "early_stopping": 162 epochs; the first and
  // last of loss_curve_ and validation_scores_.
  const Data d = regression();
  std::ostringstream out, warnings;
  MLPRegressor mlp({.hidden_layer_sizes = {8}, .learning_rate_init = 0.01, .max_iter = 300, .random_state = 5,
                    .verbose = 1, .early_stopping = true, .n_iter_no_change = 3, .dtype = "float64"});
  mlp.set_output(&out, &warnings);
  mlp.fit(Features(d.X), d.Y);
  REQUIRE(mlp.n_iter() == 162);
  const auto& loss = mlp.loss_curve();
  const auto& scores = mlp.validation_scores();
  REQUIRE(scores.size() == 162);
  CHECK(close(loss[0], 1.457726917860567));
  CHECK(close(loss[1], 1.4068661364389707));
  CHECK(close(loss[160], 0.051474091207982346));
  CHECK(close(loss[161], 0.05106596819680731));
  CHECK(close(scores[0], -7.855818347404891));
  CHECK(close(scores[1], -7.351764292705813));
  CHECK(close(scores[160], 0.7886842892941278));
  CHECK(close(scores[161], 0.7885295175562504));
  REQUIRE(mlp.best_validation_score().has_value());
  CHECK(close(*mlp.best_validation_score(), 0.788748416800848));
  CHECK_FALSE(mlp.best_loss().has_value());
  CHECK(mlp.t() == 8748u);  // 54 rows trained on, 6 held out
  // The weights are those of the best validation score (epoch 159).
  const double score = mlp.score(Features(d.X), d.Y);
  CHECK(close(score, 0.8857515542780097));
  const std::vector<double> predicted = first_rows(mlp.predict(Features(d.X)), 3);
  const std::vector<double> sklearn{-0.7425555858921118, -1.3018150584115615, -0.7142041631292786,
                                    0.17543085760462396, -0.23091938517861824, -0.4803441529219509,
                                    2.2280881828589387,  0.4544387866052586,   -0.23834002888184244};
  for (std::size_t i = 0; i < predicted.size(); ++i) CHECK(close(predicted[i], sklearn[i]));
  MESSAGE("early_stopping: last loss within " << std::abs(loss[161] - 0.05106596819680731) / 0.05106596819680731
                                              << ", last score within " << std::abs(scores[161] - 0.7885295175562504)
                                              << ", predictions within " << worst_of(predicted, sklearn));
  CHECK(contains(out.str(), "Iteration 1, loss = 1.45772692\nValidation score: -7.855818\n"));
  CHECK(contains(out.str(), "Validation score did not improve more than tol=0.000100 for 3 consecutive epochs. "
                            "Stopping.\n"));
  CHECK(warnings.str().empty());
  // dagrad's own: the held-out loss after each epoch, beside loss_curve().
  REQUIRE(mlp.validation_loss_curve().size() == 162);
  CHECK(mlp.validation_loss_curve().back() < mlp.validation_loss_curve().front());
  CHECK(mlp.validation_loss_curve().back() > 0);
}

TEST_CASE("a flat target vector is the n x 1 matrix, and predict's column 0 is scikit-learn's 1-D result") {
  const Data d = regression();
  std::vector<double> y;
  for (Eigen::Index r = 0; r < d.Y.rows(); ++r) y.push_back(d.Y(r, 0));
  MLPParams p{.hidden_layer_sizes = {5}, .max_iter = 5, .random_state = 1, .dtype = "float64"};
  std::ostringstream sink;
  MLPRegressor flat(p), column(p);
  flat.set_output(&sink, &sink);
  column.set_output(&sink, &sink);
  flat.fit(Features(d.X), y);
  column.fit(Features(d.X), Matrix<double>(d.Y.leftCols(1)));
  CHECK(flat.loss_curve() == column.loss_curve());
  const Matrix<double> predicted = flat.predict(Features(d.X));
  CHECK(predicted.rows() == 60);
  CHECK(predicted.cols() == 1);
  CHECK(flat.score(Features(d.X), y) == column.score(Features(d.X), Matrix<double>(d.Y.leftCols(1))));
}

TEST_CASE("r2_score is scikit-learn's, averaged over the outputs") {
  Matrix<double> y(4, 2), p(4, 2);
  y << 1, 5, 2, 5, 3, 5, 4, 5;
  p << 1, 5, 2, 5, 3, 5, 5, 5;
  // Column 0: 1 - 1 / 5; column 1 is constant and predicted exactly: 1.
  CHECK(r2_score(y, p) == doctest::Approx((0.8 + 1.0) / 2));
  p(0, 1) = 4;  // a constant column predicted wrongly scores 0
  CHECK(r2_score(y, p) == doctest::Approx(0.4));
  CHECK(std::isnan(r2_score(y.topRows(1), p.topRows(1))));
  CHECK_THROWS_AS(r2_score(y, p.leftCols(1)), ShapeError);
}

TEST_CASE("bad regression data is refused naming the row, the column or the parameter") {
  const Data d = regression(20);
  std::ostringstream sink;
  MLPRegressor mlp({.hidden_layer_sizes = {3}, .max_iter = 2});
  mlp.set_output(&sink, &sink);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), Matrix<double>(d.Y.topRows(7))),
                       doctest::Contains("X has 20 rows but y has 7 rows"), Error);
  Matrix<double> bad = d.Y;
  bad(4, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), bad), doctest::Contains("y holds a value that is not finite (nan) at row 4, column 2"),
                       Error);
  bad(4, 2) = INFINITY;
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), bad), doctest::Contains("row 4, column 2"), Error);
  Matrix<double> bad_x = d.X;
  bad_x(3, 1) = -INFINITY;
  CHECK_THROWS_WITH_AS(mlp.fit(Features(bad_x), d.Y), doctest::Contains("X holds a value that is not finite at row 3, column 1"),
                       Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), Matrix<double>(20, 0)), doctest::Contains("at least 1 output"), Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(Matrix<double>(20, 0)), d.Y), doctest::Contains("at least 1 feature"), Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(Matrix<double>(0, 3)), Matrix<double>(0, 3)), doctest::Contains("X has no rows"),
                       Error);
  CHECK_THROWS_WITH_AS(mlp.predict(Features(d.X)), doctest::Contains("MLPRegressor: predict before fit"), Error);
  mlp.fit(Features(d.X), d.Y);
  CHECK_THROWS_WITH_AS(mlp.predict(Features(Matrix<double>(2, 4))), doctest::Contains("4 features but the model was fitted on 3"),
                       Error);
  CHECK_THROWS_WITH_AS(mlp.score(Features(d.X), Matrix<double>(d.Y.leftCols(2))), doctest::Contains("2 columns but the model has 3 outputs"),
                       ShapeError);
  // partial_fit with data of another width, then lbfgs's partial_fit.
  mlp.params().max_iter = 200;
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), Matrix<double>(d.Y.leftCols(1))),
                       doctest::Contains("another shape (the model was built for 3 features and 3 outputs)"), Error);
  MLPRegressor lbfgs({.solver = "lbfgs"});
  CHECK_THROWS_WITH_AS(lbfgs.partial_fit(Features(d.X), d.Y), doctest::Contains("lbfgs is not stochastic"), Error);
  MLPRegressor tiny({.max_iter = 2, .early_stopping = true, .validation_fraction = 0.01});
  tiny.set_output(&sink, &sink);
  CHECK_NOTHROW(tiny.fit(Features(d.X), d.Y));  // ceil(0.2) = 1 row held out
  MLPRegressor none({.max_iter = 2, .early_stopping = true, .validation_fraction = 0.99});
  none.set_output(&sink, &sink);
  CHECK_THROWS_WITH_AS(none.fit(Features(d.X), d.Y), doctest::Contains("leaves no rows to train"), Error);
}

TEST_CASE("partial_fit runs one epoch a call and set_weights restores a regressor") {
  const Data d = regression();
  std::ostringstream sink;
  MLPRegressor mlp({.hidden_layer_sizes = {4}, .random_state = 1, .dtype = "float64"});
  mlp.set_output(&sink, &sink);
  mlp.partial_fit(Features(d.X), d.Y);
  mlp.partial_fit(Features(d.X), d.Y);
  CHECK(mlp.n_iter() == 2);
  CHECK(mlp.loss_curve().size() == 2);
  MLPRegressor copy({.hidden_layer_sizes = {4}, .dtype = "float64"});
  copy.set_weights(mlp.coefs(), mlp.intercepts(), mlp.n_iter());
  CHECK(copy.predict(Features(d.X)) == mlp.predict(Features(d.X)));
  CHECK(copy.n_outputs() == 3);
  CHECK_THROWS_WITH_AS(copy.set_weights({mlp.coefs()[0]}, {mlp.intercepts()[0]}), doctest::Contains("needs 2 coefs"),
                       Error);
  check_contains(mlp.summary(), {"MLPRegressor\n", "output/weights  4x3  12"});
}

TEST_CASE("the held-out loss per epoch is the squared error that validation R^2 scores") {
  // With alpha = 0 and one output, the held-out loss is (1/2) mean (y - p)^2
  // and R^2 = 1 - sum (y - p)^2 / sum (y - mean y)^2 over the same rows, so
  // loss / (1 - R^2) is (1/2) the held-out rows' variance in every epoch.
  const Data d = regression();
  std::ostringstream sink;
  MLPRegressor mlp({.hidden_layer_sizes = {6}, .alpha = 0, .learning_rate_init = 0.01, .max_iter = 20,
                    .random_state = 2, .early_stopping = true, .validation_fraction = 0.2,
                    .n_iter_no_change = 50, .dtype = "float64"});
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(d.X), Matrix<double>(d.Y.leftCols(1)));
  const auto& loss = mlp.validation_loss_curve();
  const auto& r2 = mlp.validation_scores();
  REQUIRE(loss.size() == 20);
  REQUIRE(r2.size() == 20);
  const double half_variance = loss[0] / (1 - r2[0]);
  CHECK(half_variance > 0);
  for (std::size_t k = 1; k < loss.size(); ++k) {
    CAPTURE(k);
    CHECK(loss[k] / (1 - r2[k]) == doctest::Approx(half_variance).epsilon(1e-12));
  }
  CHECK(loss.back() != loss.front());  // training moved the held-out error
  // Without early stopping nothing is held out.
  MLPRegressor plain({.hidden_layer_sizes = {6}, .max_iter = 2, .random_state = 2});
  plain.set_output(&sink, &sink);
  plain.fit(Features(d.X), Matrix<double>(d.Y.leftCols(1)));
  CHECK(plain.validation_loss_curve().empty());
  CHECK(plain.validation_scores().empty());
}

TEST_CASE("a bad parameter's message names the estimator it was given to") {
  CHECK_THROWS_WITH_AS(MLPRegressor({.alpha = -1}), doctest::Contains("MLPRegressor parameter 'alpha' cannot be"),
                       Error);
  CHECK_THROWS_WITH_AS(MLPClassifier({.alpha = -1}),
                       doctest::Contains("MLPClassifier parameter 'alpha' cannot be"), Error);
}
