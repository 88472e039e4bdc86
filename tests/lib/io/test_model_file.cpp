#include <doctest/doctest.h>

#include <dagrad/core/detail/sanitizers.hpp>
#include <dagrad/dagrad.hpp>

#include <dagrad/io/detail/model_file.hpp>  // crc32c, to build files by hand

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "blobs.hpp"
#include "contains.hpp"
#include "sanitizer.hpp"
#include "temp_dir.hpp"
#include "thrown.hpp"

using namespace dagrad;
using dagrad::model_file_detail::crc32c;
namespace fs = std::filesystem;
using dagrad::testing::Blobs;
using dagrad::testing::blobs;
using dagrad::testing::quiet;
using dagrad::testing::TempDir;
using Bytes = std::vector<std::uint8_t>;

namespace {

// The names in a folder, to check that a save left nothing but its file.
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::uint64_t get_le(const Bytes& b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}

void put_le(Bytes& b, std::size_t at, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A model file written from its documented layout (docs/model_format.md),
// independently of the library's writer.
struct Spec {
  std::uint32_t version = 1, kind = 1;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<int> classes;
  std::uint64_t n_features = 0;
  std::int32_t n_iter = 0;
  std::vector<std::pair<std::string, Matrix<double>>> tensors;
};

void append_le(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void append_text(Bytes& b, const std::string& s) {
  append_le(b, s.size(), 4);
  b.insert(b.end(), s.begin(), s.end());
}

Bytes encode(const Spec& s) {
  Bytes b{'D', 'A', 'G', 'R', 'A', 'D', 'M', 0};
  append_le(b, s.version, 4);
  append_le(b, s.kind, 4);
  append_le(b, 0, 8);
  append_le(b, s.params.size(), 4);
  for (const auto& [k, v] : s.params) {
    append_text(b, k);
    append_text(b, v);
  }
  append_le(b, s.classes.size(), 4);
  for (int c : s.classes) append_le(b, static_cast<std::uint32_t>(c), 4);
  append_le(b, s.n_features, 8);
  append_le(b, static_cast<std::uint32_t>(s.n_iter), 4);
  append_le(b, s.tensors.size(), 4);
  put_le(b, 16, b.size() - 24, 8);
  append_le(b, crc32c(b), 4);
  for (const auto& [name, m] : s.tensors) {
    const std::size_t start = b.size();
    append_text(b, name);
    append_le(b, static_cast<std::uint64_t>(m.rows()), 8);
    append_le(b, static_cast<std::uint64_t>(m.cols()), 8);
    for (Eigen::Index k = 0; k < m.size(); ++k) {
      std::uint64_t v;
      std::memcpy(&v, m.data() + k, 8);
      append_le(b, v, 8);
    }
    append_le(b, crc32c(std::span(b).subspan(start)), 4);
  }
  return b;
}

// A 2-feature, 3-class network with one hidden layer of 5 (dtype float64).
Spec small_spec() {
  Spec s;
  MLPParams p{.hidden_layer_sizes = {5}};
  p.dtype = "float64";
  for (const auto& name : MLPParams::names()) s.params.emplace_back(name, p.get(name));
  s.classes = {3, 5, 7};
  s.n_features = 2;
  s.n_iter = 4;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  auto random = [&](int r, int c) {
    Matrix<double> m(r, c);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = normal(rng);
    return m;
  };
  s.tensors = {{"layer1/weights", random(2, 5)}, {"layer1/bias", random(1, 5)},
               {"output/weights", random(5, 3)}, {"output/bias", random(1, 3)}};
  return s;
}

void set_param(Spec& s, const std::string& name, const std::string& value) {
  for (auto& [k, v] : s.params) {
    if (k == name) v = value;
  }
}

// The message load_mlp throws for path, which must be a DataError naming the file.
std::string load_error(const std::string& path) {
  try {
    load_mlp(path);
  } catch (const DataError& e) {
    CHECK(contains(e.what(), path));
    return e.what();
  }
  FAIL("load_mlp accepted " << path);
  return "";
}

// Where the first tensor starts: after the prefix, the header and its checksum.
std::size_t first_tensor(const Bytes& b) { return 24 + get_le(b, 16, 8) + 4; }

// Rewrites the header checksum after an edit inside the header.
void fix_header_crc(Bytes& b) {
  const std::size_t end = 24 + get_le(b, 16, 8);
  put_le(b, end, crc32c(std::span(b).first(end)), 4);
}

std::size_t find_text(const Bytes& b, const std::string& text) {
  auto it = std::search(b.begin(), b.end(), text.begin(), text.end());
  REQUIRE(it != b.end());
  return static_cast<std::size_t>(it - b.begin());
}

}  // namespace

TEST_CASE("crc32c gives the standard check value") {
  const std::string check = "123456789";
  const Bytes bytes(check.begin(), check.end());
  CHECK(crc32c(bytes) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
  // Continuing from a previous result is the same as one pass.
  CHECK(crc32c(std::span(bytes).subspan(4), crc32c(std::span(bytes).first(4))) == 0xE3069283u);
}

TEST_CASE("a saved MLPClassifier loads with identical predictions, weights and hyperparameters") {
  const TempDir dir("model_file");
  Blobs train = blobs(150, 1), test = blobs(60, 2);
  for (std::string dtype : {"float32", "float64"}) {
    CAPTURE(dtype);
    MLPParams p{.hidden_layer_sizes = {6, 4}, .max_iter = 20, .random_state = 3};
    p.dtype = dtype;
    MLPClassifier mlp = quiet(p);
    mlp.fit(Features(train.X), train.y);
    const std::string path = dir.file("blobs_" + dtype + ".dagradm");
    save(mlp, path);
    MLPClassifier back = load_mlp(path);
    CHECK(back.classes() == mlp.classes());
    CHECK(back.n_iter() == mlp.n_iter());
    for (const auto& name : MLPParams::names()) CHECK(back.params().get(name) == mlp.params().get(name));
    REQUIRE(back.coefs().size() == mlp.coefs().size());
    for (std::size_t i = 0; i < mlp.coefs().size(); ++i) {
      CHECK(back.coefs()[i] == mlp.coefs()[i]);
      CHECK(back.intercepts()[i] == mlp.intercepts()[i]);
    }
    CHECK(back.predict(Features(test.X)) == mlp.predict(Features(test.X)));
    CHECK(back.predict_proba(Features(test.X)) == mlp.predict_proba(Features(test.X)));
    // Nothing but the models saved so far is left in the folder.
    std::set<std::string> saved{"blobs_float32.dagradm"};
    if (dtype == "float64") saved.insert("blobs_float64.dagradm");
    CHECK(entries(dir.path) == saved);
  }
}

TEST_CASE("a loaded model continues training with warm_start") {
  const TempDir dir("model_file");
  Blobs train = blobs(150, 1);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {6}, .max_iter = 3, .random_state = 3});
  mlp.fit(Features(train.X), train.y);
  save(mlp, dir.file("m.dagradm"));
  MLPClassifier more = load_mlp(dir.file("m.dagradm"));
  std::ostringstream sink;
  more.set_output(&sink, &sink);
  more.params().warm_start = true;
  more.params().max_iter = 5;
  more.fit(Features(train.X), train.y);
  CHECK(more.n_iter() == 3 + 5);
  CHECK(more.coefs()[0] != mlp.coefs()[0]);
  CHECK(more.loss_curve().size() == 5);
}

TEST_CASE("a file written from the documented layout loads, and one without newer parameters gets their defaults") {
  const TempDir dir("model_file");
  Spec s = small_spec();
  s.params.erase(std::remove_if(s.params.begin(), s.params.end(),
                                [](auto& kv) { return kv.first == "check_numerics" || kv.first == "alpha"; }),
                 s.params.end());
  write_bytes(dir.file("m"), encode(s));
  MLPClassifier m = load_mlp(dir.file("m"));
  CHECK(m.params().alpha == MLPParams{}.alpha);
  CHECK(m.params().hidden_layer_sizes == std::vector<int>{5});
  CHECK(m.n_iter() == 4);
  CHECK(m.coefs()[1] == s.tensors[2].second);
  CHECK(m.intercepts()[0] == s.tensors[1].second);
}

TEST_CASE("a malformed model file is rejected with a message naming the file and the problem") {
  const TempDir dir("model_file");
  const std::string path = dir.file("bad.dagradm");
  const Bytes good = encode(small_spec());
  write_bytes(path, good);
  REQUIRE_NOTHROW(load_mlp(path));

  SUBCASE("wrong magic") {
    Bytes b = good;
    b[0] = 'X';
    write_bytes(path, b);
    CHECK(contains(load_error(path), "not a dagrad model file: wrong magic bytes"));
  }
  SUBCASE("a newer version") {
    Bytes b = good;
    put_le(b, 8, model_format_version + 1, 4);
    write_bytes(path, b);
    CHECK(contains(load_error(path), "format version " + std::to_string(model_format_version + 1) +
                                         " is newer than this dagrad reads (" +
                                         std::to_string(model_format_version) + ")"));
    CHECK(good[8] == 1);  // an MLPClassifier is written as version 1, which older readers read
  }
  SUBCASE("truncation at any point says how many bytes were expected and found") {
    for (std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{10}, std::size_t{20},
                             std::size_t{40}, first_tensor(good) - 1, first_tensor(good) + 10,
                             first_tensor(good) + 60, good.size() - 5, good.size() - 1}) {
      CAPTURE(size);
      write_bytes(path, Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
      const std::string msg = load_error(path);
      check_contains(msg, {"truncated", "found "});
      CHECK((contains(msg, "need") || contains(msg, "declares")));
    }
    write_bytes(path, Bytes(good.begin(), good.end() - 1));
    check_contains(load_error(path), {"truncated: tensor 'output/bias''s checksum needs 4 bytes", "found 3"});
  }
  SUBCASE("a flipped byte in a tensor is a checksum mismatch naming the tensor") {
    Bytes b = good;
    b[first_tensor(good) + 4 + 14 + 16 + 3] ^= 0x10;  // in layer1/weights' data
    write_bytes(path, b);
    CHECK(contains(load_error(path), "checksum mismatch in tensor 'layer1/weights'"));
    b = good;
    b[good.size() - 4 - 2] ^= 0x01;  // output/bias' last value
    write_bytes(path, b);
    CHECK(contains(load_error(path), "checksum mismatch in tensor 'output/bias'"));
  }
  SUBCASE("a flipped byte in the header is a header checksum mismatch") {
    Bytes b = good;
    b[find_text(good, "relu")] = 'R';
    write_bytes(path, b);
    CHECK(contains(load_error(path), "header checksum mismatch"));
  }
  SUBCASE("absurd sizes are rejected before anything is allocated") {
    Bytes b = good;
    put_le(b, 16, std::uint64_t{1} << 62, 8);  // header size
    write_bytes(path, b);
    CHECK(contains(load_error(path), "truncated: the header declares 4611686018427387904 bytes"));

    b = good;
    put_le(b, 24, 0xFFFFFFFF, 4);  // hyperparameter count
    fix_header_crc(b);
    write_bytes(path, b);
    CHECK(contains(load_error(path), "the header declares 4294967295 hyperparameters"));

    b = good;
    put_le(b, first_tensor(good) + 4 + 14, std::uint64_t{1} << 61, 8);  // layer1/weights' rows
    write_bytes(path, b);
    CHECK(contains(load_error(path), "tensor 'layer1/weights' declares 2305843009213693952x5 float64 values"));

    b = good;
    put_le(b, first_tensor(good) + 4 + 14 + 8, ~std::uint64_t{0}, 8);  // cols: rows*cols overflows
    write_bytes(path, b);
    CHECK(contains(load_error(path), "truncated or corrupt: tensor 'layer1/weights'"));

    b = good;
    put_le(b, first_tensor(good), 0xFFFFFFF0, 4);  // a tensor name's length
    write_bytes(path, b);
    CHECK(contains(load_error(path), "tensor 1's name is 4294967280 bytes long"));

    b = good;
    put_le(b, first_tensor(good) - 8, 0x7FFFFFFF, 4);  // tensor count
    fix_header_crc(b);
    write_bytes(path, b);
    CHECK(contains(load_error(path), "the header declares 2147483647 tensors"));
  }
  SUBCASE("a shape that disagrees with the hyperparameters names the tensor and both shapes") {
    Spec s = small_spec();
    set_param(s, "hidden_layer_sizes", "6");
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path),
                   "tensor 'layer1/weights' has shape 2x5 but the features, hidden_layer_sizes and classes "
                   "call for 2x6"));
    s = small_spec();
    s.classes = {1, 2, 3, 4};
    write_bytes(path, encode(s));
    check_contains(load_error(path), {"tensor 'output/weights' has shape 5x3 but", "call for 5x4"});
    s = small_spec();
    s.tensors.pop_back();
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "holds 3 tensors; hidden_layer_sizes 5 calls for 4"));
    s = small_spec();
    s.tensors[1].first = "layer1/biases";
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "tensor 2 is named 'layer1/biases', expected 'layer1/bias'"));
  }
  SUBCASE("unknown hyperparameters and bad values go through MLPParams::set and validate") {
    Spec s = small_spec();
    s.params.emplace_back("dropout", "0.5");
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "MLPClassifier and MLPRegressor have no parameter 'dropout'"));
    s = small_spec();
    set_param(s, "activation", "softsign");
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "'activation' cannot be 'softsign'"));
    s = small_spec();
    set_param(s, "max_iter", "lots");
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "'max_iter' cannot be 'lots'"));
    s = small_spec();
    s.params.push_back(s.params.front());
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "appears twice"));
  }
  SUBCASE("classes, features, kind, trailing bytes") {
    Spec s = small_spec();
    s.classes = {7, 5, 3};
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "not sorted and distinct"));
    s = small_spec();
    s.n_features = 0;
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "declares 0 features"));
    s = small_spec();
    s.kind = 2;
    write_bytes(path, encode(s));
    CHECK(contains(load_error(path), "holds executor parameters (kind 2), not an MLPClassifier"));
    Bytes b = good;
    b.push_back(0);
    write_bytes(path, b);
    CHECK(contains(load_error(path), "1 trailing bytes after the last tensor"));
  }
  SUBCASE("a file that cannot be opened") {
    CHECK(contains(load_error(dir.file("missing.dagradm")), "cannot open"));
    CHECK(contains(load_error(dir.path.string()), "not a regular file"));
  }
}

TEST_CASE("saving fails cleanly, naming the path and leaving no temporary file") {
  const TempDir dir("model_file");
  CHECK_THROWS_WITH_AS(save(MLPClassifier{}, dir.file("m")), doctest::Contains("not fitted"), Error);
  Blobs train = blobs(60, 1);
  MLPClassifier mlp = quiet({.hidden_layer_sizes = {3}, .max_iter = 2, .random_state = 1});
  mlp.fit(Features(train.X), train.y);
  const std::string nowhere = dir.file("no/such/folder/m.dagradm");
  CHECK_THROWS_WITH_AS(save(mlp, nowhere), doctest::Contains(nowhere.c_str()), Error);
  // A folder in the way of the rename: the temporary file is removed and
  // what was at the path is untouched.
  fs::create_directories(dir.file("taken/inside"));
  const std::string taken = dir.file("taken");
  const std::string rename_error = taken + ": cannot rename";
  CHECK_THROWS_WITH_AS(save(mlp, taken), doctest::Contains(rename_error.c_str()), Error);
  CHECK(entries(dir.path) == std::set<std::string>{"taken"});
  CHECK(entries(taken) == std::set<std::string>{"inside"});
}

namespace {

// A graph of two parameters, "w" 2x3 and "b" 1x3, and values for them.
struct TwoParameters {
  Graph g;
  Node w = g.parameter("w", {2, 3});
  Node b = g.parameter("b", {1, 3});
  Matrix<double> wv{{1, 2, 3}, {4, 5, 6.5}};
  Matrix<double> bv{{-1, 0.25, 1e-3}};

  // Saves w and b at their values, from an executor of T.
  template <class T>
  void save(const std::string& path) {
    Executor<T> ex(g, {.threads = 1});
    ex.set(w, wv.cast<T>());
    ex.set(b, bv.cast<T>());
    save_parameters(ex, {w, b}, path);
  }
};

}  // namespace

TEST_CASE("an executor's parameters save and load by node name") {
  const TempDir dir("model_file");
  for (int pass = 0; pass < 2; ++pass) {
    TwoParameters p;
    const std::string path = dir.file("p" + std::to_string(pass));
    if (pass == 0) {
      p.save<double>(path);
      Executor<double> again(p.g, {.threads = 1});
      load_parameters(again, {p.w, p.b}, path);
      CHECK(again.value(p.w) == p.wv);
      CHECK(again.value(p.b) == p.bv);
    } else {
      p.save<float>(path);
      Executor<float> again(p.g, {.threads = 1});
      load_parameters(again, {p.w, p.b}, path);
      CHECK(again.value(p.w) == p.wv.cast<float>());
      // Fewer nodes than the file holds, another shape, a missing name.
      CHECK_THROWS_WITH_AS(load_parameters(again, {p.w}, path),
                           doctest::Contains("tensor 'b' is not among the nodes to load"), DataError);
      Graph h;
      Node w2 = h.parameter("w", {3, 2});
      Node b2 = h.parameter("b", {1, 3});
      Node c = h.parameter("c", {1, 3});
      Executor<float> other(h, {.threads = 1});
      CHECK_THROWS_WITH_AS(load_parameters(other, {w2, b2}, path),
                           doctest::Contains("tensor 'w' has shape 2x3 but the node is 3x2"), DataError);
      CHECK_THROWS_WITH_AS(load_parameters(other, {c}, path), doctest::Contains("holds no tensor 'c'"),
                           DataError);
      CHECK_THROWS_WITH_AS(load_mlp(path), doctest::Contains("not an MLPClassifier"), DataError);
    }
  }
}

TEST_CASE("parse_parameters loads the bytes of a parameters file as load_parameters loads the file") {
  const TempDir dir("model_file");
  TwoParameters p;
  const std::string path = dir.file("params");
  p.save<double>(path);
  const Bytes bytes = read_bytes(path);

  Executor<double> again(p.g, {.threads = 1});
  parse_parameters(again, {p.w, p.b}, bytes, "in memory");
  CHECK(again.value(p.w) == p.wv);
  CHECK(again.value(p.b) == p.bv);

  // The same checks and messages, `name` standing for the path.
  Bytes cut(bytes.begin(), bytes.end() - 1);
  CHECK_THROWS_WITH_AS(parse_parameters(again, {p.w, p.b}, cut, "in memory"),
                       "in memory: truncated: tensor 'b''s checksum needs 4 bytes at offset 170, "
                       "found 3 (the file has 173 bytes)",
                       DataError);
  write_bytes(path, cut);
  const std::string cut_message =
      path + ": truncated: tensor 'b''s checksum needs 4 bytes at offset 170, found 3 (the file has 173 bytes)";
  CHECK_THROWS_WITH_AS(load_parameters(again, {p.w, p.b}, path), cut_message.c_str(), DataError);
  CHECK_THROWS_WITH_AS(parse_parameters(again, {p.w}, bytes, "in memory"),
                       "in memory: tensor 'b' is not among the nodes to load", DataError);
  // A refused file sets nothing.
  CHECK(again.value(p.w) == p.wv);
}

TEST_CASE("named tensors save and load in their order, with infinities, and a repeated name is refused") {
  const TempDir dir("model_file");
  const std::string path = dir.file("tensors");
  Matrix<double> a(2, 2), b(1, 1);
  a << 1, -2.5, 3e-300, 4;
  b << INFINITY;
  save_tensors({{"layer/w", a}, {"state:adam/steps", b}}, path);
  const auto loaded = load_tensors(path);
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0].first == "layer/w");
  CHECK(loaded[0].second == a);
  CHECK(loaded[1].first == "state:adam/steps");
  CHECK(loaded[1].second == b);
  CHECK(parse_tensors(read_bytes(path), "in memory")[0].second == a);
  // What save_tensors writes, load_parameters reads: one format.
  Graph g;
  Node w = g.parameter("layer/w", {2, 2});
  save_tensors({{"layer/w", a}}, path);
  Executor<double> ex(g, {.threads = 1});
  load_parameters(ex, {w}, path);
  CHECK(ex.value(w) == a);
  CHECK_THROWS_WITH_AS(save_tensors({{"x", a}, {"x", b}}, dir.file("twice")),
                       doctest::Contains("'x' is listed twice"), Error);
  CHECK_FALSE(fs::exists(dir.file("twice")));
}

TEST_CASE("training with check_numerics names the node and the batch where values first stop being finite") {
  Blobs train = blobs(120, 1);
  MLPParams p{.hidden_layer_sizes = {8}, .solver = "sgd", .batch_size = 10, .learning_rate_init = 1e6,
              .max_iter = 50, .random_state = 0};
  p.check_numerics = true;
  MLPClassifier mlp = quiet(p);
  const std::string what = thrown<ExecutionError>([&] { mlp.fit(Features(train.X), train.y); });
  check_contains(what, {"MLPClassifier.fit: epoch ", "numeric check"});
  // Without the check the same run ends with the solver's own error.
  p.check_numerics = false;
  MLPClassifier unchecked = quiet(p);
  CHECK_THROWS_WITH_AS(unchecked.fit(Features(train.X), train.y), doctest::Contains("not finite"), Error);
}

TEST_CASE("training refuses inputs that are not finite") {
  Blobs train = blobs(30, 1);
  for (double bad : {NAN, INFINITY, -INFINITY}) {
    Matrix<double> X = train.X;
    X(7, 1) = bad;
    MLPClassifier mlp = quiet({.hidden_layer_sizes = {3}, .max_iter = 2});
    CHECK_THROWS_WITH_AS(mlp.fit(Features(X), train.y),
                         doctest::Contains("not finite at row 7, column 1"), Error);
    Matrix<float> Xf = X.cast<float>();
    CHECK_THROWS_WITH_AS(mlp.fit(Features(Xf), train.y), doctest::Contains("row 7"), Error);
  }
}

TEST_CASE("a save killed at any moment leaves the old model or the new one, whole") {
  const TempDir dir("model_file");
  const std::string path = dir.file("model.dagradm");
  // Two 784-100-10 networks (0.64 MB files) with different weights. The
  // kill points spread over two saves, whatever a save's length.
  static constexpr Eigen::Index hidden = 100;
  auto network = [](unsigned seed) {
    MLPParams p{.hidden_layer_sizes = {int(hidden)}};
    p.dtype = "float64";
    p.threads = 1;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<Matrix<double>> coefs{Matrix<double>(784, hidden), Matrix<double>(hidden, 10)};
    std::vector<Matrix<double>> intercepts{Matrix<double>(1, hidden), Matrix<double>(1, 10)};
    for (auto* list : {&coefs, &intercepts}) {
      for (auto& m : *list) {
        for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = u(rng);
      }
    }
    MLPClassifier mlp(p);
    mlp.set_weights({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, coefs, intercepts, static_cast<int>(seed));
    return mlp;
  };
  const MLPClassifier a = network(1), b = network(2);
  const auto start = std::chrono::steady_clock::now();
  save(a, path);
  const auto save_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();

  int seen_a = 0, seen_b = 0;
  // 200 kills; 40 in a sanitized build, whose saves run several times slower
  // (the same kill points, spread over two saves, a fifth as many; the
  // regular build runs all 200).
  const int kills = sanitizer::any ? 40 : 200;
  for (int i = 0; i < kills; ++i) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      try {
        for (;;) {
          save(b, path);
          save(a, path);
        }
      } catch (...) {
      }
      _exit(1);
    }
    // Delays spread over about two saves, at points that vary from kill to kill.
    const long delay = (static_cast<long>(i) * 7919 % 1000) * (2 * save_us + 2000) / 1000;
    std::this_thread::sleep_for(std::chrono::microseconds(delay));
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));

    CAPTURE(i);
    MLPClassifier loaded = load_mlp(path);
    const auto coefs = loaded.coefs();
    if (loaded.n_iter() == 1) {
      ++seen_a;
      CHECK((coefs[0] == a.coefs()[0] && coefs[1] == a.coefs()[1]));
      CHECK(loaded.intercepts()[0] == a.intercepts()[0]);
    } else {
      REQUIRE(loaded.n_iter() == 2);
      ++seen_b;
      CHECK((coefs[0] == b.coefs()[0] && coefs[1] == b.coefs()[1]));
      CHECK(loaded.intercepts()[0] == b.intercepts()[0]);
    }
  }
  MESSAGE("save took " << save_us << " us; after " << kills << " kills the file held the first model "
                       << seen_a << " times and the second " << seen_b << " times");
  CHECK(seen_a > 0);
  CHECK(seen_b > 0);
  // Partial files a kill leaves have their own hidden names (".model.dagradm."
  // and mkstemp's six characters), never the model's.
  for (const std::string& name : entries(dir.path)) {
    if (name == "model.dagradm") continue;
    CHECK(name.starts_with(".model.dagradm."));
    CHECK(name.size() == std::string(".model.dagradm.").size() + 6);
  }
}
