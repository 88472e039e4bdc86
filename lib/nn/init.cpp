#include <dagrad/core/error.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/nn/init.hpp>

#include <algorithm>
#include <cmath>

namespace dagrad::nn {

namespace {

using Kind = Initializer::Kind;

bool is_uniform(Kind k) {
  return k == Kind::glorot_uniform || k == Kind::he_uniform || k == Kind::uniform;
}

}  // namespace

Initializer glorot_uniform(double gain) { return {.kind = Kind::glorot_uniform, .gain = gain}; }
Initializer scikit_learn_glorot(bool logistic) {
  return {.kind = Kind::glorot_uniform, .factor = logistic ? 2.0 : 6.0};
}
Initializer glorot_normal(double gain) { return {.kind = Kind::glorot_normal, .gain = gain}; }
Initializer he_uniform(double gain) { return {.kind = Kind::he_uniform, .gain = gain}; }
Initializer he_normal(double gain) { return {.kind = Kind::he_normal, .gain = gain}; }
// he_uniform's bound is gain * sqrt(6 / fan_in): 1 / sqrt(fan_in) with this gain.
Initializer torch_linear() { return he_uniform(1.0 / std::sqrt(6.0)); }
Initializer uniform(double bound) { return {.kind = Kind::uniform, .value = bound}; }
Initializer normal(double std) { return {.kind = Kind::normal, .value = std}; }
Initializer zeros() { return {.kind = Kind::constant, .value = 0.0}; }
Initializer constant(double value) { return {.kind = Kind::constant, .value = value}; }

double scale_of(const Initializer& how, Shape shape) {
  const double fan_in = how.fan_in.value_or(double(shape.rows));
  const double fan_out = how.fan_out.value_or(double(shape.cols));
  // Uniform U(-b, b) has variance b^2 / 3: the bounds below are sqrt(3) times
  // the normal's standard deviation for the same variance.
  switch (how.kind) {
    case Kind::glorot_uniform: return how.gain * std::sqrt(how.factor / (fan_in + fan_out));
    case Kind::glorot_normal: return how.gain * std::sqrt(2.0 / (fan_in + fan_out));
    case Kind::he_uniform: return how.gain * std::sqrt(6.0 / fan_in);
    case Kind::he_normal: return how.gain * std::sqrt(2.0 / fan_in);
    case Kind::uniform: return how.value;
    case Kind::normal: return how.value;
    case Kind::constant: return 0.0;
  }
  return 0.0;
}

Init Init::reuse() {
  Init init(0);
  init.reuse_ = true;
  return init;
}

Node Init::parameter(Graph& g, std::string name, Shape shape, Initializer how) {
  if (reuse_) {
    const std::string scope = g.current_scope();
    const std::string full = scope.empty() ? name : scope + "/" + name;
    const std::optional<Node> found = g.find(full);
    if (!found || found->kind() != NodeKind::parameter) {
      throw GraphError("nn::Init::reuse: the graph has no parameter '" + full + "' to reuse");
    }
    if (!(found->shape() == shape)) {
      throw ShapeError("nn::Init::reuse: parameter '" + full + "' is " + to_string(found->shape()) + ", not " +
                       to_string(shape));
    }
    return *found;
  }
  Node p = g.parameter(std::move(name), shape);
  add(p, how);
  return p;
}

void Init::add(Node parameter, Initializer how) {
  if (!parameter.valid()) throw GraphError("nn::Init::add: an empty Node");
  if (parameter.kind() != NodeKind::parameter) {
    throw GraphError("nn::Init::add: '" + parameter.name() + "' is " +
                     std::string(to_string(parameter.kind())) + " node, not a parameter");
  }
  if (std::find(parameters_.begin(), parameters_.end(), parameter) != parameters_.end()) {
    throw GraphError("nn::Init::add: '" + parameter.name() + "' is recorded already");
  }
  const double fan_in = how.fan_in.value_or(double(parameter.shape().rows));
  const double fan_out = how.fan_out.value_or(double(parameter.shape().cols));
  if (how.kind != Kind::constant && !(fan_in > 0 && fan_out > 0)) {
    throw Error("nn::Init::add: '" + parameter.name() + "' has fan_in " + std::to_string(fan_in) +
                " and fan_out " + std::to_string(fan_out) + "; both must be positive");
  }
  parameters_.push_back(parameter);
  how_.push_back(how);
}

std::vector<Matrix<double>> Init::values() const {
  NumpyRandom rng(seed_);
  return values(rng);
}

std::vector<Matrix<double>> Init::values(NumpyRandom& rng) const {
  std::vector<Matrix<double>> out;
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    const Shape s = parameters_[k].shape();
    const Initializer& how = how_[k];
    Matrix<double> v(s.rows, s.cols);
    const double scale = scale_of(how, s);
    for (Eigen::Index i = 0; i < v.size(); ++i) {
      if (how.kind == Kind::constant) {
        v.data()[i] = how.value;
      } else if (is_uniform(how.kind)) {
        v.data()[i] = rng.uniform(-scale, scale);
      } else {
        v.data()[i] = scale * rng.box_muller_normal();
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

template <class T>
void Init::apply(Executor<T>& ex) const {
  NumpyRandom rng(seed_);
  apply(ex, rng);
}

template <class T>
void Init::apply(Executor<T>& ex, NumpyRandom& rng) const {
  const std::vector<Matrix<double>> v = values(rng);
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    if (&parameters_[k].graph() != &ex.graph()) {
      throw GraphError("nn::Init::apply: '" + parameters_[k].name() +
                       "' belongs to another graph than the executor's");
    }
    ex.set(parameters_[k], v[k].template cast<T>());
  }
}

template void Init::apply<float>(Executor<float>&) const;
template void Init::apply<double>(Executor<double>&) const;
template void Init::apply<float>(Executor<float>&, NumpyRandom&) const;
template void Init::apply<double>(Executor<double>&, NumpyRandom&) const;

}  // namespace dagrad::nn
