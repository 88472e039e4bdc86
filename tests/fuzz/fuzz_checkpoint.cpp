// libFuzzer target: an nn::Trainer checkpoint, restored then trained one epoch (dagrad_fuzz::checkpoint),
// mutated record by record and encoded again with valid checksums
// (records.hpp), so that inputs reach the checks on what records mean.
#include "records.hpp"

DAGRAD_FUZZ_RECORDS_TARGET(dagrad_fuzz::checkpoint)
