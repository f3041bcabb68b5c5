// Diagnostic: one problem found in a rules or key file, located precisely.
//
// Printed as `FILE: /json/pointer: message` (RFC 6901 pointer; "" for the whole file).
// Messages never contain key material or values from the database.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgveil::rules {

struct Diagnostic {
  std::string file;
  std::string pointer;
  std::string message;
  bool warning = false;

  std::string ToString() const {
    return file + ": " + (pointer.empty() ? "/" : pointer) + ": " + (warning ? "warning: " : "") +
           message;
  }
};

// The candidate closest to `word` by edit distance, if close enough to be a likely typo
// (distance <= max(1, len/3)); empty otherwise.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean \"x\"?)" or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace pgveil::rules
