// libFuzzer target: a graph file, loaded then trained one Adam step (dagrad_fuzz::graph_trained),
// mutated record by record and encoded again with valid checksums
// (records.hpp), so that inputs reach the checks on what records mean.
#include "records.hpp"

DAGRAD_FUZZ_RECORDS_TARGET(dagrad_fuzz::graph_trained)
