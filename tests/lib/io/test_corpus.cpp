// Every checked-in fuzz seed (tests/fuzz/corpus/{idx,model,graph,checkpoint,cli}) through the
// fuzz targets' entry points: a malformed one must be rejected with a dagrad
// error, never a crash or another exception; one named valid_* must load.
#include <doctest/doctest.h>

#include "../../fuzz/records.hpp"  // entry_points.hpp and the records targets' entry points

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

namespace fs = std::filesystem;

namespace {

// The corpus folder: $DAGRAD_CORPUS_DIR, or found from this file's path,
// which meson gives relative to the build folder the test program is in.
fs::path corpus_dir() {
  if (const char* env = std::getenv("DAGRAD_CORPUS_DIR"); env && *env) return env;
  const fs::path source = fs::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "corpus";
  if (source.is_absolute()) return source;
  std::error_code ec;
  fs::path build = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; up < 4 && !build.empty(); ++up, build = build.parent_path()) {
    if (fs::is_directory(build / source)) return build / source;
  }
  return fs::current_path() / source;
}

// The bytes of every seed in a corpus folder, by path, in name order.
std::vector<std::pair<fs::path, std::vector<std::uint8_t>>> seeds(const std::string& kind) {
  const fs::path dir = corpus_dir() / kind;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<fs::path, std::vector<std::uint8_t>>> out;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    out.emplace_back(file, std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {}));
  }
  return out;
}

// "loaded", or the message of the dagrad error f throws.
std::string outcome(const std::function<void()>& f) {
  try {
    f();
  } catch (const dagrad::Error& e) {
    return e.what();
  }
  return "loaded";
}

void check_folder(const std::string& kind, const std::function<void(dagrad_fuzz::Bytes)>& entry) {
  const fs::path dir = corpus_dir() / kind;
  REQUIRE_MESSAGE(fs::is_directory(dir), dir.string());
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  CHECK(files.size() >= 5);
  int valid = 0;
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    CAPTURE(name);
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
    if (name.starts_with("valid_")) {
      ++valid;
      CHECK_NOTHROW(entry(bytes));
    } else {
      CHECK_THROWS_AS(entry(bytes), dagrad::Error);
    }
  }
  CHECK(valid >= 1);
}

}  // namespace

TEST_CASE("every IDX seed in the fuzz corpus is rejected with a dagrad error, or loads if valid") {
  check_folder("idx", dagrad_fuzz::idx);
}

TEST_CASE("every model-file seed in the fuzz corpus is rejected with a dagrad error, or loads if valid") {
  check_folder("model", dagrad_fuzz::model);
}

TEST_CASE("every graph-file seed in the fuzz corpus is rejected with a dagrad error, or loads if valid") {
  check_folder("graph", dagrad_fuzz::graph);
}

TEST_CASE("every graph-file seed is rejected, or loads and trains a step if valid, as fuzz_graph_records runs it") {
  check_folder("graph", dagrad_fuzz::graph_trained);
}

TEST_CASE("every checkpoint seed in the fuzz corpus is rejected with a dagrad error, or resumes if valid") {
  check_folder("checkpoint", dagrad_fuzz::checkpoint);
}

TEST_CASE("load_graph agrees with parse_graph on every graph seed") {
  for (const auto& seed : seeds("graph")) {
    const std::vector<std::uint8_t>& bytes = seed.second;
    const std::string path = seed.first.string();
    CAPTURE(path);
    CHECK(outcome([&] { dagrad::load_graph(path); }) == outcome([&] { dagrad::parse_graph(bytes, path); }));
  }
}

TEST_CASE("every command-line seed in the fuzz corpus is rejected with a dagrad error, or parses if valid") {
  check_folder("cli", dagrad_fuzz::cli);
}

// The fuzz targets call the in-memory readers; these must judge every seed as
// the file readers judge the seed's file, message for message.
TEST_CASE("the IDX file readers and the in-memory readers agree on every IDX seed") {
  // A named reference, not a structured binding: clang 14 cannot capture those.
  for (const auto& seed : seeds("idx")) {
    const std::vector<std::uint8_t>& bytes = seed.second;
    const std::string path = seed.first.string();
    CAPTURE(path);
    CHECK(outcome([&] { dagrad::read_idx(path); }) == outcome([&] { dagrad::parse_idx(bytes, path); }));
    CHECK(outcome([&] { dagrad::read_images(path); }) == outcome([&] { dagrad::parse_images(bytes, path); }));
    CHECK(outcome([&] { dagrad::read_labels(path); }) == outcome([&] { dagrad::parse_labels(bytes, path); }));
  }
}

TEST_CASE("load_mlp and load_parameters agree with parse_mlp and parse_parameters on every model seed") {
  dagrad::Graph g;
  const dagrad::Node w = g.parameter("w", {2, 3});
  const dagrad::Node b = g.parameter("b", {1, 3});
  dagrad::Executor<double> ex(g, {.threads = 1});
  // A named reference, not a structured binding: clang 14 cannot capture those.
  for (const auto& seed : seeds("model")) {
    const std::vector<std::uint8_t>& bytes = seed.second;
    const std::string path = seed.first.string();
    CAPTURE(path);
    CHECK(outcome([&] { dagrad::load_mlp(path); }) == outcome([&] { dagrad::parse_mlp(bytes, path); }));
    CHECK(outcome([&] { dagrad::load_parameters(ex, {w, b}, path); }) ==
          outcome([&] { dagrad::parse_parameters(ex, {w, b}, bytes, path); }));
  }
}
