// conv2d's forward and backward kernels at LeNet's shapes (batch 64, float),
// in GFLOP/s, at 1 and 2 threads: the figures for docs/benchmarks.md; then
// the time of one LeNet step (forward and every gradient, no optimizer) on
// random data, times the 1,876 steps of two epochs at batch 64. Each
// product counts 2·images·out_channels·out_pixels·(in_channels·k²) flops,
// forward, input gradient and filter gradient alike; the best of several
// rounds is kept, as the machine is shared.
//   build/bench/bench_conv2d [images]
#include <dagrad/dagrad.hpp>

#include "timing.hpp"

#include <cstdio>
#include <cstdlib>

using namespace dagrad;
using M = Matrix<float>;

namespace {

struct Layer {
  const char* name;
  Conv2dOptions options;
};

void measure(const Layer& layer, Dim images, int threads) {
  const Conv2dOptions& o = layer.options;
  const ImageShape out = conv2d_output(o);
  const Dim in_size = o.in.channels * o.in.height * o.in.width;
  const Dim out_size = out.channels * out.height * out.width;
  const Dim patch = o.in.channels * o.kernel * o.kernel;
  Graph g;
  Node x = g.input("x", {batch, in_size});
  Node dy = g.input("dy", {batch, out_size});
  Node w = g.parameter("w", {o.out_channels, patch});
  Node y = conv2d(x, w, o);
  Node dx = conv2d_grad_input(dy, w, o);
  Node dw = conv2d_grad_filter(x, dy, o);
  Executor<float> ex(g, {.threads = threads});
  ex.set(w, M::Random(o.out_channels, patch));
  // Pixels scaled to [0, 1] as in the LeNet run; gradients of both signs.
  const M X = (M::Random(images, in_size).array() + 1.0f) / 2.0f, DY = M::Random(images, out_size);
  const std::vector<Feed<float>> feeds = {{x, X}, {dy, DY}};
  const double flops = 2.0 * double(images) * double(o.out_channels) * double(out.height * out.width) * double(patch);
  const double forward = bench::best_seconds(ex, feeds, {y}), input = bench::best_seconds(ex, feeds, {dx}),
               filter = bench::best_seconds(ex, feeds, {dw});
  std::printf("%-28s threads %d  forward %6.1f us %5.1f GFLOP/s | grad_input %6.1f us %5.1f GFLOP/s | "
              "grad_filter %6.1f us %5.1f GFLOP/s\n",
              layer.name, threads, forward * 1e6, flops / forward / 1e9, input * 1e6, flops / input / 1e9,
              filter * 1e6, flops / filter / 1e9);
}

// conv 1->6 5x5 pad 2, relu, max-pool 2; conv 6->16 5x5, relu, max-pool 2;
// dense 400-120-84-10; softmax cross-entropy: the libtorch anchor's network.
void lenet_step(Dim images, int threads) {
  Graph g;
  Node x = g.input("x", {batch, 784});
  Node labels = g.input("y", {batch, 10});
  std::vector<Node> params;
  auto parameter = [&](const char* name, Dim rows, Dim cols) {
    params.push_back(g.parameter(name, {rows, cols}));
    return params.back();
  };
  Node h = add_channel_bias(conv2d(x, parameter("c1/w", 6, 25), {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}),
                            parameter("c1/b", 1, 6));
  h = max_pool2d(relu(h), {.in = {6, 28, 28}, .size = 2});
  h = add_channel_bias(conv2d(h, parameter("c2/w", 16, 150), {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5}),
                       parameter("c2/b", 1, 16));
  h = max_pool2d(relu(h), {.in = {16, 10, 10}, .size = 2});
  h = relu(add(matmul(h, parameter("f1/w", 400, 120)), parameter("f1/b", 1, 120)));
  h = relu(add(matmul(h, parameter("f2/w", 120, 84)), parameter("f2/b", 1, 84)));
  Node logits = add(matmul(h, parameter("f3/w", 84, 10)), parameter("f3/b", 1, 10));
  Node loss = softmax_cross_entropy(logits, labels);
  std::vector<Node> fetches = gradients(loss, params);
  fetches.push_back(loss);
  Executor<float> ex(g, {.threads = threads});
  for (Node p : params) ex.set(p, M::Random(p.shape().rows, p.shape().cols) * 0.1f);
  const M X = (M::Random(images, 784).array() + 1.0f) / 2.0f;
  M Y = M::Zero(images, 10);
  for (Dim i = 0; i < images; ++i) Y(i, i % 10) = 1;
  const std::vector<Feed<float>> feeds = {{x, X}, {labels, Y}};
  const double best = bench::best_seconds(ex, feeds, fetches, 5, 20);
  std::printf("lenet step, %lld images      threads %d  %6.0f us; x 1876 steps (2 epochs) = %.2f s\n",
              static_cast<long long>(images), threads, best * 1e6, best * 1876);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Dim images = argc > 1 ? std::atoi(argv[1]) : 64;
    const Layer layers[] = {
        {"conv1 1x28x28 -> 6, 5x5 p2", {.in = {1, 28, 28}, .out_channels = 6, .kernel = 5, .padding = 2}},
        {"conv2 6x14x14 -> 16, 5x5", {.in = {6, 14, 14}, .out_channels = 16, .kernel = 5}},
    };
    for (int threads : {1, 2}) {
      for (const Layer& layer : layers) measure(layer, images, threads);
    }
    for (int threads : {1, 2}) lenet_step(images, threads);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_conv2d: %s\n", e.what());
    return 1;
  }
}
