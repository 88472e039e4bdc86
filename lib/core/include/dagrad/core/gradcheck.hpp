// Compares autodiff gradients with central finite differences in double
// precision, as PyTorch's gradcheck does; a teaching tool as much as a test.
//   GradcheckResult r = gradcheck(g, loss, {{w, W}}, {{x, X}});
//   if (!r.ok) std::cout << r.report();
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>

#include <string>
#include <vector>

namespace dagrad {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

// The worst element of one checked tensor.
struct GradcheckEntry {
  std::string name;
  Dim row = 0, col = 0;
  double analytic = 0, numeric = 0;
  double abs_error = 0;
  bool ok = true;  // |analytic - numeric| <= atol + rtol * |numeric| everywhere
};

struct GradcheckResult {
  bool ok = true;
  std::vector<GradcheckEntry> entries;  // one per checked node, in order
  std::string report() const;
};

// `values` gives a value to each node checked (parameters or inputs); `feeds`
// the other inputs. The loss must be 1x1. Adds gradient nodes to the graph.
GradcheckResult gradcheck(Graph& graph, Node loss,
                          const std::vector<Feed<double>>& values,
                          const std::vector<Feed<double>>& feeds,
                          GradcheckOptions options = {});

}  // namespace dagrad
