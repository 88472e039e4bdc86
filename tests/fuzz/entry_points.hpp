// What the fuzz targets and tests/lib/io/test_corpus.cpp feed untrusted bytes
// to: the IDX reader, the model-file and graph-file readers and mnist_mlp's
// command line. Each returns or throws dagrad::Error; any other outcome is a bug.
//   dagrad_fuzz::idx(bytes);  dagrad_fuzz::model(bytes);  dagrad_fuzz::graph(bytes);  dagrad_fuzz::cli(bytes);
//   dagrad_fuzz::feed(dagrad_fuzz::idx, {data, size});  // in a target: refusals are no finding
#pragma once

#include <dagrad/cli/cli.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/io/graph_file.hpp>
#include <dagrad/io/idx.hpp>
#include <dagrad/io/model_file.hpp>
#include <dagrad/ml/mlp.hpp>
#include <dagrad/ml/mlp_file.hpp>
#include <dagrad/viz/dot.hpp>

#include "../../examples/mnist_mlp_flags.hpp"
#include <dagrad/io/detail/model_file.hpp>  // crc32c, to fix up mutated files' checksums

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dagrad_fuzz {

using Bytes = std::span<const std::uint8_t>;

// parse_idx, then parse_images or parse_labels when the dimensions suit them:
// the checks and messages of read_idx, read_images and read_labels (which
// differ only in where the bytes come from), without a file per input.
inline void idx(Bytes bytes) {
  const std::string name = "fuzz input";
  const dagrad::IdxArray a = dagrad::parse_idx(bytes, name);
  if (a.dims.size() == 3) dagrad::parse_images(bytes, name);
  if (a.dims.size() == 1) dagrad::parse_labels(bytes, name);
}

// The file kind at offset 12 picks the reader: 2 is executor parameters
// (loaded into a graph with parameters "w" 2x3 and "b" 1x3), 4 an
// MLPRegressor, else an MLPClassifier; an estimator then predicts one row.
inline void model(Bytes bytes) {
  const bool parameters = bytes.size() >= 16 && bytes[12] == 2 && bytes[13] == 0 &&
                          bytes[14] == 0 && bytes[15] == 0;
  if (parameters) {
    // One graph and executor for every input: parse_parameters checks the
    // whole file before it sets any value, so an input cannot leave the
    // executor half loaded for the next.
    static dagrad::Graph g;
    static const dagrad::Node w = g.parameter("w", {2, 3});
    static const dagrad::Node b = g.parameter("b", {1, 3});
    static dagrad::Executor<double> ex(g, {.threads = 1});
    dagrad::parse_parameters(ex, {w, b}, bytes, "fuzz input");
    return;
  }
  const bool regressor = bytes.size() >= 16 && bytes[12] == 4 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
  if (regressor) {
    const dagrad::MLPRegressor mlp = dagrad::parse_mlp_regressor(bytes, "fuzz input");
    const dagrad::Matrix<double> x = dagrad::Matrix<double>::Zero(1, mlp.coefs().front().rows());
    mlp.predict(dagrad::Features(x));
    return;
  }
  // Kinds 1 and 5: a classifier of one label a row, or a multi-label one.
  dagrad::MLPClassifier mlp = dagrad::parse_mlp(bytes, "fuzz input");
  const auto rows = mlp.coefs().front().rows();
  dagrad::Matrix<double> x = dagrad::Matrix<double>::Zero(1, rows);
  if (mlp.multilabel()) {
    mlp.predict_indicator(dagrad::Features(x));
  } else {
    mlp.predict(dagrad::Features(x));
  }
}

// A whole-graph file: rebuilt, its parameters set in an executor, and
// drawn as DOT (every node's label).
inline void graph(Bytes bytes) {
  const dagrad::LoadedGraph loaded = dagrad::parse_graph(bytes, "fuzz input");
  dagrad::Executor<double> ex(*loaded.graph, {.threads = 1});
  loaded.set_parameters(ex);
  (void)dagrad::to_dot(*loaded.graph);
}

// Rewrites the checksums of a model file where its fields say they are, so
// that mutated inputs get past them to the checks behind.
inline void fix_checksums(std::vector<std::uint8_t>& b) {
  auto get = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
    return v;
  };
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  if (b.size() < 24) return;
  const std::uint64_t header = get(16, 8);
  if (header > b.size() - 24 || b.size() - 24 - header < 4) return;
  std::size_t at = 24 + static_cast<std::size_t>(header);
  put32(at, dagrad::model_file_detail::crc32c(std::span(b).first(at)));
  at += 4;
  while (b.size() - at >= 24) {
    const std::size_t start = at;
    const std::uint64_t name = get(at, 4);
    if (name > b.size() - at - 4 || b.size() - at - 4 - name < 16) return;
    at += 4 + static_cast<std::size_t>(name);
    const std::uint64_t rows = get(at, 8), cols = get(at + 8, 8);
    at += 16;
    const std::uint64_t room = (b.size() - at) / 8;
    if (cols != 0 && rows > room / cols) return;
    if (b.size() - at - rows * cols * 8 < 4) return;
    at += static_cast<std::size_t>(rows * cols * 8);
    put32(at, dagrad::model_file_detail::crc32c(std::span(b).subspan(start, at - start)));
    at += 4;
  }
}

// One argument per line; parsed, then every hyperparameter set and validated.
inline void cli(Bytes bytes) {
  std::vector<std::string> args;
  std::string cur;
  for (std::uint8_t c : bytes) {
    if (c == '\n') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(c);
    }
  }
  if (!cur.empty()) args.push_back(cur);
  static const dagrad::ArgParser parser = mnist_mlp_parser();  // the program's own
  const dagrad::ParsedArgs parsed = parser.parse(args);
  if (parsed.help) (void)parser.help();
  dagrad::MLPParams params;
  const auto& names = dagrad::MLPParams::names();
  for (const auto& [flag, value] : parsed.values) {
    std::string name = flag;
    std::replace(name.begin(), name.end(), '-', '_');
    if (std::find(names.begin(), names.end(), name) != names.end()) params.set(name, value);
  }
  params.validate();
  for (const auto& name : names) (void)params.get(name);
}

// What a target does with its input: entry on the bytes, a dagrad::Error
// being the bytes refused, which is no finding.
inline void feed(void (*entry)(Bytes), Bytes bytes) {
  try {
    entry(bytes);
  } catch (const dagrad::Error&) {
  }
}

// The same, then again with the checksums rewritten (fix_checksums) so that
// mutations reach the checks behind them.
inline void feed_as_is_and_fixed(void (*entry)(Bytes), Bytes bytes) {
  feed(entry, bytes);
  std::vector<std::uint8_t> fixed(bytes.begin(), bytes.end());
  fix_checksums(fixed);
  // An input whose checksums were right already has just run as it is.
  if (std::equal(fixed.begin(), fixed.end(), bytes.begin())) return;
  feed(entry, fixed);
}

}  // namespace dagrad_fuzz
