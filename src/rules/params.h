// One rule (a transform with its parameters and a filter) from its JSON node.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "pgveil/rules/rule_set.h"

namespace pgveil::rules {

struct CompiledRule {
  mask::TransformPtr transform;
  std::string transform_name;
  Filter filter = Filter::kDeny;
  std::string spec;  // transform name + canonical JSON of its parameters
};

struct BuildContext {
  const LoadOptions* options = nullptr;
  std::vector<Diagnostic>* errors = nullptr;
  std::vector<Diagnostic>* warnings = nullptr;
  std::set<std::string> placeholder_keys_reported;
  std::map<std::string, std::shared_ptr<const mask::Redactor>> redactors;  // by spec
};

// Builds the rule at `pointer` in `file`: a transform name ("show") or an object
// {"transform": ..., "filter": ..., params...}. Null on error (diagnostics added).
std::shared_ptr<const CompiledRule> BuildRule(const nlohmann::json& node, const std::string& file,
                                              const std::string& pointer, BuildContext* ctx);

// Names of every transform, for suggestions and the schema.
const std::vector<std::string>& TransformNames();

// JSON pointer escaping of one reference token (RFC 6901).
std::string PointerToken(std::string_view token);

}  // namespace pgveil::rules
