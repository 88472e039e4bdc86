// L-BFGS-B 3.0 (Byrd, Lu, Nocedal, Zhu), Debian's liblbfgsb, driven as
// scipy.optimize.minimize(method="L-BFGS-B") drives the same library, so
// that MLPClassifier's solver="lbfgs" takes scikit-learn's iterates.
//   LbfgsbResult r = lbfgsb_minimize(x, [&](std::span<const double> x, std::span<double> g) { ... return f; },
//                                    {.max_iter = 200, .max_fun = 15000, .gtol = 1e-4});
// A private header of the ml library: only lib/ml/mlp.cpp uses it.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace dagrad {

// scipy 1.10's defaults, which scikit-learn keeps but for gtol, maxiter and
// maxfun.
struct LbfgsbOptions {
  int max_iter = 15000;
  int max_fun = 15000;
  double gtol = 1e-5;                       // on the largest |projected gradient|
  double ftol = 2.2204460492503131e-09;     // on the relative decrease of f
  int maxcor = 10;                          // m, the corrections kept
  int iprint = -1;                          // the library's own printing; -1 none
  // After each iteration (scipy's callback), with its 1-based number.
  std::function<void(int)> on_iteration;
};

struct LbfgsbResult {
  double fun;           // f at the last evaluation, as scipy reports it
  int nit;              // iterations
  int nfev;             // evaluations of f and g
  int status;           // 0 converged, 1 max_iter or max_fun reached, 2 other stop
  std::string message;  // the library's task, e.g. "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH"
};

// Minimizes f over x (no bounds), starting from x and leaving the result
// there. f(x, g) returns f at x and writes its gradient into g.
LbfgsbResult lbfgsb_minimize(std::vector<double>& x,
                             const std::function<double(std::span<const double>, std::span<double>)>& f,
                             const LbfgsbOptions& options);

}  // namespace dagrad
