// scikit-learn's estimators as model files (docs/model_format.md): an
// MLPClassifier (kind 1; kind 5 when fitted on multi-label targets) or an
// MLPRegressor (kind 4), each as its hyperparameters, classes, feature count
// and each layer's weights and bias.
#include <dagrad/io/atomic_file.hpp>
#include <dagrad/ml/mlp_file.hpp>

#include <dagrad/io/detail/model_file.hpp>

#include <limits>

namespace dagrad {

using namespace model_file_detail;

namespace {

std::string layer_scope(std::size_t i, std::size_t layers) {
  return i + 1 == layers ? "output" : "layer" + std::to_string(i + 1);
}

// What every estimator's file holds but its classes.
Contents contents_of(const MultilayerPerceptron& mlp, std::uint32_t kind) {
  Contents c;
  c.kind = kind;
  for (const auto& name : MLPParams::names()) c.params.emplace_back(name, mlp.params().get(name));
  c.n_iter = mlp.n_iter();
  const auto coefs = mlp.coefs();
  const auto intercepts = mlp.intercepts();
  c.n_features = static_cast<std::uint64_t>(coefs.front().rows());
  for (std::size_t i = 0; i < coefs.size(); ++i) {
    const std::string scope = layer_scope(i, coefs.size());
    c.tensors.push_back({scope + "/weights", coefs[i]});
    c.tensors.push_back({scope + "/bias", intercepts[i]});
  }
  return c;
}

// Reads a decoded file, each problem a DataError that starts with the file's name.
class FileReader {
 public:
  FileReader(Contents& c, const std::string& name) : c_(c), name_(name) {}

  [[noreturn]] void fail(const std::string& problem) const { throw DataError(name_ + ": " + problem); }

  // The hyperparameters over the defaults, checked as a fit checks them.
  MLPParams params() const {
    MLPParams params;
    try {
      for (const auto& [key, value] : c_.params) params.set(key, value);
      params.validate();
    } catch (const Error& e) {
      fail(std::string("hyperparameters: ") + e.what());
    }
    return params;
  }

  // The units of each layer, the output's left to the caller (0 here).
  std::vector<std::uint64_t> units(const MLPParams& params) const {
    if (c_.n_features < 1 || c_.n_features > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      fail("the header declares " + std::to_string(c_.n_features) + " features");
    }
    std::vector<std::uint64_t> units{c_.n_features};
    units.insert(units.end(), params.hidden_layer_sizes.begin(), params.hidden_layer_sizes.end());
    units.push_back(0);
    return units;
  }

  // The tensor count that hidden_layer_sizes calls for.
  void check_tensor_count(const MLPParams& params, std::size_t layers) const {
    if (c_.tensors.size() != 2 * layers) {
      fail("the file holds " + std::to_string(c_.tensors.size()) + " tensors; hidden_layer_sizes " +
           params.get("hidden_layer_sizes") + " calls for " + std::to_string(2 * layers));
    }
  }

  // Each layer's weights then bias, named and shaped as `units` calls for
  // (`why`: what fixes the shapes, for the message), all finite.
  void layers(const std::vector<std::uint64_t>& units, const std::string& why, std::vector<Matrix<double>>& coefs,
              std::vector<Matrix<double>>& intercepts) const {
    const std::size_t layers = units.size() - 1;
    for (std::size_t i = 0; i < layers; ++i) {
      const std::string scope = layer_scope(i, layers);
      for (int part = 0; part < 2; ++part) {
        Tensor& t = c_.tensors[2 * i + static_cast<std::size_t>(part)];
        const std::string want = scope + (part == 0 ? "/weights" : "/bias");
        if (t.name != want) {
          fail("tensor " + std::to_string(2 * i + part + 1) + " is named '" + t.name + "', expected '" + want +
               "'");
        }
        const std::uint64_t rows = part == 0 ? units[i] : 1, cols = units[i + 1];
        if (static_cast<std::uint64_t>(t.value.rows()) != rows ||
            static_cast<std::uint64_t>(t.value.cols()) != cols) {
          fail("tensor '" + t.name + "' has shape " + shape_text(t.value.rows(), t.value.cols()) + " but " + why +
               " call for " + shape_text(rows, cols));
        }
        if (std::size_t r, k; !all_finite(t.value, r, k)) {
          fail("tensor '" + t.name + "' holds a value that is not finite at row " + std::to_string(r) +
               ", column " + std::to_string(k));
        }
        (part == 0 ? coefs : intercepts).push_back(std::move(t.value));
      }
    }
  }

  // Runs a set_weights, its error as the file's.
  template <class F>
  void restore(F&& set_weights) const {
    try {
      set_weights();
    } catch (const Error& e) {
      fail(e.what());
    }
  }

 private:
  Contents& c_;
  const std::string& name_;
};

}  // namespace

void save(const MLPClassifier& mlp, const std::string& path) {
  if (!mlp.fitted()) throw Error(path + ": cannot save an MLPClassifier that is not fitted");
  Contents c = contents_of(mlp, mlp.multilabel() ? kind_mlp_multilabel : kind_mlp);
  c.classes = mlp.classes();
  write_file_atomically(path, encode(c));
}

void save(const MLPRegressor& mlp, const std::string& path) {
  if (!mlp.fitted()) throw Error(path + ": cannot save an MLPRegressor that is not fitted");
  write_file_atomically(path, encode(contents_of(mlp, kind_mlp_regressor)));
}

MLPClassifier parse_mlp(std::span<const std::uint8_t> bytes, const std::string& name) {
  Contents c = decode(bytes, name, {kind_mlp, kind_mlp_multilabel});
  const FileReader file(c, name);
  const MLPParams params = file.params();
  const bool multilabel = c.kind == kind_mlp_multilabel;
  if (multilabel) {
    if (c.classes.size() < 2) {
      file.fail("the header lists " + std::to_string(c.classes.size()) + " labels; a multi-label model has at least 2");
    }
    for (std::size_t i = 0; i < c.classes.size(); ++i) {
      if (c.classes[i] != static_cast<int>(i)) file.fail("a multi-label model's classes are 0, 1, ..., in order");
    }
  } else {
    if (c.classes.size() < 2) {
      file.fail("the header lists " + std::to_string(c.classes.size()) + " classes; at least 2 are needed");
    }
    for (std::size_t i = 1; i < c.classes.size(); ++i) {
      if (c.classes[i - 1] >= c.classes[i]) file.fail("the classes are not sorted and distinct");
    }
  }
  std::vector<std::uint64_t> units = file.units(params);
  units.back() = multilabel ? c.classes.size() : static_cast<std::uint64_t>(output_units(c.classes.size()));
  // Files written before two classes had one logistic unit hold two softmax
  // units; they load as the one unit that gives the same probabilities.
  const bool two_softmax_units = !multilabel && c.classes.size() == 2 &&
                                 c.tensors.size() == 2 * (units.size() - 1) && c.tensors.back().value.cols() == 2;
  if (two_softmax_units) units.back() = 2;
  file.check_tensor_count(params, units.size() - 1);
  std::vector<Matrix<double>> coefs, intercepts;
  file.layers(units, "the features, hidden_layer_sizes and classes", coefs, intercepts);
  if (two_softmax_units) {
    // softmax(z0, z1)[1] = sigmoid(z1 - z0): the unit's weights and bias
    // are the second column's less the first's.
    coefs.back() = Matrix<double>(coefs.back().col(1) - coefs.back().col(0));
    intercepts.back() = Matrix<double>(intercepts.back().col(1) - intercepts.back().col(0));
  }
  MLPClassifier mlp(params);
  file.restore([&] {
    if (multilabel) {
      mlp.set_multilabel_weights(coefs, intercepts, c.n_iter);
    } else {
      mlp.set_weights(c.classes, coefs, intercepts, c.n_iter);
    }
  });
  return mlp;
}

MLPRegressor parse_mlp_regressor(std::span<const std::uint8_t> bytes, const std::string& name) {
  Contents c = decode(bytes, name, kind_mlp_regressor);
  const FileReader file(c, name);
  const MLPParams params = file.params();
  if (!c.classes.empty()) file.fail("the header lists " + std::to_string(c.classes.size()) + " classes; a regressor has none");
  std::vector<std::uint64_t> units = file.units(params);
  file.check_tensor_count(params, units.size() - 1);
  // The outputs are the output layer's bias's columns, which the weights must agree with.
  units.back() = static_cast<std::uint64_t>(c.tensors.back().value.cols());
  if (units.back() < 1) file.fail("the output layer's bias has no columns: a regressor needs at least one output");
  std::vector<Matrix<double>> coefs, intercepts;
  file.layers(units, "the features, hidden_layer_sizes and the bias's " + std::to_string(units.back()) + " outputs",
              coefs, intercepts);
  MLPRegressor mlp(params);
  file.restore([&] { mlp.set_weights(coefs, intercepts, c.n_iter); });
  return mlp;
}

MLPClassifier load_mlp(const std::string& path) { return parse_mlp(read_file(path), path); }
MLPRegressor load_mlp_regressor(const std::string& path) { return parse_mlp_regressor(read_file(path), path); }

}  // namespace dagrad
