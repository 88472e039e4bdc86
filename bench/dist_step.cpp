// One data-parallel training step of the 784-1024-1024-10 network (relu,
// softmax cross-entropy, Adam, float32) on MNIST rows, timed step by step:
// alone (one process, --threads T) or as the ranks of mpirun, each computing
// its shard of every batch. Rank 0 prints the median step, the median of the
// time spent in all_gather per step and the bytes each rank sends per step.
//   mpirun -np 2 build/bench/bench_dist_step [MNIST_DIR] [threads] [batch] [rows]
#include <dagrad/dagrad.hpp>
#include <dagrad/dist/mpi_group.hpp>
#include <dagrad/nn.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

using namespace dagrad;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<dist::MpiGroup> group;
  if (dist::launched_by_mpirun()) group = std::make_unique<dist::MpiGroup>();
  const int rank = group ? group->rank() : 0, ranks = group ? group->size() : 1;
  try {
    Mnist m = load_mnist(argc > 1 ? argv[1] : default_mnist_dir());
    const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    const auto batch_size = std::size_t(argc > 3 ? std::atoi(argv[3]) : 200);
    const auto rows = std::size_t(argc > 4 ? std::atoi(argv[4]) : 12000);
    Matrix<float> X(Eigen::Index(rows), 784), Y = Matrix<float>::Zero(Eigen::Index(rows), 10);
    Features(m.train.images).slice(0, rows, X);
    for (std::size_t r = 0; r < rows; ++r) Y(Eigen::Index(r), m.train.labels[r]) = 1;

    Graph g;
    Node x = g.input("x", {batch, 784}), y = g.input("y", {batch, 10});
    nn::Init init(1);
    const nn::DenseOptions relu{.activation = nn::Activation::relu};
    Node h = nn::dense(x, 1024, init, "hidden1", relu);
    h = nn::dense(h, 1024, init, "hidden2", relu);
    Node loss = softmax_cross_entropy(nn::dense(h, 10, init, "out"), y);
    Executor<float> ex(g, {.threads = threads});
    init.apply(ex);
    nn::Adam adam(loss, {.learning_rate = 1e-3});
    nn::Trainer<float> trainer(ex, adam, x, y, {.epochs = 1, .batch_size = batch_size, .seed = 1, .group = group.get()});
    std::vector<double> steps, communication;
    double last_comm = 0;
    Clock::time_point last = Clock::now();
    trainer.set_progress([&](const nn::TrainProgress&) {
      const Clock::time_point now = Clock::now();
      steps.push_back(std::chrono::duration<double>(now - last).count());
      if (group) {
        communication.push_back(group->seconds_communicating() - last_comm);
        last_comm = group->seconds_communicating();
      }
      last = now;
    });
    const double loss_after = trainer.fit(Features(X), Features(Y)).loss.back();
    std::size_t parameters = 0;
    for (const Node& p : adam.parameters()) parameters += std::size_t(p.shape().rows * p.shape().cols);
    steps.erase(steps.begin());  // the first step allocates the buffers
    if (!communication.empty()) communication.erase(communication.begin());
    // What adding one gathered shard costs each rank: its gradients copied
    // out of the received bytes and accumulate_shard over every parameter
    // (the median of 20).
    std::vector<double> combine;
    std::vector<Matrix<float>> sums, received;
    for (const Node& p : adam.parameters()) received.push_back(Matrix<float>::Constant(p.shape().rows, p.shape().cols, 0.5f));
    std::vector<std::byte> bytes(parameters * sizeof(float));
    sums.resize(received.size());
    for (int i = 0; i < 21; ++i) {
      const Clock::time_point start = Clock::now();
      std::size_t at = 0;
      for (std::size_t k = 0; k < received.size(); ++k) {
        const std::size_t n = std::size_t(received[k].size()) * sizeof(float);
        std::memcpy(received[k].data(), bytes.data() + at, n);
        at += n;
        if (i == 0) sums[k].resize(received[k].rows(), received[k].cols());
        nn::accumulate_shard<float>(std::span(sums[k].data(), std::size_t(sums[k].size())),
                                    std::span<const float>(received[k].data(), std::size_t(received[k].size())), 0.5f,
                                    i == 0);
      }
      if (i > 0) combine.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    if (rank == 0) {
      std::printf("ranks %d threads %d batch %zu steps %zu: step %.2f ms median, all_gather %.2f ms median, "
                  "%zu bytes sent per rank per step, loss %.8f\n",
                  ranks, threads, batch_size, steps.size() + 1, 1e3 * median(steps),
                  communication.empty() ? 0.0 : 1e3 * median(communication),
                  group ? sizeof(double) + parameters * sizeof(float) : std::size_t(0), loss_after);
      std::printf("  adding one gathered shard (copy out of the bytes, accumulate_shard): %.2f ms median\n",
                  1e3 * median(combine));
    }
  } catch (const std::exception& e) {
    if (group) group->abort(std::string("bench_dist_step: ") + e.what() + "\n", 1);
    std::fprintf(stderr, "bench_dist_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
