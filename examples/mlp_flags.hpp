// Every MLPParams parameter as a command-line flag named as in scikit-learn
// (dashes for underscores), for the programs that train an MLPClassifier or
// an MLPRegressor: add_mlp_param_flags declares them, apply_mlp_param_flags
// sets the ones given; repr prints scores as Python does.
#pragma once

#include <dagrad/cli/cli.hpp>
#include <dagrad/ml/mlp.hpp>

#include <algorithm>
#include <charconv>
#include <string>

inline void add_mlp_param_flags(dagrad::ArgParser& p) {
  using namespace dagrad;
  for (const std::string& name : MLPParams::names()) {
    std::string flag = name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const std::string fallback = MLPParams{}.get(name);
    const std::string whose = MLPParams::from_scikit_learn(name) ? "scikit-learn's " : "dagrad's ";
    if (fallback == "true" || fallback == "false") {
      p.add_optional(flag, "true", "BOOL", whose + name + " (default " + fallback + ")");
    } else if (name == "verbose") {
      p.add_optional(flag, "1", "N", "print the iteration lines (default 0)");
    } else if (name == "shards") {
      p.add(flag, "N",
            "cut each mini-batch into N shards, computed one after another and their gradients summed in "
            "order, as N data-parallel processes would; under mpirun, 1 or the number of ranks (default 1)");
    } else {
      p.add(flag, "VALUE", whose + name + " (default " + fallback + ")");
    }
  }
}

// The hyperparameters given as flags, over what `params` holds; then checked.
inline void apply_mlp_param_flags(const dagrad::ParsedArgs& args, dagrad::MLPParams& params) {
  using namespace dagrad;
  for (const auto& [flag, value] : args.values) {
    std::string name = flag;
    std::replace(name.begin(), name.end(), '-', '_');
    if (std::find(MLPParams::names().begin(), MLPParams::names().end(), name) != MLPParams::names().end()) {
      params.set(name, value);
    }
  }
  params.validate();
}

// Python's repr of a float: the shortest text that reads back the same, so
// a program's scores print as scikit-learn's do.
inline std::string repr(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}
