// Which instruction set dagrad's hot loops use in this process: a portable
// build (-Dnative=false) carries several and picks the best the CPU runs.
//   std::cout << "kernels: " << dagrad::kernel_isa() << "\n";
#pragma once

#include <string>

namespace dagrad {

// "AVX2+FMA, chosen at run time (built: SSE2, AVX2+FMA)", or
// "AVX-512, compiled in" for a library built with -march=native.
std::string kernel_isa();

}  // namespace dagrad
