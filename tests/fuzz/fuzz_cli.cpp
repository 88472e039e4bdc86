// libFuzzer target: mnist_mlp's command line (one argument per line) through
// ArgParser::parse and MLPParams::set/validate.
#include "entry_points.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dagrad_fuzz::feed(dagrad_fuzz::cli, {data, size});
  return 0;
}
