// Precompiled for the library's sources: Eigen's headers are most of each
// file's parsing time.
#include <Eigen/Core>

#include <dagrad/core/error.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>
