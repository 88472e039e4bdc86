// "Did you mean ...?": the candidate nearest to a mistyped word, for flags
// and parameter names alike.
//   if (auto near = closest("--max-iters", flags)) msg += "; did you mean " + *near + "?";
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dagrad {

// The candidate nearest to `word` by edit distance, if it is near enough to
// be a likely typo (a third of the word, at least 2), or extends it.
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dagrad
