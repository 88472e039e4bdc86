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

}  // namespace dagrad::detail
