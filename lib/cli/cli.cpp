#include <dagrad/cli/cli.hpp>
#include <dagrad/core/number.hpp>

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

long ParsedArgs::get_int(const std::string& name, long fallback, long low, long high) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  const std::optional<long> v = parse_number<long>(text);
  if (!v || *v < low || *v > high) {
    throw UsageError(program + ": --" + name + " takes a whole number from " + std::to_string(low) + " to " +
                     std::to_string(high) + ", not '" + text + "'");
  }
  return *v;
}

double ParsedArgs::get_double(const std::string& name, double fallback, double low, double high) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  const std::optional<double> v = parse_number<double>(text);
  if (!v || !(*v >= low && *v <= high)) {
    std::ostringstream range;
    range << low << " to " << high;
    throw UsageError(program + ": --" + name + " takes a number from " + range.str() + ", not '" + text + "'");
  }
  return *v;
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

std::optional<ParsedArgs> ArgParser::parse_or_help(int argc, const char* const* argv, std::ostream& out) const {
  ParsedArgs args = parse(argc, argv);
  if (!args.help) return args;
  out << help();
  return std::nullopt;
}

std::optional<ParsedArgs> ArgParser::parse_or_help(int argc, const char* const* argv) const {
  return parse_or_help(argc, argv, std::cout);
}

ParsedArgs ArgParser::parse(const std::vector<std::string>& args) const {
  ParsedArgs out;
  out.program = program_;
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
