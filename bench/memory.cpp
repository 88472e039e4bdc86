// Memory of one training step (loss, gradients, Adam's fetches) with values
// planned by liveness against one buffer per node: the 784-1024-1024-10
// network at batch 200, and LeNet at batch 64. Prints the bytes of the
// values the step computes both ways, and the executor's whole holding
// (parameters, inputs and fetched values included), with their ratios; and
// the values not fetched alone, the ones the plan places.
// Both ways must give the same loss bits.
//   build/bench/bench_memory [threads]
#include <dagrad/dagrad.hpp>

#include "networks.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

using namespace dagrad;

namespace {

struct Step {
  Graph g;
  Node x, y, loss;
  Eigen::Index rows = 0;
  nn::Init init{1};
};

void mlp(Step& s) {
  const bench::Network n = bench::mlp(s.g, s.init);
  s.x = n.x, s.y = n.y, s.loss = n.loss, s.rows = n.rows;
}

void lenet(Step& s) {
  const bench::Network n = bench::lenet(s.g, s.init);
  s.x = n.x, s.y = n.y, s.loss = n.loss, s.rows = n.rows;
}

struct Held {
  std::size_t total = 0;   // Executor::memory()
  std::size_t values = 0;  // of which the step's computed values
  std::size_t fetched = 0; // of which the fetched ones, never planned
  float loss = 0;
  std::string summary;  // plan_summary
};

Held measure(void (*build)(Step&), bool plan, int threads) {
  Step s;
  build(s);
  nn::Adam adam(s.loss);
  Executor<float> ex(s.g, {.threads = threads, .plan_memory = plan});
  s.init.apply(ex);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  Matrix<float> X(s.rows, 784), Y = Matrix<float>::Zero(s.rows, 10);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = pixel(rng);
  for (Eigen::Index r = 0; r < s.rows; ++r) Y(r, static_cast<Eigen::Index>(rng() % 10)) = 1.f;
  const std::size_t before = ex.memory();  // the parameters
  ex.compute({{s.x, X}, {s.y, Y}}, adam.fetches());
  Held h;
  h.total = ex.memory();
  // Less the inputs and the constants, which are not computed.
  std::size_t fixed = before + std::size_t(X.size() + Y.size()) * sizeof(float);
  for (NodeId n = 0; n < s.g.size(); ++n) {
    if (s.g.info(n).kind == NodeKind::constant) fixed += std::size_t(s.g.info(n).value.size()) * sizeof(float);
  }
  h.values = h.total - fixed;
  for (Node f : adam.fetches()) h.fetched += std::size_t(ex.value(f).size()) * sizeof(float);
  h.loss = ex.value(s.loss)(0, 0);
  h.summary = plan_summary(ex.memory_plan());
  return h;
}

double mib(std::size_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
    struct Case {
      const char* name;
      void (*build)(Step&);
    };
    for (const Case& c : {Case{"784-1024-1024-10 MLP, batch 200", mlp}, Case{"LeNet, batch 64", lenet}}) {
      const Held whole = measure(c.build, false, threads);
      const Held planned = measure(c.build, true, threads);
      if (whole.loss != planned.loss) {
        std::fprintf(stderr, "bench_memory: %s: the loss differs with memory planned\n", c.name);
        return 1;
      }
      std::printf("%s training step (Adam's fetches):\n", c.name);
      std::printf("  values not fetched: one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.values - whole.fetched), mib(planned.values - planned.fetched),
                  double(planned.values - planned.fetched) / double(whole.values - whole.fetched));
      std::printf("  computed values:    one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.values), mib(planned.values), double(planned.values) / double(whole.values));
      std::printf("  executor memory:    one buffer per node %8.2f MiB, planned %8.2f MiB, ratio %.3f\n",
                  mib(whole.total), mib(planned.total), double(planned.total) / double(whole.total));
      std::printf("  %s\n", planned.summary.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_memory: %s\n", e.what());
    return 1;
  }
}
