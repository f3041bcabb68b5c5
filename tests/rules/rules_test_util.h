#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pgveil/rules/rule_set.h"

namespace pgveil::rules::testing {

inline std::shared_ptr<const KeyRing> TestKeys() {
  std::vector<Diagnostic> errors;
  auto ring = KeyRing::Parse(
      R"({"keys": {"crm": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                   "other": "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}})",
      "test-keys.json", &errors);
  EXPECT_TRUE(errors.empty());
  return ring;
}

inline LoadResult Load(const std::string& json) {
  return LoadRulesFromStrings({{"r.json", json}}, {.keys = TestKeys()});
}

inline std::string Join(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.ToString() + "\n";
  return s;
}

// Applies a rule's transform to a text value; "NULL" for a NULL result, "ERROR" on error.
inline std::string ApplyText(const ColumnRule& r, uint32_t type, const std::string& v) {
  std::string out;
  bool is_null;
  if (!r.transform->Apply(type, mask::Format::kText, v, &out, &is_null).ok()) return "ERROR";
  return is_null ? "NULL" : out;
}

}  // namespace pgveil::rules::testing
