// The instruction sets a portable library (-Dnative=false) carries its hot
// loops for, and the one this process runs: every dispatched table (the
// sparse products, nn's optimizer updates) follows this one choice.
//   switch (detail::isa_in_use()) { case Isa::avx2: ... }
#pragma once

#include <vector>

namespace dagrad::detail {

// In increasing order: each level runs on fewer CPUs than the one before.
// baseline is whatever the library itself was compiled for (SSE2 when
// portable, the build machine's set with -march=native).
enum class Isa { baseline, avx2, avx512 };

// The levels this library was built with that this CPU runs, baseline first.
const std::vector<Isa>& isas_available();

// The level used, chosen once: the last of isas_available(), or the one the
// environment variable DAGRAD_KERNELS names ("baseline", "avx2", "avx512")
// to compare them; a name this library or CPU cannot run is an Error.
Isa isa_in_use();

// "baseline", "avx2", "avx512": the names DAGRAD_KERNELS takes.
const char* isa_name(Isa isa);

// What the level's code was compiled for: "SSE2", "AVX2+FMA", "AVX-512".
const char* isa_description(Isa isa);

// A kernel table's float and double halves (Kernels<T>: a struct of
// function pointers).
template <template <class> class Kernels>
struct TypedKernels {
  Kernels<float> f32;
  Kernels<double> f64;
};

}  // namespace dagrad::detail

// A table of kernels built once per level: its kernels file is compiled in
// namespace baseline, avx2 or avx512, each defining `const Table& getter()`.
// DAGRAD_ISA_BUILDS declares the three in the current namespace;
// DAGRAD_ISA_BUILD(isa, getter) is the one for that level, baseline's in a
// library built without the others (DAGRAD_DISPATCH_AVX2, lib/core/meson.build).
// clang-format off
#define DAGRAD_ISA_BUILDS(Table, getter) \
  namespace baseline { const Table& getter(); } \
  namespace avx2 { const Table& getter(); } \
  namespace avx512 { const Table& getter(); }
// clang-format on
#ifdef DAGRAD_DISPATCH_AVX2
#define DAGRAD_ISA_BUILD(isa, getter)                                     \
  ((isa) == ::dagrad::detail::Isa::avx512 ? avx512::getter()             \
   : (isa) == ::dagrad::detail::Isa::avx2 ? avx2::getter()               \
                                          : baseline::getter())
#else
#define DAGRAD_ISA_BUILD(isa, getter) ((void)(isa), baseline::getter())
#endif
