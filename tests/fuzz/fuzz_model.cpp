// libFuzzer target: the model-file reader on arbitrary bytes, as they are and
// with their checksums rewritten so mutations reach the checks behind them.
#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dagrad_fuzz::feed_as_is_and_fixed(dagrad_fuzz::model, {data, size});
  return 0;
}
