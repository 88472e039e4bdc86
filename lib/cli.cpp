#include <dagrad/cli.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <new>
#include <sstream>

namespace dagrad {

bool ParsedArgs::has(const std::string& name) const {
  return std::any_of(values.begin(), values.end(), [&](auto& v) { return v.first == name; });
}

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  // The last occurrence wins, as in most command-line tools.
  for (auto it = values.rbegin(); it != values.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return fallback;
}

ArgParser::ArgParser(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void ArgParser::add(const std::string& name, const std::string& value_name, const std::string& help) {
  flags_.push_back({name, value_name, help, Flag::value, ""});
}

void ArgParser::add_optional(const std::string& name, const std::string& implicit,
                             const std::string& value_name, const std::string& help) {
  flags_.push_back({name, value_name, help, Flag::optional, implicit});
}

void ArgParser::add_switch(const std::string& name, const std::string& help) {
  flags_.push_back({name, "", help, Flag::toggle, "true"});
}

const ArgParser::Flag* ArgParser::find(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

ParsedArgs ArgParser::parse(int argc, const char* const* argv) const {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse(args);
}

ParsedArgs ArgParser::parse(const std::vector<std::string>& args) const {
  ParsedArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      throw UsageError(program_ + ": unexpected argument '" + arg + "' (flags start with --; see --help)");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    std::replace(name.begin(), name.end(), '_', '-');
    const Flag* flag = find(name);
    if (!flag) {
      std::vector<std::string> names;
      for (const Flag& f : flags_) names.push_back(f.name);
      std::string msg = program_ + ": unknown flag --" + name;
      if (auto near = closest(name, names)) msg += "; did you mean --" + *near + "?";
      throw UsageError(msg + " (see --help)");
    }
    switch (flag->kind) {
      case Flag::toggle:
        if (value) throw UsageError(program_ + ": flag --" + name + " takes no value");
        out.values.emplace_back(name, flag->implicit);
        break;
      case Flag::optional:
        if (!value && i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) value = args[++i];
        out.values.emplace_back(name, value ? *value : flag->implicit);
        break;
      case Flag::value:
        if (!value) {
          if (i + 1 >= args.size()) {
            throw UsageError(program_ + ": flag --" + name + " needs a value (" + flag->value_name + ")");
          }
          value = args[++i];
        }
        out.values.emplace_back(name, *value);
        break;
    }
  }
  return out;
}

std::string ArgParser::help() const {
  std::ostringstream s;
  s << "usage: " << program_ << " [flags]\n\n" << description_ << "\n\nflags:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name;
    if (f.kind == Flag::value) left += " " + f.value_name;
    if (f.kind == Flag::optional) left += " [" + f.value_name + "]";
    s << left;
    if (left.size() < 34) s << std::string(34 - left.size(), ' ');
    else s << "\n" << std::string(34, ' ');
    s << f.help << "\n";
  }
  s << "  --help                          this text\n";
  return s.str();
}

std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
  // A typo changes a few characters; a prefix ("--hidden") also counts.
  const std::size_t near = std::max<std::size_t>(2, word.size() / 3);
  auto is_prefix_of = [&](const std::string& c) {
    return word.size() >= 4 && c.compare(0, word.size(), word) == 0;
  };
  // The answer is the first candidate at the least distance, if that distance
  // is at most `near` or the candidate extends the word. A candidate that
  // extends the word lies at exactly their length difference, so the answer
  // is never farther than `cap`, and farther distances need not be known; nor
  // need any distance that cannot beat the best so far. A long stray
  // argument or a far candidate then costs next to nothing.
  std::size_t cap = near;
  for (const auto& c : candidates) {
    if (is_prefix_of(c)) cap = std::max(cap, c.size() - word.size());
  }
  // Levenshtein distance if at most `limit`, else limit + 1. Cells farther
  // than `limit` from the diagonal are at least that far, so each row is
  // computed only within that band (Ukkonen), the rest reading as far.
  auto distance = [](const std::string& a, const std::string& b, std::size_t limit) {
    const std::size_t far = limit + 1;
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return far;
    std::vector<std::size_t> prev(b.size() + 1, far), cur(b.size() + 1, far);
    for (std::size_t j = 0; j <= std::min(b.size(), limit); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      const std::size_t lo = i > limit ? i - limit : 0;
      const std::size_t hi = std::min(b.size(), i + limit);
      std::size_t row_min = far;
      if (lo == 0) {
        cur[0] = i;
        row_min = i;
      } else {
        cur[lo - 1] = far;
      }
      for (std::size_t j = std::max<std::size_t>(lo, 1); j <= hi; ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        row_min = std::min(row_min, cur[j]);
      }
      if (row_min > limit) return far;  // no later row comes back within it
      std::swap(prev, cur);
    }
    return std::min(prev[b.size()], far);
  };
  const std::string* best = nullptr;
  std::size_t best_d = cap + 1;
  for (const auto& c : candidates) {
    if (best_d == 0) break;
    const std::size_t d = distance(word, c, best_d - 1);
    if (d < best_d) {
      best = &c;
      best_d = d;
    }
  }
  if (best && (best_d <= near || is_prefix_of(*best))) return *best;
  return std::nullopt;
}

int run_program(std::string_view program, const std::function<int()>& run, std::ostream& err,
                std::string_view own_prefix) {
  try {
    return run();
  } catch (const UsageError& e) {
    err << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    err << program << ": out of memory (an allocation failed); try smaller layers or batches\n";
    return 1;
  } catch (const std::exception& e) {
    const std::string_view what = e.what();
    const std::string prefix = std::string(program) + ": ";
    const bool prefixed = what.starts_with(prefix) || (!own_prefix.empty() && what.starts_with(own_prefix));
    err << (prefixed ? "" : prefix) << what << "\n";
    return 1;
  }
}

int run_program(std::string_view program, const std::function<int()>& run, std::string_view own_prefix) {
  return run_program(program, run, std::cerr, own_prefix);
}

}  // namespace dagrad
