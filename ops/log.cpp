// log: y = ln x, elementwise (x > 0).  dy/dx = 1 / x
#include <dagrad/core/detail/op_list.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>

namespace dagrad {
namespace {

struct LogRule {
  static constexpr std::string_view key = "log";
  auto operator()(const auto& x) const { return x.log(); }
  Node grad(const GradContext& ctx) const { return div(ctx.grad(), ctx.input(0)); }
};

}  // namespace

Node log(Node x) { return unary(x, LogRule{}); }

OpEntry detail::registry_entry_log() {
  return {"log", Differentiable::twice, {unary_example(log, {.low = 0.3, .high = 2.0})},
          rebuild_of(log),
          {.operators = "Log"}};
}

}  // namespace dagrad
