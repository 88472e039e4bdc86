// batch_norm_running: a running statistic after one more step,
// (1 - m) * running + m * the batch's mean (or unbiased variance) while
// training (step >= 0), running at inference; m the momentum, the unbiased
// variance N / (N - 1) times the biased one over a channel's N values, as
// PyTorch's BatchNorm updates its buffers. No gradient: state, not learned.
#include <dagrad/core/detail/batch_norm.hpp>
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

class BatchNormRunning final : public OpBase<BatchNormRunning> {
 public:
  BatchNormRunning(BatchStatistic statistic, BatchNormOptions options) : statistic_(statistic), options_(options) {}
  std::string_view key() const override { return "batch_norm_running"; }

  Shape infer(std::span<const Shape> in) const override {
    const Dim channels = detail::check_channels(options_, in[0]);
    detail::check_channel_row(in[1], channels, statistic_ == BatchStatistic::mean ? "the running mean"
                                                                                    : "the running variance");
    detail::check_step(in[2]);
    return in[1];
  }

  template <class T>
  void kernel(Inputs<T> in, View<T> out) const {
    const ConstView<T>& running = *in[1];
    out = running;
    if (!detail::training(*in[2])) return;
    const detail::ChannelStats s =
        detail::batch_moments(*in[0], detail::channel_layout(options_, in[0]->cols()), key());
    const double m = options_.momentum, unbias = double(s.count) / double(s.count - 1);
    for (Dim c = 0; c < out.cols(); ++c) {
      const auto k = static_cast<std::size_t>(c);
      const double batch = statistic_ == BatchStatistic::mean ? s.mean[k] : s.variance[k] * unbias;
      out(0, c) = T((1 - m) * double(running(0, c)) + m * batch);
    }
  }

  std::vector<Node> backward(const GradContext& ctx) const override {
    for (std::size_t i = 0; i < 3; ++i) {
      if (ctx.needs(i)) no_gradient(ctx, i);
    }
    return std::vector<Node>(3);
  }

  Attributes attributes() const override {
    Attributes a = detail::batch_norm_attributes(options_);
    a.push_back({"variance", std::int64_t{statistic_ == BatchStatistic::variance}});
    return a;
  }
  std::string label() const override {
    return detail::batch_norm_label(statistic_ == BatchStatistic::mean ? "running mean" : "running variance",
                                    options_);
  }

 private:
  BatchStatistic statistic_;
  BatchNormOptions options_;
};

}  // namespace

Node batch_norm_running(Node x, Node running, Node step, BatchStatistic statistic, BatchNormOptions options) {
  detail::check_batch_norm_options(options, "batch_norm_running", x);
  x.graph().check_owns(running, "batch_norm_running");
  x.graph().check_owns(step, "batch_norm_running");
  return x.graph().apply(std::make_shared<BatchNormRunning>(statistic, options), {x, running, step});
}

OpEntry detail::registry_entry_batch_norm_running() {
  auto example = [](double step, BatchStatistic statistic) {
    return OpExample{.inputs = {{{4, 3}, {}, false}, {{1, 3}, {.low = 0.5, .high = 1.5}, false},
                                {{1, 1}, {.low = step, .high = step}, false}},
                     .build = [statistic](const auto& in) { return batch_norm_running(in[0], in[1], in[2], statistic); }};
  };
  return {"batch_norm_running", Differentiable::no,
          {example(1, BatchStatistic::mean), example(1, BatchStatistic::variance), example(-1, BatchStatistic::mean)},
          [](std::span<const Node> in, AttributeReader& a) {
            expect_inputs(in, 3);
            const BatchNormOptions options = detail::batch_norm_options_of(a);
            const BatchStatistic statistic = a.flag("variance") ? BatchStatistic::variance : BatchStatistic::mean;
            return batch_norm_running(in[0], in[1], in[2], statistic, options);
          }};
}

}  // namespace dagrad
