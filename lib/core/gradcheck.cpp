#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/gradcheck.hpp>
#include <dagrad/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dagrad {

std::string GradcheckResult::report() const {
  std::ostringstream s;
  s.precision(10);
  for (const auto& e : entries) {
    if (e.ok) {
      s << "ok     " << e.name << ": " << e.elements << " elements";
      if (e.kinks < e.elements) s << ", largest |difference| " << e.abs_error;
    } else {
      s << "FAILED " << e.name << ": " << e.failures << " of " << e.elements
        << " elements; worst (" << e.row << ", " << e.col << "): analytic " << e.analytic << ", numeric "
        << e.numeric << ", |difference| " << e.abs_error;
    }
    if (const auto& k = e.first_kink) {
      s << "; " << e.kinks << " at kinks, where the loss has no derivative (first (" << k->row << ", " << k->col
        << "): slope " << k->left << " to the left, " << k->right << " to the right, analytic " << k->analytic
        << "): GradcheckOptions::nudge moves the point off them";
    }
    s << "\n";
  }
  return s.str();
}

namespace {

// Each value moved by a draw from [-nudge, nudge], in a fixed order.
void nudge_values(Matrix<double>& m, double nudge, NumpyRandom& rng) {
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] += rng.uniform(-nudge, nudge);
}

// One element's check. `base` is the loss at the point, `up` and `down` at
// the point moved by +eps and -eps.
struct ElementCheck {
  double numeric, error, allowed;
  bool ok, kink;
  double left, right;
};
ElementCheck check_element(double analytic, double base, double up, double down, const GradcheckOptions& o) {
  ElementCheck c{};
  c.numeric = (up - down) / (2 * o.eps);
  c.error = std::abs(analytic - c.numeric);
  c.allowed = o.atol + o.rtol * std::abs(c.numeric);
  c.ok = c.error <= c.allowed;  // NaN fails
  c.left = (base - down) / o.eps;
  c.right = (up - base) / o.eps;
  const double slack = o.atol + o.rtol * std::max(std::abs(c.left), std::abs(c.right));
  c.kink = !c.ok && std::abs(c.left - c.right) > slack &&
           analytic >= std::min(c.left, c.right) - slack && analytic <= std::max(c.left, c.right) + slack;
  return c;
}

}  // namespace

GradcheckResult gradcheck(Graph& graph, Node loss, const std::vector<Feed<double>>& values,
                          const std::vector<Feed<double>>& feeds, GradcheckOptions options) {
  graph.check_owns(loss, "gradcheck");
  if (!(options.nudge >= 0) || !std::isfinite(options.nudge)) {
    throw Error("gradcheck: nudge must be 0 or a positive number, got " + std::to_string(options.nudge));
  }
  std::vector<Node> checked;
  for (const auto& v : values) checked.push_back(v.node);
  const std::vector<Node> grads = gradients(loss, checked);

  // Checked values and the feeds are copied: the finite differences (and a
  // nudge) change the copies.
  NumpyRandom rng(options.nudge_seed);
  std::vector<Matrix<double>> checked_values, feed_values;
  for (const auto& v : values) {
    if (v.node.kind() != NodeKind::parameter && v.node.kind() != NodeKind::input) {
      throw GraphError("gradcheck: '" + v.node.name() + "' is neither a parameter nor an input; only those can be checked");
    }
    checked_values.emplace_back(v.value);
  }
  for (const auto& f : feeds) feed_values.emplace_back(f.value);
  if (options.nudge > 0) {
    for (auto& m : checked_values) nudge_values(m, options.nudge, rng);
    for (auto& m : feed_values) nudge_values(m, options.nudge, rng);
  }
  Executor<double> ex(graph, {.threads = 1});
  std::vector<Feed<double>> all_feeds;
  for (std::size_t i = 0; i < feeds.size(); ++i) all_feeds.push_back({feeds[i].node, feed_values[i]});
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].node.kind() == NodeKind::parameter) {
      ex.set(values[i].node, checked_values[i]);
    } else {
      all_feeds.push_back({values[i].node, checked_values[i]});
    }
  }

  const std::vector<Matrix<double>> analytic = ex.run(all_feeds, grads);
  auto loss_now = [&] { return ex.run(all_feeds, {loss})[0](0, 0); };
  const double base = loss_now();

  GradcheckResult result;
  for (std::size_t i = 0; i < values.size(); ++i) {
    Matrix<double>& x = values[i].node.kind() == NodeKind::parameter ? ex.parameter(values[i].node) : checked_values[i];
    GradcheckEntry worst;
    worst.name = values[i].node.name();
    worst.elements = static_cast<std::size_t>(x.size());
    double worst_margin = -INFINITY;
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const double saved = x(r, c);
        x(r, c) = saved + options.eps;
        const double up = loss_now();
        x(r, c) = saved - options.eps;
        const double down = loss_now();
        x(r, c) = saved;
        const double a = analytic[i](r, c);
        const ElementCheck e = check_element(a, base, up, down, options);
        if (e.kink) {
          if (!worst.kinks++) worst.first_kink = GradcheckKink{r, c, a, e.left, e.right};
          continue;
        }
        if (!e.ok) ++worst.failures;
        const double margin = std::isnan(e.error) ? INFINITY : e.error - e.allowed;
        if (margin > worst_margin) {
          worst_margin = margin;
          worst.row = r;
          worst.col = c;
          worst.analytic = a;
          worst.numeric = e.numeric;
          worst.abs_error = e.error;
        }
      }
    }
    worst.ok = worst.failures == 0;
    result.ok = result.ok && worst.ok;
    result.entries.push_back(worst);
  }
  return result;
}

}  // namespace dagrad
