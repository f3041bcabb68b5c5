// RulesPolicyProvider: the proxy's PolicyProvider over the rules files, the key file and
// the catalog side connection. Rules and keys are loaded together and swapped
// atomically (a bad file keeps the old ones); the catalog snapshot is refreshed on a
// timer, on Reload() (SIGHUP) and, rate-limited, when a session meets an unknown table.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pgveil/proxy/policy_provider.h"
#include "pgveil/status.h"

namespace pgveil::rules {
struct ColumnRule;
}

namespace pgveil::app {

// The policy-side mask of one rules column rule (transform, filter setting, spec).
policy::ColumnMask MaskOfRule(const rules::ColumnRule& rule);

struct RulesProviderOptions {
  std::string catalog_conninfo;
  std::vector<std::string> rules;  // files or directories
  std::string keys;                // key file
  std::chrono::milliseconds catalog_refresh{60000};
};

class RulesPolicyProvider : public proxy::PolicyProvider {
 public:
  // Loads rules, keys and the first catalog snapshot; any failure is an error (pgveil
  // does not start without them). Starts the refresh timer thread.
  static StatusOr<std::shared_ptr<RulesPolicyProvider>> Create(RulesProviderOptions options);
  ~RulesPolicyProvider() override;

  StatusOr<std::shared_ptr<const policy::Policy>> ForLogin(const std::string& login) override;
  std::shared_ptr<const mask::Redactor> Scrubber() const override;
  void OnUnknownRelations() override;
  uint64_t generation() const override;

  // SIGHUP: reloads rules and keys (kept on error) and the catalog. Returns the errors.
  Status Reload();

 private:
  struct Impl;
  explicit RulesPolicyProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::app
