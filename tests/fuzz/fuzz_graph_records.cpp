// libFuzzer target: a graph file, loaded then trained one Adam step (dagrad_fuzz::graph_trained),
// mutated record by record and encoded again with valid checksums
// (records.hpp), so that inputs reach the checks on what records mean.
#include "records.hpp"

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned seed) {
  return dagrad_fuzz::mutate_records(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    dagrad_fuzz::graph_trained({data, size});
  } catch (const dagrad::Error&) {
  }
  return 0;
}
