// The errors dagrad throws. Every message names what went wrong and where:
// the op, the nodes, the shapes, the file or the flag.
#pragma once

#include <stdexcept>
#include <string>

namespace dagrad {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Shapes that do not fit, found when a node is built or when run() sees the feeds.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A graph used wrongly: nodes of two graphs mixed, duplicate names, no gradient path.
class GraphError : public Error {
 public:
  using Error::Error;
};

// A feed or parameter value that is missing or wrong at run time.
class FeedError : public Error {
 public:
  using Error::Error;
};

// A kernel failed while running; the message starts with the node's name.
class ExecutionError : public Error {
 public:
  using Error::Error;
};

// A data file that cannot be read or does not hold what it should; the
// message starts with the file's path.
class DataError : public Error {
 public:
  using Error::Error;
};

}  // namespace dagrad
