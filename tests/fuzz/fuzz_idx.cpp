// libFuzzer target: the IDX reader (plain and gzip) on arbitrary bytes.
#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    dagrad_fuzz::idx({data, size});
  } catch (const dagrad::Error&) {
  }
  return 0;
}
