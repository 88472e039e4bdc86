// libFuzzer target: an MLP or parameters file, loaded then predicting (dagrad_fuzz::model),
// mutated record by record and encoded again with valid checksums
// (records.hpp), so that inputs reach the checks on what records mean.
#include "records.hpp"

DAGRAD_FUZZ_RECORDS_TARGET(dagrad_fuzz::model)
