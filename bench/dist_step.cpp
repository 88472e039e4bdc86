// One data-parallel training step of the 784-1024-1024-10 network (relu,
// softmax cross-entropy, Adam, float32) on MNIST rows, timed step by step:
// alone (one process, --threads T) or as the ranks of mpirun, each computing
// its shard of every batch. Rank 0 prints the median step, the median of the
// time spent communicating per step (MpiGroup's reduce_sum) and the bytes each
// rank sends and receives per step, and what accumulating one shard's
// gradients costs.
// The fifth argument is TrainOptions::bucket_bytes: 0 sums the gradients
// once backward is done, more sends buckets of that size while it runs.
//   mpirun -np 2 build/bench/bench_dist_step [MNIST_DIR] [threads] [batch] [rows] [bucket_bytes]
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
    const auto bucket_bytes = argc > 5 ? std::size_t(std::atoll(argv[5])) : nn::default_bucket_bytes;
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
    nn::Trainer<float> trainer(ex, adam, x, y, {.epochs = 1, .batch_size = batch_size, .seed = 1, .group = group.get(), .bucket_bytes = bucket_bytes});
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
    const std::size_t parameters = adam.parameter_count();
    steps.erase(steps.begin());  // the first step allocates the buffers
    if (!communication.empty()) communication.erase(communication.begin());
    // What accumulating one shard's gradients costs (nn::accumulate_shard
    // over every parameter, the median of 20): reduce_sum accumulates N
    // slices of 1 / N of them on each rank, where gathering whole shards had
    // each rank accumulate N.
    std::vector<double> combine;
    std::vector<float> sum(parameters, 0.5f), shard(parameters, 0.25f);
    for (int i = 0; i < 21; ++i) {
      const Clock::time_point start = Clock::now();
      nn::accumulate_shard<float>(sum, shard, 0.5f, false);
      if (i > 0) combine.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    if (rank == 0) {
      // Every step moves as many bytes: the counters' totals over all the steps.
      const double steps_counted = double(steps.size() + 1);
      std::printf("ranks %d threads %d batch %zu buckets of %zu bytes, steps %zu: step %.2f ms median, communication %.2f ms median, "
                  "%.0f bytes sent and %.0f received per rank per step, loss %.8f\n",
                  ranks, threads, batch_size, bucket_bytes, steps.size() + 1, 1e3 * median(steps),
                  communication.empty() ? 0.0 : 1e3 * median(communication),
                  group ? double(group->bytes_sent()) / steps_counted : 0.0,
                  group ? double(group->bytes_received()) / steps_counted : 0.0, loss_after);
      std::printf("  accumulating one shard's gradients (accumulate_shard over %zu parameters): %.2f ms median\n",
                  parameters, 1e3 * median(combine));
    }
  } catch (const std::exception& e) {
    if (group) group->abort(std::string("bench_dist_step: ") + e.what() + "\n", 1);
    std::fprintf(stderr, "bench_dist_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
