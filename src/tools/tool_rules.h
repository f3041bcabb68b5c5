// Rules loading shared by `pgveil scan` and `pgveil diff`.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "pgveil/rules/rule_set.h"

namespace pgveil::tools {

// Loads `paths` with the key file (or, without one, placeholder keys: pseudonyms and
// hashes are then not the proxy's). Prints diagnostics to `err`; nullptr on error.
std::shared_ptr<const rules::RuleSet> LoadToolRules(const std::vector<std::string>& paths,
                                                    const std::string& keys_file, const char* tool,
                                                    std::ostream& err);

// The masked policies of `rules` (unmasked ones never hide anything).
std::vector<std::shared_ptr<const rules::Policy>> MaskedPolicies(const rules::RuleSet& rules);

// The first line of an exception message from libpq/libpqxx (server messages name
// relations and roles, not values, in the cases the tools meet).
std::string FirstLine(const std::string& message);

}  // namespace pgveil::tools
