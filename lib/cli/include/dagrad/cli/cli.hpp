// A small command-line parser for the example programs: --name VALUE,
// --name=VALUE and switches, with errors that name the flag and suggest the
// nearest one ("unknown flag --hidden-layer-size; did you mean --hidden-layer-sizes?").
//   ArgParser p("mnist_mlp", "..."); p.add("max-iter", "N", "epochs");
//   ParsedArgs a = p.parse(argc, argv);  if (a.has("max-iter")) ...
//   (or parse_or_help, which prints the help for --help)
#pragma once

#include <dagrad/core/closest.hpp>  // the flags' suggestions
#include <dagrad/core/error.hpp>

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dagrad {

// A command line that cannot be understood; what() says why, for the user.
class UsageError : public Error {
 public:
  using Error::Error;
};

struct ParsedArgs {
  std::vector<std::pair<std::string, std::string>> values;  // in command-line order
  bool help = false;
  std::string program;  // for messages
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& fallback = "") const;
  // The value as a whole number or a number in [low, high], or `fallback`
  // when the flag is absent; otherwise a UsageError naming the flag and the
  // range ("lenet: --epochs takes a whole number from 1 to 1000, not 'x'").
  long get_int(const std::string& name, long fallback, long low, long high) const;
  double get_double(const std::string& name, double fallback, double low, double high) const;
};

class ArgParser {
 public:
  ArgParser(std::string program, std::string description);
  // --name VALUE (or --name=VALUE).
  void add(const std::string& name, const std::string& value_name, const std::string& help);
  // --name alone means `implicit`; --name=VALUE or --name VALUE (a VALUE not
  // starting with "--") gives another value.
  void add_optional(const std::string& name, const std::string& implicit, const std::string& value_name,
                    const std::string& help);
  // --name, no value.
  void add_switch(const std::string& name, const std::string& help);

  // Underscores in flags are read as dashes (--max_iter is --max-iter).
  ParsedArgs parse(int argc, const char* const* argv) const;
  ParsedArgs parse(const std::vector<std::string>& args) const;
  std::string help() const;
  // parse(); when the line asks for --help (or -h), the help written to
  // `out` (std::cout) instead, and no arguments: the program then exits 0.
  //   const std::optional<ParsedArgs> args = parser.parse_or_help(argc, argv);
  //   if (!args) return 0;
  std::optional<ParsedArgs> parse_or_help(int argc, const char* const* argv, std::ostream& out) const;
  std::optional<ParsedArgs> parse_or_help(int argc, const char* const* argv) const;

 private:
  struct Flag {
    std::string name, value_name, help;
    enum Kind { value, optional, toggle } kind;
    std::string implicit;
  };
  const Flag* find(const std::string& name) const;
  std::string program_, description_;
  std::vector<Flag> flags_;
};

// A program's main() around its body: returns run()'s exit code; prints a
// UsageError's message as it is and returns 2; prints any other error after
// "program: " (unless it already starts with that, or with `own_prefix`)
// and returns 1. Messages go to `err`.
//   int main(int argc, char** argv) { return run_program("mnist_mlp", [&] { return run(argc, argv); }); }
int run_program(std::string_view program, const std::function<int()>& run, std::ostream& err,
                std::string_view own_prefix = {});
int run_program(std::string_view program, const std::function<int()>& run, std::string_view own_prefix = {});

}  // namespace dagrad
