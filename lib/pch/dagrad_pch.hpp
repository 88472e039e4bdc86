// Precompiled for the library's sources: Eigen's headers are most of each
// file's parsing time.
#include <Eigen/Core>

#include <dagrad/error.hpp>
#include <dagrad/graph.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>
#include <dagrad/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>
