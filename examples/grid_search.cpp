// The lesson's hyperparameter search done right: every combination of a grid
// trained on MNIST's training images, scored on validation rows held out of
// them, several at once; the test images are read only after the best
// configuration is chosen, and scored once. Under `mpirun -np N` (in a build
// with MPI) the ranks share the configurations, and rank 0 alone reads the
// test set and prints.
#include <dagrad/dagrad.hpp>

#include "mnist_training.hpp"
#include "ranks.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

using namespace dagrad;

namespace {

const char* program = "grid_search";

// Python's repr of a float: the shortest text that reads back the same.
std::string repr(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string flag_of(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}
std::string name_of(std::string flag) {
  std::replace(flag.begin(), flag.end(), '-', '_');
  return flag;
}

// Parameters the search sets itself, so they are not base flags.
bool searched_internally(const std::string& name) { return name == "threads" || name == "verbose"; }

ArgParser make_parser() {
  ArgParser p(program,
              "Trains scikit-learn's MLPClassifier (rebuilt on dagrad) for every combination of a grid\n"
              "of hyperparameters on MNIST's training images, scores each on validation rows held out\n"
              "of them, picks the best by validation score, and only then scores it on the test set.\n"
              "\n"
              "--grid NAME=VALUES names a parameter as in scikit-learn (dashes or underscores) and the\n"
              "values to try. When VALUES contains ':' the values are separated by ':' (so a value may\n"
              "hold commas); otherwise by ','.\n"
              "  --grid learning-rate-init=0.001,0.01,0.5            three values\n"
              "  --grid hidden-layer-sizes=10:50:10,10,10,10         (10,), (50,), (10, 10, 10, 10)\n"
              "  --grid hidden-layer-sizes=10,10                     two values: (10,) and (10,)!\n"
              "  --grid hidden-layer-sizes=10,10:                    one value: (10, 10)\n"
              "Without --grid: the lesson's grid, the two lines above, with max_iter=10 and\n"
              "random_state=1 (those two are the defaults of this program either way).");
  p.add("grid", "NAME=VALUES", "a parameter and the values to try (repeatable; see above)");
  for (const std::string& name : MLPParams::names()) {
    if (searched_internally(name)) continue;
    const std::string fallback = name == "max_iter" ? "10" : name == "random_state" ? "1" : MLPParams{}.get(name);
    p.add(flag_of(name), "VALUE", std::string("base value of ") +
          (MLPParams::from_scikit_learn(name) ? "scikit-learn's " : "dagrad's ") + name + " (default " + fallback + ")");
  }
  p.add("validation-rows", "N", "hold out the last N training rows for validation (default 10000, as the reference)");
  p.add("validation-fraction", "F", "hold out this fraction of the training rows instead (the last ones)");
  p.add("validation-seed", "S", "hold out rows chosen at random with this seed (as train_test_split's random_state);"
        " with --folds, shuffle the folds");
  p.add("folds", "K", "k-fold cross-validation instead of a holdout (implies --refit)");
  p.add_switch("refit", "train the best configuration again on all training rows before testing it");
  p.add("threads", "N", "configurations trained at once, and the refit's threads (default 0: every core)");
  add_mnist_flags(p, /*test_rows=*/false);
  p.add("csv", "FILE", "write the table as CSV");
  p.add("json", "FILE", "write the table, the best configuration and its test score as JSON");
  p.add("svg", "FILE", "draw validation score against learning_rate_init, one line per other setting");
  return p;
}

template <class T>
T flag_number(const std::string& flag, const std::string& text, const std::string& what) {
  const std::optional<T> v = parse_number<T>(text);
  if (!v) throw UsageError(std::string(program) + ": --" + flag + " takes " + what + ", not '" + text + "'");
  return *v;
}

GridParam parse_grid(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError(std::string(program) + ": --grid takes NAME=V1,V2,... or NAME=V1:V2:..., not '" + text + "'");
  }
  GridParam g{name_of(text.substr(0, eq)), {}};
  const std::string list = text.substr(eq + 1);
  const char sep = list.find(':') != std::string::npos ? ':' : ',';
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(sep, start);
    if (end == std::string::npos) end = list.size();
    if (end > start) g.values.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  if (g.values.empty()) throw UsageError(std::string(program) + ": --grid " + text + " gives no values");
  return g;
}

// Python's repr of a tuple of ints: (50,) or (10, 10, 10, 10).
std::string tuple_text(const std::vector<int>& sizes) {
  std::string s = "(";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + (sizes.size() == 1 ? ",)" : ")");
}

// A grid value as the lesson prints it: sizes as tuples, the rest as given.
std::string shown(const std::string& name, const std::string& value, const MLPParams& full) {
  return name == "hidden_layer_sizes" ? tuple_text(full.hidden_layer_sizes) : value;
}

// "Learning Rate: 0.01, Size: (50,)", the lesson's words where it has them.
std::string label(const GridRow& row) {
  std::string s;
  for (const auto& [name, value] : row.params) {
    s += s.empty() ? "" : ", ";
    if (name == "learning_rate_init") {
      s += "Learning Rate: " + repr(row.full_params.learning_rate_init);
    } else if (name == "hidden_layer_sizes") {
      s += "Size: " + tuple_text(row.full_params.hidden_layer_sizes);
    } else {
      s += name + ": " + value;
    }
  }
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string json_string(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string to_csv(const Grid& grid, const GridResult& r) {
  std::string s = "index";
  for (const auto& g : grid) s += "," + g.name;
  s += ",validation_score,loss,n_iter,fit_seconds,best\n";
  for (const GridRow& row : r.rows) {
    s += std::to_string(row.index);
    for (const auto& p : row.params) s += "," + csv_field(p.second);
    s += "," + repr(row.validation_score) + "," + repr(row.loss) + "," + std::to_string(row.n_iter) + "," +
         fixed(row.fit_seconds, 3) + "," + (row.index == r.best_index ? "1" : "0") + "\n";
  }
  return s;
}

std::string to_json(const GridResult& r, const std::string& validation, double test_score) {
  std::ostringstream s;
  s << "{\n  \"validation\": " << json_string(validation) << ",\n  \"rows\": [\n";
  for (const GridRow& row : r.rows) {
    s << "    {\"index\": " << row.index << ", \"params\": {";
    for (std::size_t i = 0; i < row.params.size(); ++i) {
      s << (i ? ", " : "") << json_string(row.params[i].first) << ": " << json_string(row.params[i].second);
    }
    s << "}, \"validation_score\": " << repr(row.validation_score) << ", \"fold_scores\": [";
    for (std::size_t k = 0; k < row.fold_scores.size(); ++k) s << (k ? ", " : "") << repr(row.fold_scores[k]);
    s << "], \"loss\": " << repr(row.loss) << ", \"n_iter\": " << row.n_iter
      << ", \"fit_seconds\": " << fixed(row.fit_seconds, 3) << "}" << (row.index + 1 < r.rows.size() ? "," : "")
      << "\n";
  }
  s << "  ],\n  \"best_index\": " << r.best_index << ",\n  \"best\": " << json_string(r.best().describe())
    << ",\n  \"test_score\": " << repr(test_score) << ",\n  \"grid_seconds\": " << fixed(r.seconds, 3) << "\n}\n";
  return s.str();
}

// Validation score against learning_rate_init (log x), one line per setting of
// the other parameters, with axes, ticks and a legend.
std::string to_svg(const GridResult& r) {
  const double W = 720, H = 440, left = 70, right = 250, top = 40, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  std::map<std::string, std::vector<std::pair<double, double>>> lines;  // other settings -> (lr, score)
  std::vector<std::string> order;
  double xmin = INFINITY, xmax = -INFINITY, ymin = 1;
  for (const GridRow& row : r.rows) {
    std::string key;
    for (const auto& [name, value] : row.params) {
      if (name == "learning_rate_init") continue;
      key += (key.empty() ? "" : " ") + name + "=" + shown(name, value, row.full_params);
    }
    if (!lines.count(key)) order.push_back(key);
    const double lr = row.full_params.learning_rate_init;
    lines[key].emplace_back(lr, row.validation_score);
    xmin = std::min(xmin, std::log10(lr));
    xmax = std::max(xmax, std::log10(lr));
    ymin = std::min(ymin, row.validation_score);
  }
  if (xmax - xmin < 1e-9) xmin -= 0.5, xmax += 0.5;
  const double pad = 0.05 * (xmax - xmin);
  xmin -= pad, xmax += pad;
  ymin = std::max(0.0, std::floor(ymin * 10) / 10);
  const double ymax = 1.0;
  auto X = [&](double lr) { return left + (std::log10(lr) - xmin) / (xmax - xmin) * pw; };
  auto Y = [&](double v) { return top + (ymax - v) / (ymax - ymin) * ph; };
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"};

  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << left + pw / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
    << "MNIST grid search: validation accuracy</text>\n";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 5; ++i) {
    const double v = ymin + (ymax - ymin) * i / 5;
    s << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
      << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\">"
      << fixed(v, 2) << "</text>\n";
  }
  std::vector<double> ticks;
  for (const GridRow& row : r.rows) ticks.push_back(row.full_params.learning_rate_init);
  std::sort(ticks.begin(), ticks.end());
  ticks.erase(std::unique(ticks.begin(), ticks.end()), ticks.end());
  for (double lr : ticks) {
    s << "<line x1=\"" << X(lr) << "\" x2=\"" << X(lr) << "\" y1=\"" << top + ph << "\" y2=\"" << top + ph + 5
      << "\" stroke=\"black\"/><text x=\"" << X(lr) << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">"
      << repr(lr) << "</text>\n";
  }
  s << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">"
    << "learning_rate_init (log scale)</text>\n";
  s << "<text transform=\"translate(18," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << "validation accuracy</text>\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    auto points = lines[order[i]];
    std::sort(points.begin(), points.end());
    const char* color = colors[i % std::size(colors)];
    s << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
    for (const auto& [lr, v] : points) s << X(lr) << "," << Y(v) << " ";
    s << "\"/>\n";
    for (const auto& [lr, v] : points) {
      s << "<circle cx=\"" << X(lr) << "\" cy=\"" << Y(v) << "\" r=\"3.5\" fill=\"" << color << "\"/>\n";
    }
    const double ly = top + 10 + 20 * static_cast<double>(i);
    s << "<line x1=\"" << left + pw + 15 << "\" x2=\"" << left + pw + 40 << "\" y1=\"" << ly << "\" y2=\"" << ly
      << "\" stroke=\"" << color << "\" stroke-width=\"2\"/><text x=\"" << left + pw + 46 << "\" y=\"" << ly + 4
      << "\">" << (order[i].empty() ? "all" : order[i]) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

void print_table(const Grid& grid, const GridResult& r) {
  std::vector<std::string> head;
  for (const auto& g : grid) head.push_back(g.name);
  for (const char* h : {"validation", "loss", "iterations", "fit s"}) head.emplace_back(h);
  std::vector<std::vector<std::string>> cells;
  for (const GridRow& row : r.rows) {
    std::vector<std::string> line;
    for (const auto& [name, value] : row.params) line.push_back(shown(name, value, row.full_params));
    line.push_back(fixed(row.validation_score, 4) + (row.index == r.best_index ? " *" : ""));
    line.push_back(fixed(row.loss, 6));
    line.push_back(std::to_string(row.n_iter));
    line.push_back(fixed(row.fit_seconds, 1));
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> width(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) {
    width[i] = head[i].size();
    for (const auto& line : cells) width[i] = std::max(width[i], line[i].size());
  }
  auto print = [&](const std::vector<std::string>& line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const bool last = i + 1 == line.size();
      std::cout << (i ? "  " : "") << std::left << std::setw(last ? 0 : static_cast<int>(width[i])) << line[i];
    }
    std::cout << "\n";
  };
  print(head);
  for (const auto& line : cells) print(line);
}

// The estimator's fixed parameters (the flags that are not searched) and the
// grid (--grid, or the lesson's when none is given).
std::pair<MLPParams, Grid> base_and_grid(const ParsedArgs& args) {
  MLPParams base;
  base.max_iter = 10;
  base.random_state = 1;
  Grid grid;
  for (const auto& [flag, value] : args.values) {
    const std::string name = name_of(flag);
    if (flag == "grid") {
      grid.push_back(parse_grid(value));
    } else if (std::find(MLPParams::names().begin(), MLPParams::names().end(), name) != MLPParams::names().end() &&
               !searched_internally(name)) {
      base.set(name, value);
    }
  }
  if (grid.empty()) {
    grid = {{"learning_rate_init", {"0.001", "0.01", "0.5"}}, {"hidden_layer_sizes", {"10", "50", "10,10,10,10"}}};
  }
  for (const auto& g : grid) {
    if (args.has(flag_of(g.name))) {
      throw UsageError(std::string(program) + ": --" + flag_of(g.name) + " is also searched by --grid; give one");
    }
  }
  return {base, grid};
}

// --folds, --validation-fraction or --validation-rows into options.validation
// (folds imply refit); returns the scheme in words.
std::string choose_validation(const ParsedArgs& args, GridSearchOptions& options) {
  const bool seeded = args.has("validation-seed");
  const std::uint32_t seed =
      seeded ? flag_number<std::uint32_t>("validation-seed", args.get("validation-seed"), "a seed") : 0;
  if (args.has("folds")) {
    if (args.has("validation-rows") || args.has("validation-fraction")) {
      throw UsageError(std::string(program) + ": --folds cannot be combined with --validation-rows or --validation-fraction");
    }
    const int folds = flag_number<int>("folds", args.get("folds"), "a whole number >= 2");
    options.validation = KFold{.folds = folds, .shuffle = seeded, .seed = seed};
    options.refit = true;
    return std::to_string(folds) + "-fold cross-validation" + (seeded ? ", shuffled" : "");
  }
  if (args.has("validation-fraction")) {
    if (args.has("validation-rows")) {
      throw UsageError(std::string(program) + ": give --validation-rows or --validation-fraction, not both");
    }
    const double f = flag_number<double>("validation-fraction", args.get("validation-fraction"), "a number in (0, 1)");
    options.validation = Holdout{.fraction = f, .shuffle = seeded, .seed = seed};
    return "holdout of " + repr(f) + " of the training rows" + (seeded ? ", chosen at random" : ", the last ones");
  }
  const auto rows = flag_number<std::size_t>("validation-rows", args.get("validation-rows", "10000"), "a whole number");
  options.validation = Holdout{.rows = rows, .shuffle = seeded, .seed = seed};
  return "holdout of " + std::to_string(rows) + " training rows" + (seeded ? ", chosen at random" : ", the last ones");
}

// Rank 0 after the search: the table, the best configuration scored once on
// the test set, and the files asked for.
void report(const ParsedArgs& args, const Grid& grid, const GridResult& result, bool refit,
            const std::string& validation, const std::string& test_images, const std::string& test_labels) {
  std::cout << "\n";
  print_table(grid, result);
  const GridRow& best = result.best();
  std::cout << "\nbest by validation score: " << best.describe() << (refit ? " (refit on all training rows)" : "")
            << "\n";
  // Only now is the test set read, and scored once.
  const Dataset test = read_dataset(test_images, test_labels);
  const double test_score = result.best_estimator->score(Features(test.images), to_labels(test.labels));
  std::cout << "best: " << best.describe() << " validation=" << fixed(best.validation_score, 4)
            << " test=" << fixed(test_score, 4) << "\n";
  if (args.has("csv")) write_file_atomically(args.get("csv"), to_csv(grid, result));
  if (args.has("json")) write_file_atomically(args.get("json"), to_json(result, validation, test_score));
  if (args.has("svg")) write_file_atomically(args.get("svg"), to_svg(result));
}

// group: the ranks of mpirun, or null for one process.
int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = make_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  auto [base, grid] = base_and_grid(args);
  const int threads = flag_number<int>("threads", args.get("threads", "0"), "a whole number >= 0");
  base.threads = threads;
  GridSearchOptions options{.refit = args.has("refit"), .threads = threads, .group = group};
  const bool tests = !group || group->rank() == 0;  // the one process that reads and scores the test set
  const std::string validation = choose_validation(args, options);
  if (args.has("svg") &&
      std::none_of(grid.begin(), grid.end(), [](const GridParam& g) { return g.name == "learning_rate_init"; })) {
    throw UsageError(std::string(program) + ": --svg plots against learning_rate_init, which --grid does not search");
  }

  // Every configuration is checked here, before any data is read.
  GridSearch search(base, grid, options);
  // The test set is read after the search: its files are looked for now.
  const std::string dir = args.get("data", default_mnist_dir());
  const std::string test_images = tests ? mnist_file(dir, "t10k-images-idx3-ubyte") : "";
  const std::string test_labels = tests ? mnist_file(dir, "t10k-labels-idx1-ubyte") : "";
  const Dataset train = load_mnist_train_rows(args);
  const std::vector<int> y_train = to_labels(train.labels);
  std::cout << "(" << train.images.count << ", " << train.images.features() << "), " << validation << ", "
            << search.configurations().size() << " configurations\n"
            << std::flush;

  search.on_result([](const GridRow& row) {
    std::cout << label(row) << "  validation: " << fixed(row.validation_score, 4) << "  loss: " << fixed(row.loss, 6)
              << "  iterations: " << row.n_iter << "  fit: " << fixed(row.fit_seconds, 1) << " s\n"
              << std::flush;
  });
  const auto start = std::chrono::steady_clock::now();
  GridResult result = search.fit(train.images, y_train);
  if (!tests) return 0;  // rank 0 prints, tests and writes the files
  report(args, grid, result, options.refit, validation, test_images, test_labels);
  std::cout << "grid_seconds: "
            << fixed(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 3) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // GridSearch's own errors already say "grid search: ".
  return run_ranks(program, [&](nn::ShardGroup* group) { return run(argc, argv, group); }, "grid search: ");
}
