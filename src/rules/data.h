// The compiled form of a RuleSet, shared by the loader and the lookup code.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgveil/rules/rule_set.h"

namespace pgveil::rules {

struct RelationTable {
  std::unordered_map<std::string, ColumnRule> columns;
  std::optional<ColumnRule> default_rule;
};

struct Policy::Data {
  std::string name;
  bool unmasked = false;
  std::vector<std::string> roles;
  std::string file, pointer;                                 // where the policy is defined
  std::unordered_map<std::string, RelationTable> relations;  // key: "schema.table"
  std::optional<ColumnRule> unlisted;                        // for undeclared relations
};

struct RuleSet::Data {
  std::map<std::string, std::shared_ptr<const Policy::Data>> policy_data;
  std::map<std::string, std::shared_ptr<const Policy>> policies;
  std::vector<ColumnRef> columns;
  std::vector<RelationRef> relations;
  std::shared_ptr<const KeyRing> keys;
};

inline std::string RelationKey(std::string_view schema, std::string_view table) {
  std::string k(schema);
  k.push_back('.');
  k.append(table);
  return k;
}

}  // namespace pgveil::rules
