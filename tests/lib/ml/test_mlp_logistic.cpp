// MLPClassifier's logistic outputs, as scikit-learn 1.2.1's: one unit for
// two classes, one per label for multi-label targets; and early stopping's
// split (stratified for two classes only, as there), against the figures of
// tests/lib/ml/classifier_reference.py.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <cmath>
#include <sstream>

using namespace dagrad;

namespace {

// classifier_reference.py's data: lbfgs_reference.py's features, and three
// targets: two classes (3, 7), three classes (3, 5, 7), three labels.
struct Data {
  Matrix<double> X;
  std::vector<int> two, three;
  Matrix<int> labels;
};
Data data(int n = 60) {
  Data d{Matrix<double>(n, 2), std::vector<int>(n), std::vector<int>(n), Matrix<int>(n, 3)};
  const int three[3] = {3, 5, 7};
  for (int i = 0; i < n; ++i) {
    d.X(i, 0) = double((i * 37) % 17 - 8) / 4.0 + double(i % 3) * 1.5;
    d.X(i, 1) = double((i * 11 + 5) % 13 - 6) / 4.0 - double(i % 3);
    d.two[i] = i % 3 == 1 ? 7 : 3;
    d.three[i] = three[i % 3];
    d.labels.row(i) << (i % 3 == 0), (d.X(i, 0) > 0), (d.X(i, 0) + d.X(i, 1) > 0.5);
  }
  return d;
}

enum class Target { two, three, labels };

struct Case {
  std::string name;
  Target target;
  MLPParams params;
  double loss;
  int n_iter;
  std::vector<double> loss_curve, validation_scores;
  double score;
  std::vector<double> proba;  // predict_proba(X[:3]), row by row
  std::vector<int> predict;   // predict(X[:6]) (predict_indicator(X[:6]) for labels), row by row
};

// scikit-learn's figures, printed by `/usr/bin/python3 tests/lib/ml/classifier_reference.py`
// (scikit-learn 1.2.1, scipy 1.10.1, numpy 1.24.2, Debian 12).
std::vector<Case> cases() {
  return {
      {"binary_adam", Target::two, {.hidden_layer_sizes = {5}, .max_iter = 15, .random_state = 1},
       0.6952267360281043, 15,
       {0.7193092342238447, 0.7174964556900847, 0.7156919461250985, 0.7138878771109634, 0.7121083974638288,
        0.7103567574088226, 0.7086213564736272, 0.7069022863291831, 0.7051976763438937, 0.7034980281406186,
        0.7018147609237982, 0.7001456197312508, 0.6984888606429518, 0.6968491327329368, 0.6952267360281043},
       {}, 0.38333333333333336,
       {0.6273721963792278, 0.3726278036207722, 0.5138426939368368, 0.4861573060631632, 0.4493714941388911,
        0.5506285058611089},
       {3, 3, 7, 7, 7, 7}},
      {"binary_lbfgs", Target::two, {.hidden_layer_sizes = {4}, .solver = "lbfgs", .max_iter = 25, .random_state = 2},
       0.4120354990872191, 25, {}, {}, 0.7666666666666667,
       {1.0, 7.277600580881773e-19, 0.457489899690286, 0.542510100309714, 0.9316136910843272, 0.06838630891567281},
       {3, 7, 3, 3, 7, 3}},
      {"binary_early_stopping", Target::two,
       {.hidden_layer_sizes = {6}, .solver = "sgd", .learning_rate_init = 0.1, .max_iter = 200, .random_state = 3,
        .early_stopping = true, .validation_fraction = 0.2, .n_iter_no_change = 4},
       0.6357692081444595, 6,
       {0.7500682498339151, 0.6845521430440703, 0.6361351175818857, 0.62384844220252, 0.6323671811669958,
        0.6357692081444595},
       {0.5, 0.5, 0.5, 0.5, 0.5, 0.4166666666666667}, 0.5833333333333334,
       {0.6097946165663867, 0.39020538343361333, 0.7704020538941169, 0.22959794610588316, 0.9494793899837737,
        0.05052061001622636},
       {3, 3, 3, 7, 3, 3}},
      {"multiclass_early_stopping", Target::three,
       {.hidden_layer_sizes = {6}, .learning_rate_init = 0.05, .max_iter = 200, .random_state = 4,
        .early_stopping = true, .validation_fraction = 0.25, .n_iter_no_change = 5},
       0.6522009064286864, 18,
       {1.2660783522713126, 1.1123691919930656, 1.0495037655410102, 1.0047159613477945, 0.9626274516259082,
        0.9186077977196258, 0.8747001751114276, 0.8332177756832599, 0.7982522856468829, 0.7705815775745131,
        0.7485985171920748, 0.7304529473894557, 0.7149814757720266, 0.7010173219923554, 0.6881033248703996,
        0.6754775225497702, 0.6633088862643588, 0.6522009064286864},
       {0.6, 0.6, 0.6, 0.6, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 0.6666666666666666,
        0.6666666666666666, 0.7333333333333333, 0.7333333333333333, 0.8666666666666667, 0.8666666666666667,
        0.8666666666666667, 0.8666666666666667, 0.8666666666666667, 0.8666666666666667, 0.8666666666666667},
       0.75,
       {0.6296549229022335, 0.28011268854708415, 0.09023238855068232, 0.39349720844386826, 0.4390453827386283,
        0.16745740881750362, 0.028849207844220973, 0.11309817080132638, 0.8580526213544526},
       {3, 5, 7, 3, 5, 7}},
      {"multilabel_adam", Target::labels,
       {.hidden_layer_sizes = {8}, .activation = "tanh", .learning_rate_init = 0.01, .max_iter = 12,
        .random_state = 5},
       2.0109335528329204, 12,
       {3.0605341445203424, 2.9503334371680796, 2.842037771359595, 2.7360686017845657, 2.632814654032916,
        2.532629290629599, 2.435828625472517, 2.34269037096585, 2.2534531720838222, 2.1683160336192184,
        2.0874374032900875, 2.0109335528329204},
       {}, 0.13333333333333333,
       {0.1763092560947976, 0.21311944594563897, 0.6377858484352579, 0.31281929242387646, 0.6406680384639502,
        0.4968374609319836, 0.38175143207204165, 0.7533563395978392, 0.5902404989564504},
       {0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1}},
      {"multilabel_lbfgs", Target::labels,
       {.hidden_layer_sizes = {8}, .solver = "lbfgs", .max_iter = 30, .random_state = 6},
       0.2787504968651384, 30, {}, {}, 0.8333333333333334,
       {0.9999968736530925, 6.802833557416845e-25, 5.720483034966179e-18, 0.2765040705214534, 0.991205018612102,
        2.5218893813121602e-14, 0.0038022579065613233, 1.0, 4.422468566418116e-09},
       {1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1}},
  };
}

double relative(double ours, double sklearn) { return std::abs(ours - sklearn) / std::max(1.0, std::abs(sklearn)); }

}  // namespace

// The checks allow 1e-9 relative (absolute below 1) on losses, scores and
// probabilities; the MESSAGEs record the agreement measured.
TEST_CASE("two classes and multi-label train logistic units as scikit-learn 1.2 does") {
  const Data d = data();
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    MLPParams p = c.params;
    p.dtype = "float64";
    std::ostringstream sink;
    MLPClassifier mlp(p);
    mlp.set_output(&sink, &sink);
    if (c.target == Target::labels) {
      mlp.fit(Features(d.X), d.labels);
    } else {
      mlp.fit(Features(d.X), c.target == Target::two ? d.two : d.three);
    }
    const int classes = c.target == Target::two ? 2 : 3;
    CHECK(mlp.out_activation() == (c.target == Target::three ? "softmax" : "logistic"));
    CHECK(mlp.n_outputs() == (c.target == Target::two ? 1 : 3));
    CHECK(mlp.classes() == (c.target == Target::two     ? std::vector<int>{3, 7}
                            : c.target == Target::three ? std::vector<int>{3, 5, 7}
                                                        : std::vector<int>{0, 1, 2}));
    CHECK(mlp.multilabel() == (c.target == Target::labels));
    CHECK(mlp.n_iter() == c.n_iter);
    CHECK(relative(mlp.loss(), c.loss) < 1e-9);
    double worst_curve = 0;
    REQUIRE(mlp.loss_curve().size() == c.loss_curve.size());
    for (std::size_t i = 0; i < c.loss_curve.size(); ++i) {
      worst_curve = std::max(worst_curve, relative(mlp.loss_curve()[i], c.loss_curve[i]));
    }
    CHECK(worst_curve < 1e-9);
    CHECK(mlp.validation_scores() == c.validation_scores);  // fractions of the held-out rows: exact
    CHECK(mlp.validation_loss_curve().size() == c.validation_scores.size());  // dagrad's own, beside them
    const double score = c.target == Target::labels ? mlp.score(Features(d.X), d.labels)
                                                    : mlp.score(Features(d.X), c.target == Target::two ? d.two : d.three);
    CHECK(score == c.score);
    const Matrix<double> proba = mlp.predict_proba(Features(d.X));
    REQUIRE(proba.cols() == classes);
    double worst_proba = 0;
    for (std::size_t k = 0; k < c.proba.size(); ++k) {
      worst_proba = std::max(worst_proba, std::abs(proba(Eigen::Index(k) / classes, Eigen::Index(k) % classes) - c.proba[k]));
    }
    CHECK(worst_proba < 1e-9);
    std::vector<int> predicted;
    if (c.target == Target::labels) {
      const Matrix<int> indicator = mlp.predict_indicator(Features(d.X));
      for (Eigen::Index r = 0; r < 6; ++r) {
        for (Eigen::Index l = 0; l < 3; ++l) predicted.push_back(indicator(r, l));
      }
    } else {
      predicted = mlp.predict(Features(d.X));
      predicted.resize(6);
    }
    CHECK(predicted == c.predict);
    MESSAGE(c.name << ": loss within " << relative(mlp.loss(), c.loss) << ", loss curve within " << worst_curve
                   << ", probabilities within " << worst_proba);
  }
}

// scikit-learn's figures: the last case of `/usr/bin/python3 tests/lib/ml/classifier_reference.py`.
TEST_CASE("multi-label partial_fit takes the label columns as classes, then runs one epoch a call, as scikit-learn") {
  const Data d = data();
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {8}, .activation = "tanh", .learning_rate_init = 0.01,
                     .random_state = 5, .dtype = "float64"});
  mlp.set_output(&sink, &sink);
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), d.labels), doctest::Contains("label columns 0 to 2"), Error);
  const std::vector<int> wrong{1, 2, 3}, columns{0, 1, 2};
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), d.labels, wrong), doctest::Contains("y has 3 columns"), Error);
  for (int call = 0; call < 3; ++call) mlp.partial_fit(Features(d.X), d.labels, call == 0 ? columns : std::vector<int>{});
  CHECK(mlp.multilabel());
  CHECK(mlp.n_iter() == 3);
  CHECK(mlp.t() == 180u);
  const std::vector<double> curve{3.0605341445203424, 2.9503334371680796, 2.842037771359595};
  REQUIRE(mlp.loss_curve().size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(relative(mlp.loss_curve()[i], curve[i]) < 1e-9);
  const std::vector<double> proba{0.1116673997543862, 0.22046190509405592, 0.7287236475435708,
                                  0.40288061864905134, 0.47132687759635805, 0.6959141128090893,
                                  0.5939334822080254, 0.5274506044781924, 0.760493793066416};
  const Matrix<double> p = mlp.predict_proba(Features(d.X));
  for (std::size_t k = 0; k < proba.size(); ++k) CHECK(std::abs(p(Eigen::Index(k) / 3, Eigen::Index(k) % 3) - proba[k]) < 1e-9);

  // The kind of target stays what the model was first given.
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), d.three), doctest::Contains("n x L matrix"), Error);
  CHECK_THROWS_WITH_AS(mlp.partial_fit(Features(d.X), Matrix<int>(d.labels.leftCols(2))),
                       doctest::Contains("y has 2 label columns; the model was fitted on 3"), Error);
  MLPClassifier single({.hidden_layer_sizes = {4}, .random_state = 1});
  single.set_output(&sink, &sink);
  single.partial_fit(Features(d.X), d.three, std::vector<int>{3, 5, 7});
  CHECK_THROWS_WITH_AS(single.partial_fit(Features(d.X), d.labels), doctest::Contains("one label a row"), Error);
}

TEST_CASE("two classes' predict_proba is [1 - p, p] and its log is taken element by element") {
  const Data d = data();
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {5}, .max_iter = 5, .random_state = 1});
  mlp.set_output(&sink, &sink);
  mlp.fit(Features(d.X), d.two);
  const Matrix<double> proba = mlp.predict_proba(Features(d.X)), log_proba = mlp.predict_log_proba(Features(d.X));
  REQUIRE(proba.cols() == 2);
  CHECK(mlp.coefs().back().cols() == 1);
  for (Eigen::Index r = 0; r < proba.rows(); ++r) {
    CHECK(proba(r, 0) == 1.0 - proba(r, 1));
    CHECK(log_proba(r, 1) == std::log(proba(r, 1)));
    CHECK(mlp.predict(Features(d.X))[static_cast<std::size_t>(r)] == (proba(r, 1) > 0.5 ? 7 : 3));
  }
}

TEST_CASE("multi-label targets are checked, and a multi-label model answers only predict_indicator") {
  const Data d = data(20);
  std::ostringstream sink;
  MLPClassifier mlp({.hidden_layer_sizes = {4}, .max_iter = 3, .random_state = 1});
  mlp.set_output(&sink, &sink);
  Matrix<int> bad = d.labels;
  bad(5, 2) = 2;
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), bad), doctest::Contains("hold 0 or 1; y holds 2 at row 5, column 2"),
                       Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), Matrix<int>(d.labels.leftCols(1))),
                       doctest::Contains("at least 2 columns"), Error);
  CHECK_THROWS_WITH_AS(mlp.fit(Features(d.X), Matrix<int>(d.labels.topRows(4))),
                       doctest::Contains("X has 20 rows but y has 4 rows"), Error);
  mlp.fit(Features(d.X), d.labels);
  CHECK_THROWS_WITH_AS(mlp.predict(Features(d.X)), doctest::Contains("use predict_indicator"), Error);
  CHECK(mlp.predict_indicator(Features(d.X)).cols() == 3);
  mlp.fit(Features(d.X), d.three);  // a fresh fit may change the kind of target
  CHECK_FALSE(mlp.multilabel());
  CHECK_THROWS_WITH_AS(mlp.predict_indicator(Features(d.X)), doctest::Contains("use predict"), Error);
}
