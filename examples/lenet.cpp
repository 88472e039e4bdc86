// A LeNet-5 style convolutional network on MNIST, built from dagrad's nn
// layers and trained with its Adam and training loop: conv 1->6 5x5 pad 2,
// relu, max-pool 2; conv 6->16 5x5, relu, max-pool 2; dense 400-120-84-10;
// softmax cross-entropy; Adam 1e-3; batch 64 (the network of PyTorch's C++
// reference, ../shared/anchors/libtorch_lenet.cpp).
//   build/examples/lenet --epochs 2 --svg lenet.svg
//   build/examples/lenet --epochs 2 --onnx lenet.onnx --save-graph lenet.dagradg
//   mpirun -np 2 build/examples/lenet --epochs 2   (each rank a shard of every batch)
#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include "mnist_training.hpp"
#include "ranks.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <span>

#include <unistd.h>

using namespace dagrad;

namespace {

ArgParser lenet_parser() {
  ArgParser p("lenet", "Trains a LeNet-5 style CNN on MNIST with dagrad's nn layers, Adam and training loop.");
  add_training_flags(p, 2);
  p.add("svg", "FILE", "draw the network, one box a layer, to FILE (.svg, .png or .pdf)");
  p.add("dot", "FILE", "write the whole graph, forward and backward, as DOT");
  p.add("onnx", "FILE", "after training, export the network's logits to FILE as an ONNX model");
  p.add("save-graph", "FILE", "after training, write the whole graph with its parameters' values to FILE");
  p.add("load-graph", "FILE", "start from a graph saved by --save-graph: score it, or train it --epochs more");
  p.add("validation-fraction", "F", "hold out this share of the training images, and print each epoch's loss "
                                   "and accuracy on them (default 0: none)");
  p.add_switch("memory", "print the training step's memory plan (one shared block against a buffer per node); "
                         "--dot and --svg then draw the whole step, each node coloured by its place in it");
  p.add_switch("profile", "time every node during the fit; print where the time went, and colour --svg by it");
  return p;
}

// A set's images (left on disk, a batch read at a time) and labels (moved,
// not copied), the labels also as one-hot rows.
struct Data {
  ImageFile images;
  Matrix<float> one_hot;
  std::vector<std::uint8_t> labels;
};
Data with_one_hot(DatasetFile&& d) {
  Matrix<float> rows = one_hot(d.labels, 10);
  return {std::move(d.images), std::move(rows), std::move(d.labels)};
}

// The share of `rows` of X whose largest logit is the class their one-hot
// row of Y marks, 1,000 rows at a time (the executor plans a forward run's
// values by liveness, and its block follows the batch: the training step
// after a validation pass shrinks it again).
double accuracy(Executor<float>& ex, Node x, Node logits, const Features& X, const Features& Y,
                std::span<const std::size_t> rows) {
  constexpr std::size_t chunk = 1000;
  Matrix<float> batch_x, batch_y;
  std::size_t right = 0;
  for (std::size_t first = 0; first < rows.size(); first += chunk) {
    const std::span<const std::size_t> part = rows.subspan(first, std::min(chunk, rows.size() - first));
    X.gather(part, batch_x);
    Y.gather(part, batch_y);
    const Matrix<float> z = ex.run({{x, batch_x}}, {logits})[0];
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
      Eigen::Index best = 0, label = 0;
      z.row(r).maxCoeff(&best);
      batch_y.row(r).maxCoeff(&label);
      right += best == label;
    }
  }
  return double(right) / double(rows.size());
}

double accuracy(Executor<float>& ex, Node x, Node logits, const Data& d) {
  std::vector<std::size_t> all(d.images.count());
  std::iota(all.begin(), all.end(), std::size_t{0});
  return accuracy(ex, x, logits, Features(d.images), Features(d.one_hot), all);
}

// The network and the nodes the program uses, in a graph of its own: built
// here, or read back from a --save-graph file.
struct Network {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  Node x, y, logits, loss;
  LoadedGraph saved;  // the parameters' values, for a network read from a file
};

Network build_lenet(nn::Init& init) {
  Network net;
  Graph& g = *net.graph;
  // tutorial:begin
  // The network: each layer a name scope, so the drawing has a box a layer.
  Node x = g.input("x", {batch, 784});  // one image a row: 1 channel x 28 x 28
  Node y = g.input("y", {batch, 10});   // one-hot labels
  const nn::DenseOptions relu{.activation = nn::Activation::relu};
  Node h = nn::conv2d(x, {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}, init, "conv1", relu);
  h = nn::max_pool2d(h, {.in = {6, 28, 28}, .size = 2}, "pool1");
  h = nn::conv2d(h, {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5}, init, "conv2", relu);
  h = nn::max_pool2d(h, {.in = {16, 10, 10}, .size = 2}, "pool2");
  h = nn::dense(h, 120, init, "fc1", relu);
  h = nn::dense(h, 84, init, "fc2", relu);
  Node logits = nn::dense(h, 10, init, "out");
  Node loss = softmax_cross_entropy(logits, y);
  // tutorial:end
  g.rename(logits, "logits");  // the names --load-graph looks for
  g.rename(loss, "loss");
  net.x = x, net.y = y, net.logits = logits, net.loss = loss;
  return net;
}

// A network saved by --save-graph: the graph as it was, found by its names.
Network load_lenet(const std::string& path) {
  Network net;
  net.saved = load_graph(path);
  net.graph = std::move(net.saved.graph);
  const auto node = [&](const char* name) {
    const std::optional<Node> n = net.graph->find(name);
    if (!n) throw DataError(path + ": the graph has no node named '" + name + "'; is it a lenet --save-graph file?");
    return *n;
  };
  net.x = node("x"), net.y = node("y"), net.logits = node("logits"), net.loss = node("loss");
  return net;
}

// group: the ranks of mpirun, or null for one process.
int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = lenet_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const auto [epochs, batch_size, learning_rate, seed, threads, shards, checkpoint, checkpoint_every, resume, bucket_bytes] =
      read_training_flags(args, args.has("load-graph") ? 0 : 2, args.has("load-graph") ? 0 : 1);

  const double validation_fraction = args.get_double("validation-fraction", 0, 0, 0.5);
  MnistFiles mnist = open_mnist_rows(args);
  const Data train = with_one_hot(std::move(mnist.train));
  const Data test = with_one_hot(std::move(mnist.test));

  nn::Init init(seed);
  Network net = args.has("load-graph") ? load_lenet(args.get("load-graph")) : build_lenet(init);
  const Node x = net.x, y = net.y, logits = net.logits, loss = net.loss;
  Graph& g = *net.graph;

  // --dot draws every value, unless --memory asks for the plan instead.
  const bool memory = args.has("memory");
  // tutorial:begin
  Executor<float> ex(g, {.threads = threads, .plan_memory = memory || !args.has("dot")});  // --dot: every value
  init.apply(ex);                // the values drawn for a network built here,
  net.saved.set_parameters(ex);  // or those of the file it was read from
  nn::Adam adam(loss, {.learning_rate = learning_rate});  // adds the gradient nodes once
  nn::Trainer<float> trainer(ex, adam, x, y,
                             {.epochs = epochs, .batch_size = batch_size, .seed = seed,
                              .validation_fraction = validation_fraction, .verbose = 1, .checkpoint = checkpoint, .checkpoint_every = checkpoint_every,
                              .shards = shards, .group = group,  // group: each rank a shard
                              .bucket_bytes = bucket_bytes});
  if (!resume.empty()) trainer.load_checkpoint(resume);  // on with the bits of the run that wrote it
  if (validation_fraction > 0) {  // each epoch's accuracy on the rows held out of the training set
    trainer.set_metrics([&](const nn::EpochEnd& e) {
      return nn::Metrics{{"validation accuracy", accuracy(ex, x, logits, *e.X_val, *e.Y_val, e.validation_rows)}};
    });
  }

  if (args.has("profile")) ex.set_profiling(true);
  if (isatty(STDOUT_FILENO) && !group) {  // on a terminal (not mpirun's), a bar through each epoch
    trainer.set_progress([](const nn::TrainProgress& p) {
      std::cout << progress_bar(p.epoch, p.samples_done, p.samples_total) << std::flush;
    });
  }
  const auto start = std::chrono::steady_clock::now();
  trainer.fit(Features(train.images), Features(train.one_hot));
  // tutorial:end
  const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::vector<NodeTime> profile = ex.profile();
  const MemoryReport fit_memory = ex.memory_plan();  // the last training step's
  ex.set_profiling(false);
  std::printf("Training score: %f\nTesting score: %f\nfit_seconds: %.3f\n", accuracy(ex, x, logits, train),
              accuracy(ex, x, logits, test), fit_seconds);
  if (args.has("profile")) std::cout << "\nDuring the fit. " << profile_table(profile, fit_seconds, threads);
  if (memory) std::cout << "\nA training step's " << plan_summary(fit_memory) << "\n";
  // With --memory, both pictures are the whole training step, each node
  // filled by its place in the shared block.
  const DotOptions plan{.title = "LeNet: a training step's memory", .memory = fit_memory};
  if (args.has("svg")) {
    render(to_dot(g, memory ? plan
                            : DotOptions{.backward = false, .title = "LeNet", .collapse_layers = true,
                                         .profile = profile}),
           args.get("svg"));
  }
  if (args.has("dot")) write_dot(g, args.get("dot"), memory ? plan : DotOptions{.values = &ex, .title = "LeNet"});
  if (!group || group->rank() == 0) {  // one file, from one rank
    if (args.has("save-graph")) save_graph(ex, args.get("save-graph"));
    if (args.has("onnx")) {
      export_onnx(ex, {logits}, args.get("onnx"),
                  {.graph_name = "lenet", .doc = "LeNet-5 style CNN trained on MNIST by dagrad's lenet example; "
                                                  "input: rows of 28x28 images scaled to [0, 1]; output: logits"});
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("lenet", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
