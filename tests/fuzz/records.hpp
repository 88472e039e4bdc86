// Structure-aware mutation of model files for the *_records fuzz targets:
// an input is decoded to its records (model_file_detail::Contents), one
// record is changed (a node's kind, inputs, shape, attributes, op or
// gradient link; a cached gradient; a tensor's name, shape or values; a
// header field) and the whole is encoded again, checksums and all, so
// that mutations reach the checks on what the records mean.
//   DAGRAD_FUZZ_RECORDS_TARGET(dagrad_fuzz::checkpoint)  // a target's two functions
#pragma once

#include "entry_points.hpp"

#include <dagrad/nn.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace dagrad_fuzz {

namespace format = dagrad::model_file_detail;

class RecordMutator {
 public:
  explicit RecordMutator(unsigned seed) : rng_(seed) {}

  void mutate(format::Contents& c) {
    const bool graph = c.kind == format::kind_graph && !c.nodes.empty();
    switch (pick(graph ? 12 : 6)) {
      case 0: header(c); break;
      case 1: case 2: tensor(c); break;
      case 3: tensor_list(c); break;
      case 4: c.kind = static_cast<std::uint32_t>(pick(6)); break;
      case 5: hyperparameter(c); break;
      case 6: case 7: gradient_record(c); break;
      case 8: node_link(c, pick(c.nodes.size())); break;
      case 9: node_shape(c.nodes[pick(c.nodes.size())]); break;
      case 10: node_op(c, c.nodes[pick(c.nodes.size())]); break;
      default: node_inputs(c, pick(c.nodes.size())); break;
    }
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  // A count or size near the edges a reader must refuse or accept.
  std::int64_t edgy() {
    static constexpr std::int64_t values[] = {-2, -1, 0, 1, 2, 3, 6, 9, 18, 36, 400, 1 << 20,
                                              std::numeric_limits<std::int32_t>::max(),
                                              std::numeric_limits<std::int64_t>::max()};
    return pick(3) == 0 ? values[pick(std::size(values))] : static_cast<std::int64_t>(pick(40));
  }
  double edgy_real() {
    static constexpr double values[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 1e-310,
                                        std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
    return values[pick(std::size(values))];
  }
  // An id among the first n, or just past them.
  std::uint32_t id(std::size_t n) { return static_cast<std::uint32_t>(pick(n + 1)); }

  void header(format::Contents& c) {
    switch (pick(4)) {
      case 0: c.n_iter = static_cast<std::int32_t>(edgy()); break;
      case 1: c.n_features = static_cast<std::uint64_t>(edgy()); break;
      case 2: c.classes.push_back(static_cast<int>(edgy())); break;
      default: if (!c.classes.empty()) c.classes[pick(c.classes.size())] = static_cast<int>(edgy());
    }
  }
  void hyperparameter(format::Contents& c) {
    static const char* texts[] = {"0", "1", "-1", "nan", "inf", "100,50", "3", "", "auto", "1e308", "adam", "lbfgs"};
    const std::string value = texts[pick(std::size(texts))];
    if (c.params.empty() || pick(4) == 0) {
      const auto& names = dagrad::MLPParams::names();
      c.params.emplace_back(names[pick(names.size())], value);
    } else {
      c.params[pick(c.params.size())].second = value;
    }
  }
  void tensor(format::Contents& c) {
    if (c.tensors.empty()) return;
    format::Tensor& t = c.tensors[pick(c.tensors.size())];
    switch (pick(4)) {
      case 0: {  // another shape, its values kept where they fit
        const auto rows = static_cast<Eigen::Index>(pick(24)), cols = static_cast<Eigen::Index>(pick(24));
        t.value.conservativeResize(rows, cols);
        t.value.setConstant(0.25);
        break;
      }
      case 1: if (t.value.size() > 0) t.value.data()[pick(t.value.size())] = edgy_real(); break;
      case 2: t.name = c.tensors[pick(c.tensors.size())].name; break;
      default: t.name += pick(2) ? "x" : "/m";
    }
  }
  void tensor_list(format::Contents& c) {
    if (!c.tensors.empty() && pick(2)) {
      c.tensors.erase(c.tensors.begin() + static_cast<std::ptrdiff_t>(pick(c.tensors.size())));
    } else if (!c.tensors.empty()) {
      format::Tensor t = c.tensors[pick(c.tensors.size())];
      if (pick(2)) t.name = "state:" + t.name;
      c.tensors.push_back(std::move(t));
    }
  }
  void gradient_record(format::Contents& c) {
    const std::size_t n = c.nodes.size();
    if (c.gradients.empty() || pick(4) == 0) {
      c.gradients.push_back({id(n), id(n), id(n)});
      return;
    }
    format::GradientRecord& m = c.gradients[pick(c.gradients.size())];
    switch (pick(4)) {
      case 0: m.y = id(n); break;
      case 1: m.x = id(n); break;
      case 2: m.grad = id(n); break;
      default: c.gradients.push_back(m);
    }
  }
  // Gradient links and inputs name earlier nodes, as decode insists, so
  // that what reaches parse_graph is what it must judge by meaning.
  void node_link(format::Contents& c, std::size_t self) {
    format::NodeRecord& r = c.nodes[self];
    r.grad_of = pick(3) == 0 ? 0 : id(self);
    if (pick(2)) r.role ^= 1;
  }
  void node_shape(format::NodeRecord& r) {
    if (pick(2)) {
      r.rows = pick(2) ? dagrad::batch : edgy();
    } else {
      r.cols = edgy();
    }
  }
  void node_op(format::Contents& c, format::NodeRecord& r) {
    switch (pick(4)) {
      case 0: r.kind = static_cast<std::uint8_t>(pick(4)); break;
      case 1: r.op = c.nodes[pick(c.nodes.size())].op; break;
      case 2:
        if (!r.attributes.empty()) {
          dagrad::Attribute& a = r.attributes[pick(r.attributes.size())];
          if (pick(2)) {
            a.value = edgy();
          } else {
            a.value = edgy_real();
          }
        }
        break;
      default:
        if (!r.attributes.empty() && pick(2)) {
          r.attributes.pop_back();
        } else {
          r.attributes.push_back({pick(2) ? "kernel" : "seed", edgy()});
        }
    }
  }
  void node_inputs(format::Contents& c, std::size_t self) {
    format::NodeRecord& r = c.nodes[self];
    if (self == 0) return;
    if (!r.inputs.empty() && pick(3) != 0) {
      r.inputs[pick(r.inputs.size())] = static_cast<std::uint32_t>(pick(self));
    } else if (!r.inputs.empty() && pick(2)) {
      r.inputs.pop_back();
    } else {
      r.inputs.push_back(static_cast<std::uint32_t>(pick(self)));
    }
  }

  std::minstd_rand rng_;
};

// libFuzzer's custom mutator: a decodable input (of any kind) gets one
// record changed and is encoded again; one that does not decode gets
// libFuzzer's byte mutations, its checksums then rewritten.
inline std::size_t mutate_records(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  RecordMutator m(seed);
  try {
    format::Contents c = format::decode({data, size}, "fuzz input", {1, 2, 3, 4, 5});
    const std::size_t rounds = 1 + seed % 3;
    for (std::size_t i = 0; i < rounds; ++i) m.mutate(c);
    const std::vector<std::uint8_t> out = format::encode(c);
    if (out.size() <= max_size) {
      std::memcpy(data, out.data(), out.size());
      return out.size();
    }
  } catch (const dagrad::Error&) {
  }
  std::vector<std::uint8_t> bytes(data, data + LLVMFuzzerMutate(data, size, max_size));
  fix_checksums(bytes);
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}

// A graph file loaded, then trained one Adam step on its first cached
// gradient's loss, every input fed ones: the path the crafted file
// took to read past a buffer.
inline void graph_trained(Bytes bytes) {
  const dagrad::LoadedGraph loaded = dagrad::parse_graph(bytes, "fuzz input");
  dagrad::Graph& g = *loaded.graph;
  dagrad::Executor<double> ex(g, {.threads = 1});
  loaded.set_parameters(ex);
  const auto cached = g.cached_gradients();
  if (cached.empty()) return;
  const dagrad::Node loss = g.node(cached.front().y);
  std::vector<dagrad::Node> parameters;
  for (const auto& m : cached) {
    if (m.y == loss.id() && g.info(m.x).kind == dagrad::NodeKind::parameter) parameters.push_back(g.node(m.x));
  }
  if (parameters.empty()) return;
  const std::size_t before = g.size();
  dagrad::nn::Adam adam(loss, {.learning_rate = 0.01}, parameters);
  if (g.size() != before) return;  // not the cached nodes: gradients() built its own
  std::vector<dagrad::Matrix<double>> values;
  std::vector<dagrad::Node> inputs;
  for (dagrad::NodeId n = 0; n < g.size(); ++n) {
    const dagrad::NodeInfo& info = g.info(n);
    if (info.kind != dagrad::NodeKind::input) continue;
    if (info.shape.cols > 4096 || info.shape.rows > 4096) return;  // a feed too large to be worth the time
    inputs.push_back(g.node(n));
    values.push_back(dagrad::Matrix<double>::Ones(info.shape.rows == dagrad::batch ? 2 : info.shape.rows,
                                                  info.shape.cols));
  }
  std::vector<dagrad::Feed<double>> feeds;
  for (std::size_t i = 0; i < inputs.size(); ++i) feeds.push_back({inputs[i], values[i]});
  adam.step(ex, feeds);
}

// A checkpoint restored into one network and Adam built once (a 4-3-2
// classifier), then one more epoch trained from it when it is accepted.
inline void checkpoint(Bytes bytes) {
  struct Run {
    dagrad::Graph g;
    dagrad::Node x = g.input("x", {dagrad::batch, 4}), y = g.input("y", {dagrad::batch, 2});
    dagrad::nn::Init init{3};
    dagrad::Node loss = dagrad::softmax_cross_entropy(
        dagrad::nn::dense(dagrad::nn::dense(x, 3, init, "hidden"), 2, init, "out"), y);
    dagrad::Executor<double> ex{g, {.threads = 1}};
    dagrad::nn::Adam adam{loss, {.learning_rate = 0.01}};
    dagrad::nn::Trainer<double> trainer{ex, adam, x, y, {.epochs = 1, .batch_size = 3}};
    dagrad::Matrix<double> X = dagrad::Matrix<double>::Ones(6, 4), Y = dagrad::Matrix<double>::Zero(6, 2);
    Run() {
      init.apply(ex);
      Y.col(0).setOnes();
    }
  };
  static Run run;
  run.trainer.parse_checkpoint(bytes, "fuzz input");
  if (run.trainer.epochs_done() > 1000) return;  // a long history: replaying it is not worth the time
  run.trainer.options().epochs = run.trainer.epochs_done() + 1;
  run.trainer.fit(dagrad::Features(run.X), dagrad::Features(run.Y));
}

}  // namespace dagrad_fuzz

// A *_records target's two functions: inputs mutated record by record, fed
// to entry.
//   DAGRAD_FUZZ_RECORDS_TARGET(dagrad_fuzz::checkpoint)
#define DAGRAD_FUZZ_RECORDS_TARGET(entry)                                                                              \
  extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,           \
                                                 unsigned seed) {                                                      \
    return dagrad_fuzz::mutate_records(data, size, max_size, seed);                                                    \
  }                                                                                                                    \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {                                  \
    dagrad_fuzz::feed(entry, {data, size});                                                                            \
    return 0;                                                                                                          \
  }
