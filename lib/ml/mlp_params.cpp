// MLPParams by name: parsing, printing and validation, with errors that name
// the parameter and its allowed values.
#include <dagrad/core/error.hpp>
#include <dagrad/core/number.hpp>
#include <dagrad/ml/mlp.hpp>

#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <sstream>
#include <type_traits>
#include <vector>

#include <unistd.h>

namespace dagrad {

namespace {

constexpr int max_threads = 1024;

[[noreturn]] void bad(const std::string& name, const std::string& value, const std::string& allowed) {
  throw Error("parameter '" + name + "' cannot be '" + value + "': " + allowed);
}

double parse_double(const std::string& name, const std::string& v) {
  const std::optional<double> d = parse_number<double>(v);
  if (!d) bad(name, v, "expected a number");
  return *d;
}

long parse_int(const std::string& name, const std::string& v) {
  const std::optional<long> i = parse_number<long>(v);
  if (!i) bad(name, v, "expected a whole number");
  return *i;
}

// Integer parameters are ints: a value past int's range would wrap around.
int parse_small_int(const std::string& name, const std::string& v) {
  const long i = parse_int(name, v);
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) {
    bad(name, v, "out of range for a whole number parameter");
  }
  return static_cast<int>(i);
}

bool parse_bool(const std::string& name, const std::string& v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  bad(name, v, "expected true or false");
}

std::string fmt(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}
std::string fmt(int i) { return std::to_string(i); }

std::string sizes_text(const std::vector<int>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(sizes[i]);
  }
  return s;
}

// Each word-valued parameter's values and their scikit-learn spellings, in
// the order errors list them: the one place a word becomes an enum.
template <class E>
struct Spelling {
  E value;
  const char* word;
};
constexpr Spelling<MLPSolver> solvers[] = {
    {MLPSolver::sgd, "sgd"}, {MLPSolver::adam, "adam"}, {MLPSolver::lbfgs, "lbfgs"}};
constexpr Spelling<MLPActivation> activations[] = {{MLPActivation::identity, "identity"},
                                                   {MLPActivation::logistic, "logistic"},
                                                   {MLPActivation::tanh, "tanh"},
                                                   {MLPActivation::relu, "relu"}};
constexpr Spelling<MLPOutActivation> out_activations[] = {{MLPOutActivation::identity, "identity"},
                                                          {MLPOutActivation::logistic, "logistic"},
                                                          {MLPOutActivation::softmax, "softmax"}};
constexpr Spelling<MLPLearningRate> schedules[] = {{MLPLearningRate::constant, "constant"},
                                                   {MLPLearningRate::invscaling, "invscaling"},
                                                   {MLPLearningRate::adaptive, "adaptive"}};
constexpr Spelling<MLPDtype> dtypes[] = {{MLPDtype::float32, "float32"}, {MLPDtype::float64, "float64"}};

// The enum `v` spells, or the error naming the parameter and the allowed words.
template <class E, std::size_t N>
E parse_word(const char* name, const std::string& v, const Spelling<E> (&table)[N]) {
  std::string list;
  for (const Spelling<E>& s : table) {
    if (v == s.word) return s.value;
    list += (list.empty() ? "" : ", ") + std::string(s.word);
  }
  bad(name, v, "allowed values are " + list);
}

template <class E, std::size_t N>
std::string word_of(E value, const Spelling<E> (&table)[N]) {
  for (const Spelling<E>& s : table) {
    if (s.value == value) return s.word;
  }
  throw Error("no scikit-learn word for value " + std::to_string(static_cast<int>(value)));
}

}  // namespace

std::string to_string(MLPSolver solver) { return word_of(solver, solvers); }
std::string to_string(MLPActivation activation) { return word_of(activation, activations); }
std::string to_string(MLPOutActivation activation) { return word_of(activation, out_activations); }
std::string to_string(MLPLearningRate schedule) { return word_of(schedule, schedules); }
std::string to_string(MLPDtype dtype) { return word_of(dtype, dtypes); }

namespace {

// Each parameter once: its name, how it reads and prints as text, and the
// values it allows. names(), set(), get() and validate() walk this table.
struct Field {
  const char* name;
  std::function<void(MLPParams&, const std::string& text)> set;
  std::function<std::string(const MLPParams&)> get;
  std::function<void(const MLPParams&)> check = [](const MLPParams&) {};
};

// A number with a rule it must satisfy, worded for the error.
template <class T>
Field number(const char* name, T MLPParams::*member, std::function<bool(T)> allowed, std::string rule) {
  Field f{name,
          [name, member](MLPParams& p, const std::string& v) {
            if constexpr (std::is_same_v<T, double>) {
              p.*member = parse_double(name, v);
            } else {
              p.*member = parse_small_int(name, v);
            }
          },
          [member](const MLPParams& p) { return fmt(p.*member); }};
  f.check = [name, member, allowed, rule](const MLPParams& p) {
    if (!allowed(p.*member)) bad(name, fmt(p.*member), rule);
  };
  return f;
}

template <class E, std::size_t N>
Field choice(const char* name, std::string MLPParams::*member, const Spelling<E> (&allowed)[N]) {
  Field f{name, [member](MLPParams& p, const std::string& v) { p.*member = v; },
          [member](const MLPParams& p) { return p.*member; }};
  f.check = [name, member, &allowed](const MLPParams& p) { parse_word(name, p.*member, allowed); };
  return f;
}

Field flag(const char* name, bool MLPParams::*member) {
  return {name, [name, member](MLPParams& p, const std::string& v) { p.*member = parse_bool(name, v); },
          [member](const MLPParams& p) { return std::string(p.*member ? "true" : "false"); }};
}

// "50", "10,10,10" or "(10, 10)"; an empty list means no hidden layer.
std::vector<int> parse_sizes(const std::string& name, const std::string& v) {
  std::vector<int> sizes;
  std::string cleaned;
  for (char c : v) {
    if (c != '(' && c != ')' && c != ' ') cleaned += c;
  }
  // One trailing comma is Python's one-element tuple, "(50,)"; any other
  // empty entry ("50,,10", ",50") is a typo, not a layer to drop.
  if (!cleaned.empty() && cleaned.back() == ',') cleaned.pop_back();
  std::size_t start = 0;
  while (!cleaned.empty() && start <= cleaned.size()) {
    std::size_t end = cleaned.find(',', start);
    if (end == std::string::npos) end = cleaned.size();
    if (end == start) bad(name, v, "a layer size is missing between commas");
    sizes.push_back(parse_small_int(name, cleaned.substr(start, end - start)));
    start = end + 1;
  }
  return sizes;
}

// The fields whose text is not a plain number, choice or flag.
Field hidden_layer_sizes_field() {
  using P = MLPParams;
  return {"hidden_layer_sizes",
          [](P& p, const std::string& v) { p.hidden_layer_sizes = parse_sizes("hidden_layer_sizes", v); },
          [](const P& p) { return sizes_text(p.hidden_layer_sizes); },
          [](const P& p) {
            for (int s : p.hidden_layer_sizes) {
              if (s <= 0) bad("hidden_layer_sizes", sizes_text(p.hidden_layer_sizes), "every layer size must be > 0");
            }
          }};
}

Field batch_size_field() {  // a count, or "auto"
  using P = MLPParams;
  return {"batch_size",
          [](P& p, const std::string& v) {
            if (v == "auto") {
              p.batch_size.reset();
            } else {
              p.batch_size = parse_small_int("batch_size", v);
            }
          },
          [](const P& p) { return p.batch_size ? std::to_string(*p.batch_size) : "auto"; },
          [](const P& p) {
            if (p.batch_size && *p.batch_size < 1)
              bad("batch_size", std::to_string(*p.batch_size), "must be >= 1 or auto");
          }};
}

Field random_state_field() {  // a 32-bit seed, or None
  using P = MLPParams;
  return {"random_state",
          [](P& p, const std::string& v) {
            if (v == "None" || v == "none") {
              p.random_state.reset();
            } else {
              const long s = parse_int("random_state", v);
              if (s < 0 || s > 0xffffffffL) bad("random_state", v, "a seed must be in [0, 4294967295], or None");
              p.random_state = static_cast<std::uint32_t>(s);
            }
          },
          [](const P& p) { return p.random_state ? std::to_string(*p.random_state) : "None"; }};
}

Field verbose_field() {  // a level, or true/false
  using P = MLPParams;
  return {
      "verbose",
      [](P& p, const std::string& v) {
        p.verbose = v == "true" || v == "True" ? 1 : v == "false" || v == "False" ? 0 : parse_small_int("verbose", v);
      },
      [](const P& p) { return std::to_string(p.verbose); },
      [](const P& p) {
        if (p.verbose < 0) bad("verbose", std::to_string(p.verbose), "must be >= 0");
      }};
}

const std::vector<Field>& fields() {
  using P = MLPParams;
  auto positive = [](double x) { return x > 0; };
  auto non_negative = [](double x) { return x >= 0; };
  auto unit_interval = [](double x) { return x >= 0 && x <= 1; };
  auto below_one = [](double x) { return x >= 0 && x < 1; };
  auto at_least = [](int low) { return std::function<bool(int)>([low](int x) { return x >= low; }); };
  auto finite = [](std::function<bool(double)> rule) {
    return std::function<bool(double)>([rule](double x) { return std::isfinite(x) && rule(x); });
  };
  static const std::vector<Field> all{
      hidden_layer_sizes_field(),
      choice("activation", &P::activation, activations),
      choice("solver", &P::solver, solvers),
      number<double>("alpha", &P::alpha, finite(non_negative), "must be a finite number >= 0"),
      batch_size_field(),
      choice("learning_rate", &P::learning_rate, schedules),
      number<double>("learning_rate_init", &P::learning_rate_init, finite(positive), "must be a finite number > 0"),
      number<double>("power_t", &P::power_t, non_negative, "must be >= 0"),
      number<int>("max_iter", &P::max_iter, at_least(1), "must be >= 1"),
      flag("shuffle", &P::shuffle),
      random_state_field(),
      number<double>("tol", &P::tol, non_negative, "must be >= 0"),
      verbose_field(),
      flag("warm_start", &P::warm_start),
      number<double>("momentum", &P::momentum, unit_interval, "must be in [0, 1]"),
      flag("nesterovs_momentum", &P::nesterovs_momentum),
      flag("early_stopping", &P::early_stopping),
      number<double>("validation_fraction", &P::validation_fraction, [](double x) { return x > 0 && x < 1; },
                     "must be in (0, 1)"),
      number<double>("beta_1", &P::beta_1, below_one, "must be in [0, 1)"),
      number<double>("beta_2", &P::beta_2, below_one, "must be in [0, 1)"),
      number<double>("epsilon", &P::epsilon, positive, "must be > 0"),
      number<int>("n_iter_no_change", &P::n_iter_no_change, at_least(1), "must be >= 1"),
      number<int>("max_fun", &P::max_fun, at_least(1), "must be >= 1"),
      // dagrad's own, after scikit-learn's.
      choice("dtype", &P::dtype, dtypes),
      // oneTBB sizes an arena by its concurrency: 10^6 threads take 0.5 GB and
      // INT_MAX crashes it, so a model file or flag cannot ask for that many.
      number<int>("threads", &P::threads, [](int x) { return x >= 0 && x <= max_threads; },
                  "must be >= 0 (0 means every core) and at most " + std::to_string(max_threads)),
      flag("check_numerics", &P::check_numerics),
      number<int>("shards", &P::shards, at_least(1), "must be >= 1 (1: each mini-batch at once)"),
  };
  return all;
}

const Field& field(const std::string& name) {
  for (const Field& f : fields()) {
    if (name == f.name) return f;
  }
  throw Error("MLPClassifier and MLPRegressor have no parameter '" + name + "'");
}

}  // namespace

const std::vector<std::string>& MLPParams::names() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> names;
    for (const Field& f : fields()) names.emplace_back(f.name);
    return names;
  }();
  return all;
}

bool MLPParams::from_scikit_learn(const std::string& name) {
  return name != "dtype" && name != "threads" && name != "check_numerics" && name != "shards";
}

void MLPParams::set(const std::string& name, const std::string& v) { field(name).set(*this, v); }

std::string MLPParams::get(const std::string& name) const { return field(name).get(*this); }

void MLPParams::validate() const {
  for (const Field& f : fields()) f.check(*this);
}

MLPChoices MLPParams::choices() const {
  return {.activation = parse_word("activation", activation, activations),
          .solver = parse_word("solver", solver, solvers),
          .learning_rate = parse_word("learning_rate", learning_rate, schedules),
          .dtype = parse_word("dtype", dtype, dtypes)};
}

namespace {

std::string gibibytes(double bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << bytes / double(1ull << 30) << " GiB";
  return s.str();
}

}  // namespace

void MLPParams::check_memory(int n_features, int n_outputs) const {
  const MLPParams& p = *this;
  std::vector<int> units{n_features};
  units.insert(units.end(), hidden_layer_sizes.begin(), hidden_layer_sizes.end());
  units.push_back(n_outputs);
  const MLPChoices choice = p.choices();
  const double scalar = choice.dtype == MLPDtype::float64 ? 8.0 : 4.0;
  // Each parameter is held four times: its value, its gradient and two
  // optimizer arrays (Adam's moments; SGD uses one). lbfgs holds its value
  // and gradient, and in float64 the packed x and g and L-BFGS-B's 2m + 5
  // vectors (m = 10 corrections).
  const double copies = choice.solver == MLPSolver::lbfgs ? 2.0 + (2.0 + 25.0) * 8.0 / scalar : 4.0;
  double total = 0, largest = 0;
  std::size_t largest_layer = 0;
  for (std::size_t i = 0; i + 1 < units.size(); ++i) {
    const double bytes = (double(units[i]) + 1.0) * double(units[i + 1]) * scalar * copies;
    total += bytes;
    if (bytes > largest) largest = bytes, largest_layer = i;
  }
  const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && total > memory) {
    const std::size_t i = largest_layer;
    const bool last = i + 2 == units.size();
    throw Error("the network needs " + gibibytes(total) + " for its parameters (values, " +
                "gradients and optimizer state in " + p.dtype + "), more than this machine's " +
                gibibytes(memory) + "; the largest is " + (last ? "the output layer" : "hidden layer " +
                std::to_string(i + 1)) + ", " + std::to_string(units[i]) + " x " +
                std::to_string(units[i + 1]) + " weights: " + gibibytes(largest) +
                " (hidden_layer_sizes " + p.get("hidden_layer_sizes") + ")");
  }
}

}  // namespace dagrad
