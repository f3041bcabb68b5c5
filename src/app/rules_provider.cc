#include "app/rules_provider.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "pgveil/catalog/catalog.h"
#include "pgveil/mask/redact.h"
#include "pgveil/rules/keys.h"
#include "pgveil/rules/rule_set.h"

namespace pgveil::app {
namespace {

std::string JoinDiagnostics(const std::vector<rules::Diagnostic>& ds) {
  std::string all;
  for (const auto& d : ds) all += (all.empty() ? "" : "\n") + d.ToString();
  return all;
}

policy::FilterUse ToFilterUse(rules::Filter f) {
  switch (f) {
    case rules::Filter::kAllow:
      return policy::FilterUse::kAllow;
    case rules::Filter::kAligned:
      return policy::FilterUse::kAligned;
    case rules::Filter::kPseudonym:
      return policy::FilterUse::kPseudonym;
    case rules::Filter::kDeny:
      break;
  }
  return policy::FilterUse::kDeny;
}

}  // namespace

policy::ColumnMask MaskOfRule(const rules::ColumnRule& rule) {
  std::string_view name = rule.transform ? rule.transform->Name() : "null";
  policy::FilterUse filter = ToFilterUse(rule.filter);
  if (name == "show") return policy::ColumnMask::Pass();
  if (name == "null") return {policy::Action::kNull, nullptr, filter, "null"};
  return {policy::Action::kTransform, rule.transform, filter, rule.spec};
}

struct RulesPolicyProvider::Impl {
  RulesProviderOptions options;
  std::unique_ptr<catalog::Catalog> catalog;
  std::shared_ptr<const mask::Redactor> scrubber;

  mutable std::mutex mu;  // guards rules, policies
  std::shared_ptr<const rules::RuleSet> rules;
  int64_t policies_snapshot_version = -1;
  std::map<std::string, std::shared_ptr<const policy::Policy>> policies;  // by policy name
  std::atomic<uint64_t> generation{1};

  std::thread refresher;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop = false;
  bool refresh_requested = false;

  Status LoadRulesAndKeys() {
    std::vector<rules::Diagnostic> errors;
    std::shared_ptr<const rules::KeyRing> keys;
    if (!options.keys.empty()) {
      keys = rules::KeyRing::LoadFile(options.keys, &errors);
      if (!keys) return InvalidArgument(JoinDiagnostics(errors));
    }
    rules::LoadOptions lo;
    lo.keys = keys;
    auto r = rules::LoadRules(options.rules, lo);
    if (!r.ok()) return InvalidArgument(JoinDiagnostics(r.errors));
    for (const auto& w : r.warnings)
      spdlog::warn("event=rules_warning detail=\"{}\"", w.ToString());
    std::lock_guard lock(mu);
    rules = r.rules;
    policies.clear();
    return Status::Ok();
  }

  void Bump() {
    generation++;
    CheckCoverage();
  }

  // Logs rule columns that the catalog no longer has (a dropped or renamed column or
  // table): their rules protect nothing until they are fixed.
  std::set<std::string> missing;
  void CheckCoverage() {
    std::shared_ptr<const rules::RuleSet> r;
    {
      std::lock_guard lock(mu);
      r = rules;
    }
    auto snap = catalog->current();
    std::set<std::string> now;
    for (const auto& ref : r->Columns()) {
      const catalog::Relation* rel = snap->FindRelation(ref.schema, ref.table);
      if (rel == nullptr || rel->FindColumn(ref.column) == nullptr) {
        now.insert(ref.schema + "." + ref.table + "." + ref.column);
      }
    }
    std::lock_guard lock(coverage_mu);
    for (const auto& c : now) {
      if (!missing.count(c)) spdlog::warn("event=coverage_lost column={}", c);
    }
    for (const auto& c : missing) {
      if (!now.count(c)) spdlog::info("event=coverage_restored column={}", c);
    }
    missing = std::move(now);
  }
  std::mutex coverage_mu;

  // Catalog refreshes happen here, never on the proxy's event loops: on the timer, and
  // when a session asked for one (a relation its snapshot does not know).
  void RefreshLoop() {
    std::unique_lock lock(stop_mu);
    for (;;) {
      bool requested = stop_cv.wait_for(lock, options.catalog_refresh,
                                        [this] { return stop || refresh_requested; });
      if (stop) return;
      refresh_requested = false;
      lock.unlock();
      int64_t before = catalog->current()->version();
      if (requested) {
        if (catalog->RefreshIfStale())
          spdlog::info("event=catalog_refreshed reason=unknown_relation");
      } else {
        Status st = catalog->Load();
        if (!st.ok()) spdlog::warn("event=catalog_refresh_failed reason=\"{}\"", st.message());
      }
      if (catalog->current()->version() != before) Bump();
      lock.lock();
    }
  }
};

RulesPolicyProvider::RulesPolicyProvider(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RulesPolicyProvider::~RulesPolicyProvider() {
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stop = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->refresher.joinable()) impl_->refresher.join();
}

StatusOr<std::shared_ptr<RulesPolicyProvider>> RulesPolicyProvider::Create(
    RulesProviderOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (impl->options.rules.empty()) return InvalidArgument("no rules given");
  if (impl->options.catalog_conninfo.empty()) {
    return InvalidArgument("rules need a \"catalog\" connection string to resolve columns");
  }
  Status st = impl->LoadRulesAndKeys();
  if (!st.ok()) return st;
  mask::RedactOptions ro;
  ro.detectors = mask::AllDetectors();
  auto scrubber = mask::Redactor::Create(ro);
  if (!scrubber.ok()) return scrubber.status();
  impl->scrubber = *scrubber;
  catalog::CatalogOptions co;
  co.conninfo = impl->options.catalog_conninfo;
  impl->catalog = std::make_unique<catalog::Catalog>(co);
  st = impl->catalog->Load();
  if (!st.ok()) return Unavailable("cannot read the catalog: " + st.message());
  auto provider = std::shared_ptr<RulesPolicyProvider>(new RulesPolicyProvider(std::move(impl)));
  Impl* i = provider->impl_.get();
  i->CheckCoverage();
  i->refresher = std::thread([i] { i->RefreshLoop(); });
  return provider;
}

StatusOr<std::shared_ptr<const policy::Policy>> RulesPolicyProvider::ForLogin(
    const std::string& login) {
  auto roles = impl_->catalog->RolesOf(login);
  if (!roles.ok()) return roles.status();
  auto snapshot = impl_->catalog->current();
  std::lock_guard lock(impl_->mu);
  std::shared_ptr<const rules::Policy> rp = impl_->rules->Resolve(*roles);
  if (rp->unmasked()) return policy::Policy::Unmasked(rp->name());
  if (impl_->policies_snapshot_version != snapshot->version()) {
    impl_->policies.clear();
    impl_->policies_snapshot_version = snapshot->version();
  }
  auto it = impl_->policies.find(rp->name());
  if (it != impl_->policies.end()) return it->second;
  auto p = policy::Policy::Masked(rp->name(), snapshot,
                                  [&rp](const catalog::Relation& rel, const catalog::Column& col) {
                                    return MaskOfRule(rp->Lookup(rel.schema, rel.name, col.name));
                                  });
  impl_->policies.emplace(rp->name(), p);
  return p;
}

std::shared_ptr<const mask::Redactor> RulesPolicyProvider::Scrubber() const {
  return impl_->scrubber;
}

void RulesPolicyProvider::OnUnknownRelations() {
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->refresh_requested = true;
  }
  impl_->stop_cv.notify_all();
}

uint64_t RulesPolicyProvider::generation() const { return impl_->generation.load(); }

Status RulesPolicyProvider::Reload() {
  Status rules_status = impl_->LoadRulesAndKeys();
  if (!rules_status.ok()) {
    spdlog::error("event=reload_failed what=rules detail=\"{}\"", rules_status.message());
  }
  impl_->catalog->ClearMembershipCache();
  Status cat_status = impl_->catalog->Load();
  if (!cat_status.ok()) {
    spdlog::error("event=reload_failed what=catalog reason=\"{}\"", cat_status.message());
  }
  impl_->Bump();
  spdlog::info("event=reloaded rules_ok={} catalog_ok={}", rules_status.ok(), cat_status.ok());
  return rules_status.ok() ? cat_status : rules_status;
}

}  // namespace pgveil::app
