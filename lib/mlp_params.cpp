// MLPParams by name: parsing, printing and validation, with errors that name
// the parameter and its allowed values.
#include <dagrad/error.hpp>
#include <dagrad/mlp.hpp>

#include <cmath>
#include <iomanip>
#include <charconv>
#include <limits>
#include <sstream>
#include <vector>

#include <unistd.h>

namespace dagrad {

namespace {

constexpr int max_threads = 1024;

[[noreturn]] void bad(const std::string& name, const std::string& value, const std::string& allowed) {
  throw Error("MLPClassifier parameter '" + name + "' cannot be '" + value + "': " + allowed);
}

double parse_double(const std::string& name, const std::string& v) {
  double d = 0;
  const char* end = v.data() + v.size();
  auto r = std::from_chars(v.data(), end, d);
  if (v.empty() || r.ec != std::errc() || r.ptr != end) bad(name, v, "expected a number");
  return d;
}

long parse_int(const std::string& name, const std::string& v) {
  long i = 0;
  const char* end = v.data() + v.size();
  auto r = std::from_chars(v.data(), end, i);
  if (v.empty() || r.ec != std::errc() || r.ptr != end) bad(name, v, "expected a whole number");
  return i;
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

std::string sizes_text(const std::vector<int>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(sizes[i]);
  }
  return s;
}

void one_of(const std::string& name, const std::string& v, std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  bad(name, v, "allowed values are " + list);
}

}  // namespace

const std::vector<std::string>& MLPParams::names() {
  static const std::vector<std::string> all{
      "hidden_layer_sizes", "activation", "solver", "alpha", "batch_size", "learning_rate",
      "learning_rate_init", "power_t", "max_iter", "shuffle", "random_state", "tol", "verbose",
      "warm_start", "momentum", "nesterovs_momentum", "early_stopping", "validation_fraction",
      "beta_1", "beta_2", "epsilon", "n_iter_no_change", "dtype", "threads",
      "check_numerics"};
  return all;
}

bool MLPParams::from_scikit_learn(const std::string& name) {
  return name != "dtype" && name != "threads" && name != "check_numerics";
}

void MLPParams::set(const std::string& name, const std::string& v) {
  if (name == "hidden_layer_sizes") {
    // "50", "10,10,10" or "(10, 10)"; an empty list means no hidden layer.
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
    hidden_layer_sizes = sizes;
  } else if (name == "activation") {
    activation = v;
  } else if (name == "solver") {
    solver = v;
  } else if (name == "alpha") {
    alpha = parse_double(name, v);
  } else if (name == "batch_size") {
    if (v == "auto") {
      batch_size.reset();
    } else {
      batch_size = parse_small_int(name, v);
    }
  } else if (name == "learning_rate") {
    learning_rate = v;
  } else if (name == "learning_rate_init") {
    learning_rate_init = parse_double(name, v);
  } else if (name == "power_t") {
    power_t = parse_double(name, v);
  } else if (name == "max_iter") {
    max_iter = parse_small_int(name, v);
  } else if (name == "shuffle") {
    shuffle = parse_bool(name, v);
  } else if (name == "random_state") {
    if (v == "None" || v == "none") {
      random_state.reset();
    } else {
      long s = parse_int(name, v);
      if (s < 0 || s > 0xffffffffL) bad(name, v, "a seed must be in [0, 4294967295], or None");
      random_state = static_cast<std::uint32_t>(s);
    }
  } else if (name == "tol") {
    tol = parse_double(name, v);
  } else if (name == "verbose") {
    verbose = v == "true" || v == "True" ? 1 : v == "false" || v == "False" ? 0 : parse_small_int(name, v);
  } else if (name == "warm_start") {
    warm_start = parse_bool(name, v);
  } else if (name == "momentum") {
    momentum = parse_double(name, v);
  } else if (name == "nesterovs_momentum") {
    nesterovs_momentum = parse_bool(name, v);
  } else if (name == "early_stopping") {
    early_stopping = parse_bool(name, v);
  } else if (name == "validation_fraction") {
    validation_fraction = parse_double(name, v);
  } else if (name == "beta_1") {
    beta_1 = parse_double(name, v);
  } else if (name == "beta_2") {
    beta_2 = parse_double(name, v);
  } else if (name == "epsilon") {
    epsilon = parse_double(name, v);
  } else if (name == "n_iter_no_change") {
    n_iter_no_change = parse_small_int(name, v);
  } else if (name == "dtype") {
    dtype = v;
  } else if (name == "threads") {
    threads = parse_small_int(name, v);
  } else if (name == "check_numerics") {
    check_numerics = parse_bool(name, v);
  } else {
    throw Error("MLPClassifier has no parameter '" + name + "'");
  }
}

std::string MLPParams::get(const std::string& name) const {
  auto b = [](bool x) { return std::string(x ? "true" : "false"); };
  if (name == "hidden_layer_sizes") return sizes_text(hidden_layer_sizes);
  if (name == "activation") return activation;
  if (name == "solver") return solver;
  if (name == "alpha") return fmt(alpha);
  if (name == "batch_size") return batch_size ? std::to_string(*batch_size) : "auto";
  if (name == "learning_rate") return learning_rate;
  if (name == "learning_rate_init") return fmt(learning_rate_init);
  if (name == "power_t") return fmt(power_t);
  if (name == "max_iter") return std::to_string(max_iter);
  if (name == "shuffle") return b(shuffle);
  if (name == "random_state") return random_state ? std::to_string(*random_state) : "None";
  if (name == "tol") return fmt(tol);
  if (name == "verbose") return std::to_string(verbose);
  if (name == "warm_start") return b(warm_start);
  if (name == "momentum") return fmt(momentum);
  if (name == "nesterovs_momentum") return b(nesterovs_momentum);
  if (name == "early_stopping") return b(early_stopping);
  if (name == "validation_fraction") return fmt(validation_fraction);
  if (name == "beta_1") return fmt(beta_1);
  if (name == "beta_2") return fmt(beta_2);
  if (name == "epsilon") return fmt(epsilon);
  if (name == "n_iter_no_change") return std::to_string(n_iter_no_change);
  if (name == "dtype") return dtype;
  if (name == "threads") return std::to_string(threads);
  if (name == "check_numerics") return b(check_numerics);
  throw Error("MLPClassifier has no parameter '" + name + "'");
}

void MLPParams::validate() const {
  for (int s : hidden_layer_sizes) {
    if (s <= 0) bad("hidden_layer_sizes", sizes_text(hidden_layer_sizes), "every layer size must be > 0");
  }
  one_of("activation", activation, {"identity", "logistic", "tanh", "relu"});
  one_of("solver", solver, {"sgd", "adam"});
  if (!(alpha >= 0) || !std::isfinite(alpha)) bad("alpha", fmt(alpha), "must be a finite number >= 0");
  if (batch_size && *batch_size < 1) bad("batch_size", std::to_string(*batch_size), "must be >= 1 or auto");
  one_of("learning_rate", learning_rate, {"constant", "invscaling", "adaptive"});
  if (!(learning_rate_init > 0) || !std::isfinite(learning_rate_init))
    bad("learning_rate_init", fmt(learning_rate_init), "must be a finite number > 0");
  if (!(power_t >= 0)) bad("power_t", fmt(power_t), "must be >= 0");
  if (max_iter < 1) bad("max_iter", std::to_string(max_iter), "must be >= 1");
  if (!(tol >= 0)) bad("tol", fmt(tol), "must be >= 0");
  if (verbose < 0) bad("verbose", std::to_string(verbose), "must be >= 0");
  if (!(momentum >= 0 && momentum <= 1)) bad("momentum", fmt(momentum), "must be in [0, 1]");
  if (!(validation_fraction > 0 && validation_fraction < 1))
    bad("validation_fraction", fmt(validation_fraction), "must be in (0, 1)");
  if (!(beta_1 >= 0 && beta_1 < 1)) bad("beta_1", fmt(beta_1), "must be in [0, 1)");
  if (!(beta_2 >= 0 && beta_2 < 1)) bad("beta_2", fmt(beta_2), "must be in [0, 1)");
  if (!(epsilon > 0)) bad("epsilon", fmt(epsilon), "must be > 0");
  if (n_iter_no_change < 1) bad("n_iter_no_change", std::to_string(n_iter_no_change), "must be >= 1");
  one_of("dtype", dtype, {"float32", "float64"});
  if (threads < 0) bad("threads", std::to_string(threads), "must be >= 0 (0 means every core)");
  // oneTBB sizes an arena by its concurrency: 10^6 threads take 0.5 GB and
  // INT_MAX crashes it, so a model file or flag cannot ask for that many.
  if (threads > max_threads) {
    bad("threads", std::to_string(threads), "must be at most " + std::to_string(max_threads));
  }
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
  const double scalar = p.dtype == "float64" ? 8.0 : 4.0;
  // Each parameter is held four times: its value, its gradient and two
  // optimizer arrays (Adam's moments; SGD uses one).
  const double copies = 4.0;
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
    throw Error("MLPClassifier: the network needs " + gibibytes(total) + " for its parameters (values, " +
                "gradients and optimizer state in " + p.dtype + "), more than this machine's " +
                gibibytes(memory) + "; the largest is " + (last ? "the output layer" : "hidden layer " +
                std::to_string(i + 1)) + ", " + std::to_string(units[i]) + " x " +
                std::to_string(units[i + 1]) + " weights: " + gibibytes(largest) +
                " (hidden_layer_sizes " + p.get("hidden_layer_sizes") + ")");
  }
}

}  // namespace dagrad
