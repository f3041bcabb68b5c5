#include "tools/tool_rules.h"

#include <ostream>

namespace pgveil::tools {

std::shared_ptr<const rules::RuleSet> LoadToolRules(const std::vector<std::string>& paths,
                                                    const std::string& keys_file, const char* tool,
                                                    std::ostream& err) {
  std::vector<rules::Diagnostic> errors;
  rules::LoadOptions load;
  if (!keys_file.empty()) {
    load.keys = rules::KeyRing::LoadFile(keys_file, &errors);
  } else {
    load.allow_missing_keys = true;
  }
  if (errors.empty()) {
    rules::LoadResult r = rules::LoadRules(paths, load);
    if (r.ok()) return r.rules;
    errors = std::move(r.errors);
  }
  for (const auto& e : errors) err << tool << ": " << e.ToString() << "\n";
  return nullptr;
}

std::vector<std::shared_ptr<const rules::Policy>> MaskedPolicies(const rules::RuleSet& rules) {
  std::vector<std::shared_ptr<const rules::Policy>> out;
  for (const std::string& name : rules.PolicyNames()) {
    auto p = rules.FindPolicy(name);
    if (p && !p->unmasked()) out.push_back(p);
  }
  return out;
}

std::string FirstLine(const std::string& message) {
  size_t nl = message.find('\n');
  return nl == std::string::npos ? message : message.substr(0, nl);
}

}  // namespace pgveil::tools
