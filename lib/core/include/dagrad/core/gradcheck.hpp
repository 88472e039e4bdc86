// Compares autodiff gradients with central finite differences in double
// precision, as PyTorch's gradcheck does; a teaching tool as much as a test.
//   GradcheckResult r = gradcheck(g, loss, {{w, W}}, {{x, X}});
//   if (!r.ok) std::cout << r.report();
#pragma once

#include <dagrad/core/executor.hpp>
#include <dagrad/core/graph.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagrad {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  // Moves every checked value and every feed by a seeded draw from
  // [-nudge, nudge] before checking, off the kinks a fresh network sits on
  // (zero biases, blank pixels, max-pool ties); 0 checks the point as given.
  double nudge = 0;
  std::uint32_t nudge_seed = 1;
};

// An element where the loss has no derivative: the slopes to the left and
// to the right differ (relu at 0, a max-pool tie), and the analytic gradient
// lies between them, as the gradient rule's choice at the kink. Not a
// failure: no finite difference can check it.
struct GradcheckKink {
  Dim row = 0, col = 0;
  double analytic = 0, left = 0, right = 0;
};

// One checked tensor: its worst element off the kinks, and how many failed.
struct GradcheckEntry {
  std::string name;
  Dim row = 0, col = 0;
  double analytic = 0, numeric = 0;
  double abs_error = 0;
  bool ok = true;  // |analytic - numeric| <= atol + rtol * |numeric| at every element off the kinks
  std::size_t elements = 0, failures = 0, kinks = 0;
  std::optional<GradcheckKink> first_kink;
};

struct GradcheckResult {
  bool ok = true;
  std::vector<GradcheckEntry> entries;  // one per checked node, in order
  // A line per checked tensor: "ok" with its count of elements, or "FAILED"
  // with its worst element; and its kinks, if any.
  std::string report() const;
};

// `values` gives a value to each node checked (parameters or inputs); `feeds`
// the other inputs. The loss must be 1x1. Adds gradient nodes to the graph.
GradcheckResult gradcheck(Graph& graph, Node loss,
                          const std::vector<Feed<double>>& values,
                          const std::vector<Feed<double>>& feeds,
                          GradcheckOptions options = {});

}  // namespace dagrad
