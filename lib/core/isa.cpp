// Which instruction-set build of the dispatched kernels this process runs,
// and the dense kernels' table and element loops that follow the choice:
// the CPU's features (GCC's __builtin_cpu_supports) against the builds
// lib/meson.build made (DAGRAD_DISPATCH_AVX2 marks a portable library that
// carries the AVX2 and AVX-512 builds), and DAGRAD_KERNELS to force one.
#include <dagrad/core/detail/dense_kernels.hpp>
#include <dagrad/core/detail/elements.hpp>
#include <dagrad/core/detail/isa.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/kernels.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

namespace dagrad::detail {

const std::vector<Isa>& isas_available() {
  static const std::vector<Isa> levels = [] {
    std::vector<Isa> v{Isa::baseline};
#ifdef DAGRAD_DISPATCH_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      v.push_back(Isa::avx2);
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
        v.push_back(Isa::avx512);
      }
    }
#endif
    return v;
  }();
  return levels;
}

Isa isa_in_use() {
  static const Isa chosen = [] {
    const auto& levels = isas_available();
    const char* asked = std::getenv("DAGRAD_KERNELS");
    if (asked == nullptr || *asked == '\0') return levels.back();
    std::string offered;
    for (Isa level : levels) {
      if (std::string_view(asked) == isa_name(level)) return level;
      offered += (offered.empty() ? "" : ", ") + std::string(isa_name(level));
    }
    throw Error(std::string("DAGRAD_KERNELS='") + asked + "': this library on this CPU offers " + offered);
  }();
  return chosen;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::baseline: break;
  }
  return "baseline";
}

const char* isa_description(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "AVX2+FMA";
    case Isa::avx512: return "AVX-512";
    case Isa::baseline: break;
  }
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "AVX2+FMA";
#else
  return "SSE2";
#endif
}

const DenseTable& dense_table_in_use() {
  static const DenseTable& table = DAGRAD_ISA_BUILD(isa_in_use(), dense_kernels);
  return table;
}

namespace {

template <class T>
void scale_into(const ConstView<T>& x, T factor, View<T> out) {
  const auto scale = dense_kernels<T>().scale;
  parallel_elements(out.size(), [&](std::int64_t first, std::int64_t n) {
    scale(x.data() + first, factor, out.data() + first, n);
  });
}

}  // namespace

void scale_elements(const ConstView<float>& x, float factor, View<float> out) { scale_into(x, factor, out); }
void scale_elements(const ConstView<double>& x, double factor, View<double> out) { scale_into(x, factor, out); }
void scale_range(const float* x, float factor, float* out, std::int64_t n) {
  dense_kernels<float>().scale(x, factor, out, n);
}
void scale_range(const double* x, double factor, double* out, std::int64_t n) {
  dense_kernels<double>().scale(x, factor, out, n);
}

}  // namespace dagrad::detail

namespace dagrad {

std::string kernel_isa() {
  using namespace detail;
  const auto& levels = isas_available();
  std::string s = isa_description(isa_in_use());
  if (levels.size() == 1) {
#ifdef DAGRAD_DISPATCH_AVX2
    return s + ", the only set this CPU runs of those built";
#else
    return s + ", compiled in";
#endif
  }
  s += ", chosen at run time (built: ";
  for (std::size_t i = 0; i < levels.size(); ++i) s += (i ? ", " : "") + std::string(isa_description(levels[i]));
  return s + ")";
}

}  // namespace dagrad
