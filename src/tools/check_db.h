// The catalog half of `pgveil check --db`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "pgveil/rules/rule_set.h"

namespace pgveil::tools {

// Connects with `conninfo` (libpqxx), checks `rules` against the live catalog, appends
// diagnostics and prints the coverage summary to `out`. A connection failure is one
// error (its message from libpq, which never includes the password).
void CheckDatabase(const rules::RuleSet& rules, const std::string& conninfo,
                   std::vector<rules::Diagnostic>* errors, std::vector<rules::Diagnostic>* warnings,
                   std::ostream& out);

}  // namespace pgveil::tools
