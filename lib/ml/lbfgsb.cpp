// The loop of scipy 1.10's _minimize_lbfgsb around Debian's L-BFGS-B 3.0,
// the library Debian's scipy itself calls: the same stopping rules, counts
// and messages, so scikit-learn's numbers can be matched to the last digits.
#include "lbfgsb.hpp"

#include <dagrad/core/error.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <limits>

namespace dagrad {

namespace {

// L-BFGS-B's Fortran 77 driver (no C header ships): every argument by
// address; `task` and `csave` are CHARACTER*60, whose lengths gfortran
// passes by value after the other arguments.
using Setulb = void (*)(const int* n, const int* m, double* x, const double* l, const double* u,
                        const int* nbd, double* f, double* g, const double* factr, const double* pgtol,
                        double* wa, int* iwa, char* task, const int* iprint, char* csave, int* lsave,
                        int* isave, double* dsave, std::size_t task_length, std::size_t csave_length);
// Fortran's FLUSH statement in libgfortran; a null unit flushes every unit.
using FortranFlush = void (*)(const int* unit);

struct Library {
  Setulb setulb;
  FortranFlush flush;  // null if libgfortran is not the runtime
};

// liblbfgsb is opened at the first lbfgs fit, not linked: it brings the
// system BLAS, and OpenBLAS starts its threads when loaded, before main,
// where they would take signals that programs block for their own threads
// (the playground's SIGINT) and sit beside TBB's in every dagrad program.
const Library& library() {
  static const Library lib = [] {
    void* handle = dlopen("liblbfgsb.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      throw Error(std::string("solver='lbfgs' needs L-BFGS-B 3.0 (Debian: apt-get install liblbfgsb-dev): ") +
                  dlerror());
    }
    const auto setulb = reinterpret_cast<Setulb>(dlsym(handle, "setulb_"));
    if (!setulb) throw Error("solver='lbfgs': liblbfgsb.so.0 has no setulb_");
    // Searched in the library's own dependencies, where libgfortran is.
    return Library{setulb, reinterpret_cast<FortranFlush>(dlsym(handle, "_gfortran_flush_i4"))};
  }();
  return lib;
}

constexpr std::size_t text_length = 60;

// A Fortran CHARACTER*60: the text, blank-padded.
void set_text(char* field, const std::string& text) {
  std::fill(field, field + text_length, ' ');
  std::copy_n(text.begin(), std::min(text.size(), text_length), field);
}

bool starts_with(const char* field, const char* prefix) {
  return std::string_view(field, text_length).starts_with(prefix);
}

std::string trimmed(const char* field) {
  std::string s(field, text_length);
  s.erase(s.find_last_not_of(std::string(" \0", 2)) + 1);
  return s;
}

// The library prints (iprint >= 0) through Fortran's unit 6, buffered apart
// from C's stdout. Both are flushed around each call so that the lines keep
// their place among the program's own.
void flush_fortran_output() {
  if (library().flush) library().flush(nullptr);
}

}  // namespace

LbfgsbResult lbfgsb_minimize(std::vector<double>& x,
                             const std::function<double(std::span<const double>, std::span<double>)>& f,
                             const LbfgsbOptions& o) {
  if (x.empty() || x.size() > std::size_t(std::numeric_limits<int>::max() / (2 * o.maxcor + 5))) {
    throw Error("L-BFGS-B: " + std::to_string(x.size()) + " variables is outside what the solver takes");
  }
  const Setulb setulb = library().setulb;
  const int n = static_cast<int>(x.size()), m = o.maxcor;
  const std::size_t nn = x.size(), mm = static_cast<std::size_t>(m);
  // scipy: factr = ftol / eps, so that the library's test is ftol itself.
  const double factr = o.ftol / std::numeric_limits<double>::epsilon(), pgtol = o.gtol;
  const std::vector<double> lower(nn, 0.0), upper(nn, 0.0);
  const std::vector<int> nbd(nn, 0);  // 0: unbounded
  std::vector<double> g(nn, 0.0), wa(2 * mm * nn + 5 * nn + 11 * mm * mm + 8 * mm, 0.0);
  std::vector<int> iwa(3 * nn, 0), lsave(4, 0), isave(44, 0);
  std::vector<double> dsave(29, 0.0);
  char task[text_length], csave[text_length];
  set_text(task, "START");
  set_text(csave, "");

  // scipy's ScalarFunction evaluates once per distinct x: a request at the
  // last point reuses its f and g.
  std::vector<double> last_x, last_g;
  double last_f = 0;
  int nit = 0, nfev = 0;
  while (true) {
    // scipy hands the library a fresh copy of f each call, so the library's
    // own writes to f (restoring it after a failed line search) are not
    // what scipy reports: fun is the last evaluation.
    double f_arg = last_f;
    if (o.iprint >= 0) {
      std::cout.flush();
      std::fflush(stdout);
    }
    setulb(&n, &m, x.data(), lower.data(), upper.data(), nbd.data(), &f_arg, g.data(), &factr, &pgtol,
            wa.data(), iwa.data(), task, &o.iprint, csave, lsave.data(), isave.data(), dsave.data(),
            text_length, text_length);
    if (o.iprint >= 0) flush_fortran_output();
    if (starts_with(task, "FG")) {
      if (nfev > 0 && x == last_x) {
        g = last_g;
      } else {
        last_f = f(x, g);
        ++nfev;
        last_x = x;
        last_g = g;
      }
    } else if (starts_with(task, "NEW_X")) {
      ++nit;
      if (o.on_iteration) o.on_iteration(nit);
      if (nit >= o.max_iter) {
        set_text(task, "STOP: TOTAL NO. of ITERATIONS REACHED LIMIT");
      } else if (nfev > o.max_fun) {
        set_text(task, "STOP: TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT");
      }
    } else {
      break;
    }
  }
  LbfgsbResult r{.fun = last_f, .nit = nit, .nfev = nfev, .status = 2, .message = trimmed(task)};
  if (r.message.starts_with("CONV")) {
    r.status = 0;
  } else if (nfev > o.max_fun || nit >= o.max_iter) {
    r.status = 1;
  }
  return r;
}

}  // namespace dagrad
