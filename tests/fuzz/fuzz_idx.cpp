// libFuzzer target: the IDX reader (plain and gzip) on arbitrary bytes.
#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dagrad_fuzz::feed(dagrad_fuzz::idx, {data, size});
  return 0;
}
