// libFuzzer target: the graph-file reader on arbitrary bytes, as they are and
// with their checksums rewritten so mutations reach the checks behind them.
#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    dagrad_fuzz::graph({data, size});
  } catch (const dagrad::Error&) {
  }
  std::vector<std::uint8_t> fixed(data, data + size);
  dagrad_fuzz::fix_checksums(fixed);
  // An input whose checksums were right already has just run as it is.
  if (std::equal(fixed.begin(), fixed.end(), data)) return 0;
  try {
    dagrad_fuzz::graph(fixed);
  } catch (const dagrad::Error&) {
  }
  return 0;
}
