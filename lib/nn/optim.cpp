#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/detail/parallel.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/nn/optim.hpp>

#include "update_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <sstream>
#include <type_traits>

namespace dagrad::nn {

namespace {

using Unit = Schedule::Unit;

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_schedule(const Schedule& s, const std::string& who) {
  auto fail = [&](const std::string& problem) { throw Error(who + ": schedule " + problem); };
  if (s.kind == Schedule::Kind::step && s.step_size < 1) fail("step_size must be at least 1");
  if (s.kind == Schedule::Kind::cosine && s.period < 1) fail("period must be at least 1");
  if ((s.kind == Schedule::Kind::step || s.kind == Schedule::Kind::exponential) &&
      !(s.gamma > 0 && s.gamma <= 1)) {
    fail("gamma " + number(s.gamma) + " is outside (0, 1]");
  }
  if (s.kind == Schedule::Kind::inverse_scaling && !(s.power_t >= 0 && std::isfinite(s.power_t))) {
    fail("power_t " + number(s.power_t) + " must be finite and at least 0");
  }
  if ((s.kind == Schedule::Kind::cosine || s.kind == Schedule::Kind::adaptive) && !(s.min_learning_rate >= 0)) {
    fail("min_learning_rate " + number(s.min_learning_rate) + " must be at least 0");
  }
  if (s.kind == Schedule::Kind::adaptive && !(s.divisor >= 1 && std::isfinite(s.divisor))) {
    fail("divisor " + number(s.divisor) + " must be finite and at least 1");
  }
}

// Element views of a block [first, first + count) of a matrix.
template <class T>
using Block = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstBlock = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

}  // namespace

namespace detail {

const UpdateTable& update_kernels_for(dagrad::detail::Isa isa) { return DAGRAD_ISA_BUILD(isa, update_kernels); }

}  // namespace detail

std::size_t Optimizer::parameter_count() const {
  std::size_t n = 0;
  for (const Node& p : parameters_) n += static_cast<std::size_t>(p.shape().size());
  return n;
}

double Schedule::at(double learning_rate, std::uint64_t t) const {
  switch (kind) {
    case Kind::constant: return learning_rate;
    case Kind::step: return learning_rate * std::pow(gamma, double(t / step_size));
    case Kind::exponential: return learning_rate * std::pow(gamma, double(t));
    case Kind::inverse_scaling: return learning_rate / std::pow(double(t + 1), power_t);
    case Kind::cosine: {
      const double progress = double(std::min(t, period)) / double(period);
      return min_learning_rate +
             (learning_rate - min_learning_rate) * (1 + std::cos(std::numbers::pi * progress)) / 2;
    }
    case Kind::adaptive: return learning_rate;  // plateau() lowers the rate itself
  }
  return learning_rate;
}

Schedule constant_schedule() { return {}; }
Schedule step_decay(std::uint64_t step_size, double gamma, Unit unit) {
  return {.kind = Schedule::Kind::step, .unit = unit, .gamma = gamma, .step_size = step_size};
}
Schedule exponential_decay(double gamma, Unit unit) {
  return {.kind = Schedule::Kind::exponential, .unit = unit, .gamma = gamma};
}
Schedule inverse_scaling(double power_t, Unit unit) {
  return {.kind = Schedule::Kind::inverse_scaling, .unit = unit, .power_t = power_t};
}
Schedule cosine_decay(std::uint64_t period, double min_learning_rate, Unit unit) {
  return {.kind = Schedule::Kind::cosine, .unit = unit, .period = period,
          .min_learning_rate = min_learning_rate};
}
Schedule adaptive(double divisor, double min_learning_rate) {
  return {.kind = Schedule::Kind::adaptive, .min_learning_rate = min_learning_rate, .divisor = divisor};
}

namespace {

// The nodes y depends on, in creation order (ids grow as nodes are created).
std::vector<NodeId> ancestors(Node y, const char* who) {
  if (!y.valid()) throw GraphError(std::string(who) + ": an empty Node");
  Graph& g = y.graph();
  std::vector<bool> seen(g.size(), false);
  std::vector<NodeId> stack{y.id()}, found;
  seen[y.id()] = true;
  while (!stack.empty()) {
    const NodeId id = stack.back();
    stack.pop_back();
    found.push_back(id);
    for (NodeId in : g.info(id).inputs) {
      if (!seen[in]) {
        seen[in] = true;
        stack.push_back(in);
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::vector<Node> parameters_of(Node y) {
  const std::vector<NodeId> nodes = ancestors(y, "parameters_of");
  Graph& g = y.graph();
  // A parameter is learned when some op takes it as an input other than a
  // state input (or it is y itself).
  std::vector<bool> learned(g.size(), false);
  learned[y.id()] = true;
  for (NodeId id : nodes) {
    const NodeInfo& info = g.info(id);
    if (!info.op) continue;
    const std::vector<std::size_t> state = info.op->state_inputs();
    for (std::size_t i = 0; i < info.inputs.size(); ++i) {
      if (std::find(state.begin(), state.end(), i) == state.end()) learned[info.inputs[i]] = true;
    }
  }
  std::vector<Node> out;
  for (NodeId id : nodes) {
    if (g.info(id).kind == NodeKind::parameter && learned[id]) out.push_back(g.node(id));
  }
  return out;
}

std::vector<StateUpdate> state_updates_of(Node y) {
  const std::vector<NodeId> nodes = ancestors(y, "state_updates_of");
  Graph& g = y.graph();
  std::vector<StateUpdate> out;
  for (NodeId id : nodes) {
    // The op is held while state_update adds nodes (the graph's storage moves).
    const std::shared_ptr<const Op> op = g.info(id).op;
    if (!op) continue;
    const Node node = g.node(id);
    for (std::size_t i : op->state_inputs()) {
      if (node.input(i).kind() == NodeKind::parameter) out.push_back({node.input(i), op->state_update(node, i)});
    }
  }
  return out;
}

Optimizer::Optimizer(Node loss, std::vector<Node> parameters, Settings settings)
    : name_(settings.rule == Rule::sgd ? "sgd" : settings.rule == Rule::adam ? "adam" : "adamw"),
      settings_(settings),
      loss_(loss),
      learning_rate_(settings.learning_rate),
      schedule_(settings.schedule) {
  const std::string who = "nn::" + std::string(settings.rule == Rule::sgd    ? "SGD"
                                               : settings.rule == Rule::adam ? "Adam"
                                                                             : "AdamW");
  auto fail = [&](const std::string& problem) { throw Error(who + ": " + problem); };
  auto in_unit = [](double v) { return v >= 0 && v < 1; };
  if (!(settings.learning_rate >= 0 && std::isfinite(settings.learning_rate))) {
    fail("learning_rate " + number(settings.learning_rate) + " must be finite and at least 0");
  }
  if (!(settings.momentum >= 0 && settings.momentum <= 1)) {
    fail("momentum " + number(settings.momentum) + " is outside [0, 1]");
  }
  if (settings.rule != Rule::sgd) {
    if (!in_unit(settings.beta_1)) fail("beta_1 " + number(settings.beta_1) + " is outside [0, 1)");
    if (!in_unit(settings.beta_2)) fail("beta_2 " + number(settings.beta_2) + " is outside [0, 1)");
    if (!(settings.epsilon > 0)) fail("epsilon " + number(settings.epsilon) + " must be positive");
  }
  if (!(settings.weight_decay >= 0 && std::isfinite(settings.weight_decay))) {
    fail("weight_decay " + number(settings.weight_decay) + " must be finite and at least 0");
  }
  if (settings.clip_norm && !(*settings.clip_norm > 0)) {
    fail("clip_norm " + number(*settings.clip_norm) + " must be positive");
  }
  check_schedule(settings.schedule, who);
  if (!loss.valid()) fail("the loss is an empty Node");

  if (parameters.empty()) parameters = parameters_of(loss);
  if (parameters.empty()) fail("loss '" + loss.name() + "' depends on no parameter");
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const Node p = parameters[k];
    loss.graph().check_owns(p, who);
    if (p.kind() != NodeKind::parameter) {
      fail("'" + p.name() + "' is " + std::string(to_string(p.kind())) +
           " node, not a parameter; only parameters are trained");
    }
    if (std::find(parameters.begin(), parameters.begin() + static_cast<std::ptrdiff_t>(k), p) !=
        parameters.begin() + static_cast<std::ptrdiff_t>(k)) {
      fail("parameter '" + p.name() + "' is listed twice");
    }
  }
  parameters_ = std::move(parameters);
  gradients_ = dagrad::gradients(loss, parameters_);
  // A loaded graph's cached gradients come from a file: check what they are.
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    if (gradients_[k].shape() != parameters_[k].shape()) {
      throw ShapeError(who + ": the gradient for '" + parameters_[k].name() + "' is node '" + gradients_[k].name() +
                       "' of shape " + to_string(gradients_[k].shape()) + ", the parameter " +
                       to_string(parameters_[k].shape()));
    }
  }
  for (const StateUpdate& u : state_updates_of(loss)) {
    state_parameters_.push_back(u.parameter);
    state_updates_.push_back(u.value);
  }
  fetches_.push_back(loss_);
  fetches_.insert(fetches_.end(), gradients_.begin(), gradients_.end());
  fetches_.insert(fetches_.end(), state_updates_.begin(), state_updates_.end());
}

Optimizer::~Optimizer() = default;
Optimizer::Optimizer(Optimizer&&) noexcept = default;

double Optimizer::learning_rate() const { return schedule_.at(learning_rate_, schedule_time_); }

void Optimizer::set_learning_rate(double learning_rate) {
  if (!(learning_rate >= 0 && std::isfinite(learning_rate))) {
    throw Error("nn::Optimizer::set_learning_rate: " + number(learning_rate) +
                " must be finite and at least 0");
  }
  learning_rate_ = learning_rate;
}

void Optimizer::epoch_ends(std::uint64_t samples) {
  if (schedule_.unit == Unit::epoch) ++schedule_time_;
  if (schedule_.unit == Unit::sample) schedule_time_ += samples;
}

bool Optimizer::plateau() {
  if (schedule_.kind != Schedule::Kind::adaptive || learning_rate_ <= schedule_.min_learning_rate) return false;
  learning_rate_ /= schedule_.divisor;  // a division, as scikit-learn's, for its bits
  return true;
}

std::size_t Optimizer::slot_count() const { return settings_.rule == Rule::sgd ? 1 : 2; }

std::vector<std::string> Optimizer::slot_names() const {
  if (settings_.rule == Rule::sgd) return {"velocity"};
  return {"m", "v"};
}

template <>
std::vector<Matrix<float>>& Optimizer::slots<float>() {
  return slots_float_;
}
template <>
std::vector<Matrix<double>>& Optimizer::slots<double>() {
  return slots_double_;
}
template <>
std::vector<const Matrix<float>*>& Optimizer::gradient_list<float>() {
  return gradients_float_;
}
template <>
std::vector<const Matrix<double>*>& Optimizer::gradient_list<double>() {
  return gradients_double_;
}

// Checks the executor and allocates zero state on the first step.
template <class T>
void Optimizer::prepare(Executor<T>& ex) {
  if (&ex.graph() != &loss_.graph()) {
    throw GraphError("nn::" + name_ + ": the executor runs another graph than loss '" +
                     loss_.name() + "'");
  }
  const bool other_used = std::is_same_v<T, float> ? !slots_double_.empty() : !slots_float_.empty();
  if (other_used) {
    throw Error("nn::" + name_ + ": stepped before with an executor of the other scalar type; "
                "an optimizer's state is float32 or float64, not both");
  }
  auto& s = slots<T>();
  if (!s.empty()) return;
  for (std::size_t slot = 0; slot < slot_count(); ++slot) {
    for (const Node& p : parameters_) s.push_back(Matrix<T>::Zero(p.shape().rows, p.shape().cols));
  }
}

// The factor that scales the gradients to a global norm of at most
// clip_norm: clip_norm / norm when the norm is larger, else 1. The squares
// are summed in double over fixed chunks of each gradient, and the chunks'
// sums added in order, so the norm does not depend on the threads.
template <class T>
double Optimizer::clip_scale(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients) {
  if (!settings_.clip_norm) return 1.0;
  constexpr std::int64_t chunk = 16384;
  double total = 0;
  ex.within([&] {
    for (const Matrix<T>* gradient : gradients) {
      const Matrix<T>& g = *gradient;
      const std::int64_t size = g.size();
      const std::int64_t chunks = (size + chunk - 1) / chunk;
      std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
      dagrad::detail::parallel_chunks(chunks, [&](std::int64_t k) {
        const std::int64_t first = k * chunk, end = std::min(size, first + chunk);
        double s = 0;
        for (std::int64_t i = first; i < end; ++i) s += double(g.data()[i]) * double(g.data()[i]);
        partial[static_cast<std::size_t>(k)] = s;
      });
      for (double s : partial) total += s;
    }
  });
  const double norm = std::sqrt(total);
  last_norm_ = norm;
  return norm > *settings_.clip_norm ? *settings_.clip_norm / norm : 1.0;
}

void Optimizer::also_fetch(Node node) {
  if (&node.graph() != &loss_.graph()) {
    throw GraphError("nn::" + name_ + ": also_fetch of '" + node.name() + "', a node of another graph");
  }
  if (std::find(fetches_.begin(), fetches_.end(), node) == fetches_.end()) fetches_.push_back(node);
}

template <class T>
double Optimizer::step(Executor<T>& ex, const std::vector<Feed<T>>& feeds) {
  return step(ex, feeds, {});
}

template <class T>
double Optimizer::step(Executor<T>& ex, const std::vector<Feed<T>>& feeds, const std::function<void()>& between) {
  prepare(ex);
  ex.compute(feeds, fetches_);
  const double loss = static_cast<double>(ex.value(loss_)(0, 0));
  if (between) between();
  apply_gradients(ex);
  return loss;
}

template <class T>
void Optimizer::apply_gradients(Executor<T>& ex) {
  // Kept from step to step: a step allocates no list of its own.
  std::vector<const Matrix<T>*>& gradients = gradient_list<T>();
  gradients.clear();
  for (const Node& g : gradients_) gradients.push_back(&ex.value(g));
  apply(ex, gradients);
  update_state(ex);
}

template <class T>
void Optimizer::apply_gradients(Executor<T>& ex, const std::vector<Matrix<T>>& gradients) {
  std::vector<const Matrix<T>*> pointers;
  for (const Matrix<T>& g : gradients) pointers.push_back(&g);
  apply(ex, pointers);
  update_state(ex);
}

// Each state parameter takes its update's value: no gradient, no decay.
template <class T>
void Optimizer::update_state(Executor<T>& ex) {
  for (std::size_t k = 0; k < state_parameters_.size(); ++k) {
    if (!ex.has_value(state_updates_[k])) {
      throw Error("nn::" + name_ + ": the running update of '" + state_parameters_[k].name() +
                  "' was not computed; run fetches() before apply_gradients");
    }
    ex.parameter(state_parameters_[k]) = ex.value(state_updates_[k]);
  }
}

// The update kernels walk the parameter, its gradient and its state as flat
// arrays of one length: each is checked here, whichever path led here, so
// that a wrong size is an error naming the parameter, never a read past a
// buffer.
template <class T>
void Optimizer::check_sizes(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients) {
  const auto fail = [&](const std::string& problem) { throw ShapeError("nn::" + name_ + ": " + problem); };
  const auto& state = slots<T>();
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    const Node& p = parameters_[k];
    const Shape want = p.shape();
    if (shape_of(*gradients[k]) != want) {
      fail("the gradient for '" + p.name() + "' is " + to_string(shape_of(*gradients[k])) + ", the parameter " +
           to_string(want));
    }
    if (shape_of(ex.parameter(p)) != want) {
      fail("the value of '" + p.name() + "' is " + to_string(shape_of(ex.parameter(p))) + ", the parameter " +
           to_string(want));
    }
    for (std::size_t slot = 0; slot < slot_count(); ++slot) {
      const Matrix<T>& s = state[slot * parameters_.size() + k];
      if (shape_of(s) != want) {
        fail("the " + slot_names()[slot] + " state of '" + p.name() + "' is " + to_string(shape_of(s)) +
             ", the parameter " + to_string(want));
      }
    }
  }
}

template <class T>
void Optimizer::apply(Executor<T>& ex, const std::vector<const Matrix<T>*>& gradients) {
  if (gradients.size() != parameters_.size()) {
    throw Error("nn::" + name_ + ": " + std::to_string(gradients.size()) + " gradients for " +
                std::to_string(parameters_.size()) + " parameters");
  }
  prepare(ex);
  check_sizes(ex, gradients);
  const double clip = clip_scale(ex, gradients);
  const double lr = learning_rate();
  ++steps_;
  if (schedule_.unit == Unit::step) ++schedule_time_;
  auto& state = slots<T>();
  const std::size_t n = parameters_.size();
  const Settings& s = settings_;

  // The gradient a rule sees: clipped, and with an L2 weight decay added,
  // in a scratch block; the plain gradient needs no copy.
  const bool plain = clip == 1.0 && (s.weight_decay == 0 || s.rule == Rule::adamw);
  const T scale = T(clip), decay = T(s.weight_decay);

  // rule(w, g, first slot, second slot, count) on each block of each
  // parameter: the instruction set's loops from update_kernels.hpp.
  auto update = [&](auto&& rule) {
    ex.within([&] {
      for (std::size_t k = 0; k < n; ++k) {
        Matrix<T>& w = ex.parameter(parameters_[k]);
        const Matrix<T>& g = *gradients[k];
        T* const first = state[k].data();
        T* const second = slot_count() > 1 ? state[n + k].data() : nullptr;
        dagrad::detail::parallel_elements(w.size(), [&](std::int64_t lo, std::int64_t count) {
          T* const sk = second ? second + lo : nullptr;
          if (plain) {
            rule(w.data() + lo, g.data() + lo, first + lo, sk, count);
            return;
          }
          Eigen::Array<T, Eigen::Dynamic, 1> effective = ConstBlock<T>(g.data() + lo, count);
          if (clip != 1.0) effective *= scale;
          if (s.weight_decay != 0 && s.rule != Rule::adamw) effective += decay * Block<T>(w.data() + lo, count);
          rule(w.data() + lo, effective.data(), first + lo, sk, count);
        });
      }
    });
  };

  const auto& kernels = detail::update_kernels<T>();
  if (s.rule == Rule::sgd) {
    const detail::SgdStep<T> step{.momentum = T(s.momentum), .step = T(lr), .nesterov = s.nesterov};
    update([&](T* w, const T* g, T* velocity, T*, std::int64_t count) { kernels.sgd(w, g, velocity, count, step); });
    return;
  }
  // Adam's bias correction, in double, folded into the step size.
  const double lr_t = lr * std::sqrt(1 - std::pow(s.beta_2, double(steps_))) /
                      (1 - std::pow(s.beta_1, double(steps_)));
  const detail::AdamStep<T> step{.beta_1 = T(s.beta_1),
                                 .beta_2 = T(s.beta_2),
                                 .step = T(lr_t),
                                 .epsilon = T(s.epsilon),
                                 .shrink = T(1 - lr * s.weight_decay),  // AdamW's decoupled decay
                                 .decoupled = s.rule == Rule::adamw && s.weight_decay != 0};
  update([&](T* w, const T* g, T* m, T* v, std::int64_t count) { kernels.adam(w, g, m, v, count, step); });
}

NamedTensors Optimizer::state() const {
  const std::string prefix = "state:" + name_ + "/";
  NamedTensors out;
  auto scalar = [](double v) { return Matrix<double>::Constant(1, 1, v); };
  out.emplace_back(prefix + "steps", scalar(double(steps_)));
  out.emplace_back(prefix + "schedule_time", scalar(double(schedule_time_)));
  out.emplace_back(prefix + "learning_rate", scalar(learning_rate_));
  const auto names = slot_names();
  const std::size_t n = parameters_.size();
  for (std::size_t slot = 0; slot < names.size(); ++slot) {
    for (std::size_t k = 0; k < n; ++k) {
      const Shape sh = parameters_[k].shape();
      Matrix<double> v = !slots_float_.empty()    ? slots_float_[slot * n + k].cast<double>()
                         : !slots_double_.empty() ? slots_double_[slot * n + k]
                                                  : Matrix<double>::Zero(sh.rows, sh.cols);
      out.emplace_back(prefix + names[slot] + "/" + parameters_[k].name(), std::move(v));
    }
  }
  return out;
}

// A saved slot is finite, and Adam's v, a running mean of squares, is at
// least 0 (its square root divides the step).
void Optimizer::check_slot(const std::string& name, const Matrix<double>& value, bool squares) const {
  for (Eigen::Index k = 0; k < value.size(); ++k) {
    const double v = value.data()[k];
    if (!std::isfinite(v) || (squares && v < 0)) {
      throw DataError("nn::" + name_ + ": '" + name + "' holds " + number(v) + " at row " +
                      std::to_string(k / value.cols()) + ", column " + std::to_string(k % value.cols()) +
                      (squares ? ", not a finite mean of squares" : ", not a finite value"));
    }
  }
}

template <class T>
void Optimizer::set_state(const NamedTensors& state) {
  const std::string prefix = "state:" + name_ + "/";
  std::map<std::string, const Matrix<double>*> by_name;
  for (const auto& [name, value] : state) by_name[name] = &value;
  auto find = [&](const std::string& name, Shape shape) -> const Matrix<double>& {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      throw DataError("nn::" + name_ + ": the saved state holds no tensor '" + name +
                      "' (a checkpoint of another optimizer or network?)");
    }
    if (shape_of(*it->second) != shape) {
      throw DataError("nn::" + name_ + ": tensor '" + name + "' is " +
                      to_string(shape_of(*it->second)) + " in the saved state but " +
                      to_string(shape) + " here");
    }
    return *it->second;
  };
  auto whole = [&](const std::string& what) {
    const double v = find(prefix + what, {1, 1})(0, 0);
    if (!(v >= 0 && v == std::floor(v) && v < 9007199254740992.0)) {
      throw DataError("nn::" + name_ + ": '" + prefix + what + "' is " + number(v) +
                      ", not a count");
    }
    return static_cast<std::uint64_t>(v);
  };
  const std::uint64_t steps = whole("steps"), time = whole("schedule_time");
  const double rate = find(prefix + "learning_rate", {1, 1})(0, 0);
  if (!(rate >= 0 && std::isfinite(rate))) {
    throw DataError("nn::" + name_ + ": '" + prefix + "learning_rate' is " + number(rate) +
                    "; it must be finite and at least 0");
  }
  const auto names = slot_names();
  std::vector<Matrix<T>> restored;
  for (const std::string& slot : names) {
    for (const Node& p : parameters_) {
      const std::string name = prefix + slot + "/" + p.name();
      const Matrix<double>& value = find(name, p.shape());
      check_slot(name, value, slot == "v");
      restored.push_back(value.template cast<T>());
    }
  }
  set_learning_rate(rate);
  steps_ = steps;
  schedule_time_ = time;
  slots_float_.clear();
  slots_double_.clear();
  slots<T>() = std::move(restored);
}

SGD::SGD(Node loss, SGDOptions o, std::vector<Node> parameters)
    : Optimizer(loss, std::move(parameters),
                {.rule = Rule::sgd, .learning_rate = o.learning_rate, .momentum = o.momentum,
                 .weight_decay = o.weight_decay, .nesterov = o.nesterov, .schedule = o.schedule,
                 .clip_norm = o.clip_norm}) {}

Adam::Adam(Node loss, AdamOptions o, std::vector<Node> parameters)
    : Optimizer(loss, std::move(parameters),
                {.rule = Rule::adam, .learning_rate = o.learning_rate, .beta_1 = o.beta_1,
                 .beta_2 = o.beta_2, .epsilon = o.epsilon, .weight_decay = o.weight_decay,
                 .schedule = o.schedule, .clip_norm = o.clip_norm}) {}

AdamW::AdamW(Node loss, AdamWOptions o, std::vector<Node> parameters)
    : Optimizer(loss, std::move(parameters),
                {.rule = Rule::adamw, .learning_rate = o.learning_rate, .beta_1 = o.beta_1,
                 .beta_2 = o.beta_2, .epsilon = o.epsilon, .weight_decay = o.weight_decay,
                 .schedule = o.schedule, .clip_norm = o.clip_norm}) {}

template double Optimizer::step<float>(Executor<float>&, const std::vector<Feed<float>>&);
template double Optimizer::step<double>(Executor<double>&, const std::vector<Feed<double>>&);
template double Optimizer::step<float>(Executor<float>&, const std::vector<Feed<float>>&, const std::function<void()>&);
template double Optimizer::step<double>(Executor<double>&, const std::vector<Feed<double>>&,
                                        const std::function<void()>&);
template void Optimizer::apply_gradients<float>(Executor<float>&);
template void Optimizer::apply_gradients<double>(Executor<double>&);
template void Optimizer::apply_gradients<float>(Executor<float>&, const std::vector<Matrix<float>>&);
template void Optimizer::apply_gradients<double>(Executor<double>&, const std::vector<Matrix<double>>&);
template void Optimizer::set_state<float>(const NamedTensors&);
template void Optimizer::set_state<double>(const NamedTensors&);

}  // namespace dagrad::nn
