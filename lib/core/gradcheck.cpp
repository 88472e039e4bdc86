#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/gradcheck.hpp>

#include <cmath>
#include <sstream>

namespace dagrad {

std::string GradcheckResult::report() const {
  std::ostringstream s;
  s.precision(10);
  for (const auto& e : entries) {
    s << (e.ok ? "ok     " : "FAILED ") << e.name << ": worst element (" << e.row << ", " << e.col
      << "): analytic " << e.analytic << ", numeric " << e.numeric << ", |difference| "
      << e.abs_error << "\n";
  }
  return s.str();
}

GradcheckResult gradcheck(Graph& graph, Node loss, const std::vector<Feed<double>>& values,
                          const std::vector<Feed<double>>& feeds, GradcheckOptions options) {
  graph.check_owns(loss, "gradcheck");
  std::vector<Node> checked;
  for (const auto& v : values) checked.push_back(v.node);
  const std::vector<Node> grads = gradients(loss, checked);

  // Checked inputs are fed from copies that the finite differences perturb.
  std::vector<Matrix<double>> input_copies;
  input_copies.reserve(values.size());
  Executor<double> ex(graph, {.threads = 1});
  std::vector<std::size_t> copy_of(values.size(), SIZE_MAX);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].node.kind() == NodeKind::parameter) {
      ex.set(values[i].node, values[i].value);
    } else if (values[i].node.kind() == NodeKind::input) {
      copy_of[i] = input_copies.size();
      input_copies.emplace_back(values[i].value);
    } else {
      throw GraphError("gradcheck: '" + values[i].node.name() +
                       "' is neither a parameter nor an input; only those can be checked");
    }
  }
  std::vector<Feed<double>> all_feeds(feeds.begin(), feeds.end());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (copy_of[i] != SIZE_MAX) all_feeds.push_back({values[i].node, input_copies[copy_of[i]]});
  }

  const std::vector<Matrix<double>> analytic = ex.run(all_feeds, grads);
  auto loss_now = [&] { return ex.run(all_feeds, {loss})[0](0, 0); };

  GradcheckResult result;
  for (std::size_t i = 0; i < values.size(); ++i) {
    Matrix<double>& x = copy_of[i] == SIZE_MAX ? ex.parameter(values[i].node)
                                                : input_copies[copy_of[i]];
    GradcheckEntry worst;
    worst.name = values[i].node.name();
    double worst_margin = -INFINITY;
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const double saved = x(r, c);
        x(r, c) = saved + options.eps;
        const double up = loss_now();
        x(r, c) = saved - options.eps;
        const double down = loss_now();
        x(r, c) = saved;
        const double numeric = (up - down) / (2 * options.eps);
        const double a = analytic[i](r, c);
        const double err = std::abs(a - numeric);
        const double allowed = options.atol + options.rtol * std::abs(numeric);
        // NaN fails: the comparison below is false for it.
        const bool ok = err <= allowed;
        const double margin = std::isnan(err) ? INFINITY : err - allowed;
        if (margin > worst_margin) {
          worst_margin = margin;
          worst.row = r;
          worst.col = c;
          worst.analytic = a;
          worst.numeric = numeric;
          worst.abs_error = err;
        }
        if (!ok) worst.ok = false;
      }
    }
    result.ok = result.ok && worst.ok;
    result.entries.push_back(worst);
  }
  return result;
}

}  // namespace dagrad
