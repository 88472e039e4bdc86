// The message of the exception a call throws, for tests that check what an
// error names: fails the test when the call returns.
//   const std::string what = thrown<ShapeError>([&] { matmul(x, w); });
//   CHECK(contains(what, "'w'"));
#pragma once

#include <doctest/doctest.h>

#include <string>

// The what() of the E that f throws. An exception of another type passes
// through, and the test fails on it as on any unexpected exception.
template <class E, class F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("the call returned; it should have thrown");
  return {};
}
