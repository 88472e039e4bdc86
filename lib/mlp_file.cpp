// An MLPClassifier as a model file (docs/model_format.md, kind 1): its
// hyperparameters, classes and each layer's weights and bias.
#include <dagrad/atomic_file.hpp>
#include <dagrad/model_file.hpp>

#include "model_file_detail.hpp"

#include <limits>

namespace dagrad {

using namespace model_file_detail;

namespace {

std::string layer_scope(std::size_t i, std::size_t layers) {
  return i + 1 == layers ? "output" : "layer" + std::to_string(i + 1);
}

}  // namespace

void save(const MLPClassifier& mlp, const std::string& path) {
  if (!mlp.fitted()) throw Error(path + ": cannot save an MLPClassifier that is not fitted");
  if (mlp.multilabel()) {
    throw Error(path + ": model files hold classifiers of one label a row; this MLPClassifier was fitted on "
                "multi-label targets");
  }
  Contents c;
  c.kind = kind_mlp;
  for (const auto& name : MLPParams::names()) c.params.emplace_back(name, mlp.params().get(name));
  c.classes = mlp.classes();
  c.n_iter = mlp.n_iter();
  const auto coefs = mlp.coefs();
  const auto intercepts = mlp.intercepts();
  c.n_features = static_cast<std::uint64_t>(coefs.front().rows());
  for (std::size_t i = 0; i < coefs.size(); ++i) {
    const std::string scope = layer_scope(i, coefs.size());
    c.tensors.push_back({scope + "/weights", coefs[i]});
    c.tensors.push_back({scope + "/bias", intercepts[i]});
  }
  write_file_atomically(path, encode(c));
}

MLPClassifier parse_mlp(std::span<const std::uint8_t> bytes, const std::string& name) {
  Contents c = decode(bytes, name, kind_mlp);
  auto fail = [&](const std::string& problem) -> void { throw DataError(name + ": " + problem); };
  MLPParams params;
  for (const auto& [key, value] : c.params) {
    try {
      params.set(key, value);
    } catch (const Error& e) {
      fail(std::string("hyperparameters: ") + e.what());
    }
  }
  try {
    params.validate();
  } catch (const Error& e) {
    fail(std::string("hyperparameters: ") + e.what());
  }
  if (c.classes.size() < 2) {
    fail("the header lists " + std::to_string(c.classes.size()) + " classes; at least 2 are needed");
  }
  for (std::size_t i = 1; i < c.classes.size(); ++i) {
    if (c.classes[i - 1] >= c.classes[i]) fail("the classes are not sorted and distinct");
  }
  if (c.n_features < 1 || c.n_features > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    fail("the header declares " + std::to_string(c.n_features) + " features");
  }
  std::vector<std::uint64_t> units{c.n_features};
  units.insert(units.end(), params.hidden_layer_sizes.begin(), params.hidden_layer_sizes.end());
  units.push_back(static_cast<std::uint64_t>(output_units(c.classes.size())));
  // Files written before two classes had one logistic unit hold two softmax
  // units; they load as the one unit that gives the same probabilities.
  const bool two_softmax_units = c.classes.size() == 2 && c.tensors.size() == 2 * (units.size() - 1) &&
                                 c.tensors.back().value.cols() == 2;
  if (two_softmax_units) units.back() = 2;
  const std::size_t layers = units.size() - 1;
  if (c.tensors.size() != 2 * layers) {
    fail("the file holds " + std::to_string(c.tensors.size()) + " tensors; hidden_layer_sizes " +
         params.get("hidden_layer_sizes") + " calls for " + std::to_string(2 * layers));
  }
  std::vector<Matrix<double>> coefs, intercepts;
  for (std::size_t i = 0; i < layers; ++i) {
    const std::string scope = layer_scope(i, layers);
    for (int part = 0; part < 2; ++part) {
      Tensor& t = c.tensors[2 * i + static_cast<std::size_t>(part)];
      const std::string want = scope + (part == 0 ? "/weights" : "/bias");
      if (t.name != want) {
        fail("tensor " + std::to_string(2 * i + part + 1) + " is named '" + t.name + "', expected '" +
             want + "'");
      }
      const std::uint64_t rows = part == 0 ? units[i] : 1, cols = units[i + 1];
      if (static_cast<std::uint64_t>(t.value.rows()) != rows ||
          static_cast<std::uint64_t>(t.value.cols()) != cols) {
        fail("tensor '" + t.name + "' has shape " + shape_text(t.value.rows(), t.value.cols()) +
             " but the features, hidden_layer_sizes and classes call for " + shape_text(rows, cols));
      }
      if (std::size_t r, k; !all_finite(t.value, r, k)) {
        fail("tensor '" + t.name + "' holds a value that is not finite at row " + std::to_string(r) +
             ", column " + std::to_string(k));
      }
      (part == 0 ? coefs : intercepts).push_back(std::move(t.value));
    }
  }
  if (two_softmax_units) {
    // softmax(z0, z1)[1] = sigmoid(z1 - z0): the unit's weights and bias
    // are the second column's less the first's.
    coefs.back() = Matrix<double>(coefs.back().col(1) - coefs.back().col(0));
    intercepts.back() = Matrix<double>(intercepts.back().col(1) - intercepts.back().col(0));
  }
  MLPClassifier mlp(params);
  try {
    mlp.set_weights(c.classes, coefs, intercepts, c.n_iter);
  } catch (const Error& e) {
    fail(e.what());
  }
  return mlp;
}

MLPClassifier load_mlp(const std::string& path) { return parse_mlp(read_file(path), path); }

}  // namespace dagrad
