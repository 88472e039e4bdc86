// Precompiled for every test program: parsing doctest, Eigen and dagrad's
// headers once instead of once per test file keeps a clean build quick.
#include <doctest/doctest.h>

#include <dagrad/dagrad.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>
