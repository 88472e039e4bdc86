// Writes ONNX models with inputs and dagrad's outputs for tests/onnx/onnx_export.py,
// which checks each model with onnx.checker and runs it in onnxruntime:
//   onnx_cases every-op DIR                      a network using every mapped op
//   onnx_cases graph FILE.dagradg OUTPUT ROWS DIR   a saved graph (lenet --save-graph) on MNIST test rows
//   onnx_cases mlp FILE.dagradm ROWS DIR            an MLPClassifier (mnist_mlp --save) on MNIST test rows
//   onnx_cases table                                the operator table as docs/onnx.md shows it
// (MNIST from $DAGRAD_DATA or the default cache). DIR gets manifest.json
// and the inputs and expected outputs as raw little-endian float32; the
// graph and mlp cases compare with a model.onnx the example program wrote.
#include <dagrad/dagrad.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

using namespace dagrad;
namespace fs = std::filesystem;

namespace {

struct Tensor {
  std::string name;
  Matrix<float> value;
};

void write_raw(const fs::path& file, const Matrix<float>& m) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(float)));
  if (!out) throw Error(file.string() + ": cannot write");
}

std::string json_list(const fs::path& dir, const std::vector<Tensor>& tensors, const char* kind) {
  std::ostringstream s;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::string file = std::string(kind) + std::to_string(i) + ".f32";
    write_raw(dir / file, tensors[i].value);
    s << (i ? ",\n    " : "    ") << "{\"name\": \"" << tensors[i].name << "\", \"shape\": [" << tensors[i].value.rows()
      << ", " << tensors[i].value.cols() << "], \"file\": \"" << file << "\"}";
  }
  return s.str();
}

void write_case(const fs::path& dir, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) {
  fs::create_directories(dir);
  std::ofstream m(dir / "manifest.json");
  m << "{\n  \"model\": \"model.onnx\",\n  \"inputs\": [\n" << json_list(dir, inputs, "input") << "\n  ],\n"
    << "  \"outputs\": [\n" << json_list(dir, outputs, "output") << "\n  ]\n}\n";
}

Matrix<double> wave(Dim rows, Dim cols, double salt, double low, double high) {
  Matrix<double> m(rows, cols);
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    m.data()[k] = low + (high - low) * (0.5 + 0.5 * std::sin(salt + 1.3 * double(k)));
  }
  return m;
}

// Every op onnx_operator_table() maps, on a batch of 5 rows of 4x4 images.
int every_op(const fs::path& dir) {
  Graph g;
  const Node x = g.input("x", {batch, 16});
  const Node t = g.input("targets", {batch, 3});
  const Node step = g.input("training_step", {1, 1});
  const Node w1 = g.parameter("conv/w", {2, 9});
  const Node b1 = g.parameter("conv/b", {1, 2});
  const Node w2 = g.parameter("dense/w", {12, 3});
  const Node w3 = g.parameter("dense/w_t", {3, 12});
  const Node r = g.parameter("row", {1, 3});
  const Node ids = g.input("ids", {batch, 1});
  const Node embeddings = g.parameter("embeddings", {4, 3});
  const Node norm_gain = g.parameter("norm/gain", {1, 3});
  const Node norm_bias = g.parameter("norm/bias", {1, 3});
  const Node classes = g.input("classes", {batch, 1});
  // Sequences of 3 steps as rows, 2 heads of 2 columns: [Q | K | V] is 12 wide.
  const Node qkv = g.input("qkv", {batch, 12});

  Node h = conv2d(x, w1, {.in = {1, 4, 4}, .out_channels = 2, .kernel = 3, .padding = 1});
  h = relu(add_channel_bias(h, b1));                                   // 32 columns
  const Node pooled = concat({max_pool2d(h, {.in = {2, 4, 4}, .size = 2}),  // 8 + 8
                              avg_pool2d(h, {.in = {2, 4, 4}, .size = 2})});
  const Node s = dropout(slice(pooled, 2, 12), step, {.rate = 0.5, .seed = 7});
  const Node a = matmul(s, w2);                                        // 3 columns
  const Node b = matmul(s, w3, {.transpose_b = true});
  const Node c = transpose(matmul(w3, s, {.transpose_b = true}));      // 3 x rows, back to rows x 3
  const Node positive = shift(square(b), 0.5);
  Node z = add_n({sigmoid(a), tanh(b), scale(c, 0.1), log(positive), div(a, positive)});
  z = sub(mul(z, exp(scale(abs(a), -0.5))), leaky_relu(identity(a), 0.2));
  z = add(z, mul(sign(b), broadcast(r, z)));
  z = add(z, zeros_like(z));
  z = add_n({z, sqrt(positive), rsqrt(positive), pow(positive, 1.5), gelu(a), gelu(b, GeluApproximation::tanh)});
  z = add(z, embedding(ids, embeddings));
  z = add(z, layer_norm(z, norm_gain, norm_bias));
  const Node logits = add(z, r);
  const Node probabilities = softmax(logits);
  g.rename(probabilities, "probabilities");
  const std::vector<std::pair<std::string, Node>> named = {
      {"probabilities", probabilities},
      {"log_probabilities", log_softmax(logits)},
      {"row_sums", sum_rows(logits)},
      {"col_sums", sum_cols(logits)},
      {"total", add(sum(logits), mean(logits))},
      {"squares", sum_squares(logits)},
      {"channel_sums", sum_channels(h, 2)},
      {"mse", mse_loss(probabilities, t)},
      {"bce", binary_cross_entropy(logits, t)},
      {"cross_entropy", softmax_cross_entropy(logits, t)},
      {"class_cross_entropy", cross_entropy(logits, classes, {.ignore_index = -1})},
      {"attention_causal", attention(qkv, {.heads = 2, .context = 3})},
      {"attention_full", attention(qkv, {.heads = 2, .context = 3, .causal = false})},
  };
  // The case is every op only while it uses every op the table maps.
  std::set<std::string, std::less<>> used;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (const auto& op = g.info(id).op) used.emplace(op->key());
  }
  for (const auto& [key, onnx_ops] : onnx_operator_table()) {
    if (!used.contains(key)) throw Error("onnx_cases every-op: the network does not use '" + key + "'");
  }

  std::vector<Node> outputs;
  for (const auto& [name, node] : named) {
    if (node.name() != name) g.rename(node, name);
    outputs.push_back(node);
  }

  Executor<float> ex(g, {.threads = 1});
  for (Node p : {w1, b1, w2, w3, r, embeddings, norm_gain, norm_bias}) {
    ex.set(p, wave(p.shape().rows, p.shape().cols, double(p.id()), -1.0, 1.0).cast<float>());
  }
  fs::create_directories(dir);
  export_onnx(ex, outputs, (dir / "model.onnx").string(), {.graph_name = "every_op"});

  Matrix<double> targets = wave(5, 3, 2.0, 0.05, 1.0);
  targets.array().colwise() /= targets.array().rowwise().sum();
  const std::vector<Tensor> inputs{{"x", wave(5, 16, 1.0, -1.0, 1.0).cast<float>()},
                                   {"targets", targets.cast<float>()},
                                   {"ids", Matrix<float>{{3}, {0}, {2}, {0}, {1}}},
                                   {"classes", Matrix<float>{{2}, {-1}, {0}, {1}, {2}}},  // row 1 ignored
                                   {"qkv", wave(6, 12, 3.0, -2.0, 2.0).cast<float>()}};
  const Matrix<float> inference = Matrix<float>::Constant(1, 1, -1.0f);  // dropout off
  const std::vector<Matrix<float>> values =
      ex.run({{x, inputs[0].value}, {t, inputs[1].value}, {ids, inputs[2].value}, {classes, inputs[3].value},
              {qkv, inputs[4].value},
              {step, inference}},
             outputs);
  std::vector<Tensor> expected;
  for (std::size_t i = 0; i < outputs.size(); ++i) expected.push_back({named[i].first, values[i]});
  write_case(dir, inputs, expected);
  return 0;
}

Matrix<float> test_rows(std::size_t rows) {
  const Mnist mnist = load_mnist(default_mnist_dir());
  Matrix<float> x;
  Features(mnist.test.images).slice(0, rows, x);
  return x;
}

int saved_graph(const std::string& file, const std::string& output, std::size_t rows, const fs::path& dir) {
  const LoadedGraph loaded = load_graph(file);
  Executor<float> ex(*loaded.graph);
  loaded.set_parameters(ex);
  const auto out = loaded.graph->find(output);
  const auto x = loaded.graph->find("x");
  if (!out || !x) throw Error(file + ": no node '" + output + "' or 'x'");
  const Matrix<float> images = test_rows(rows);
  write_case(dir, {{"x", images}}, {{output, ex.run({{*x, images}}, {*out})[0]}});
  return 0;
}

int mlp(const std::string& file, std::size_t rows, const fs::path& dir) {
  const MLPClassifier model = load_mlp(file);
  const Matrix<float> images = test_rows(rows);
  write_case(dir, {{"x", images}}, {{model.output().name(), model.predict_proba(Features(images)).cast<float>()}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() == 2 && a[0] == "every-op") return every_op(a[1]);
    if (a.size() == 5 && a[0] == "graph") return saved_graph(a[1], a[2], std::stoul(a[3]), a[4]);
    if (a.size() == 4 && a[0] == "mlp") return mlp(a[1], std::stoul(a[2]), a[3]);
    if (a.size() == 1 && a[0] == "table") {
      std::cout << "| dagrad op | ONNX operators |\n|---|---|\n";
      for (const auto& [key, onnx_ops] : onnx_operator_table()) std::cout << "| `" << key << "` | " << onnx_ops << " |\n";
      return 0;
    }
    std::cerr << "usage: onnx_cases every-op DIR | graph FILE OUTPUT ROWS DIR | mlp FILE ROWS DIR | table\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "onnx_cases: " << e.what() << "\n";
    return 1;
  }
}
