// Policy lookup and policy resolution (see rule_set.h for the documented rules).
#include <algorithm>
#include <set>

#include "rules/data.h"

namespace pgveil::rules {

std::string_view FilterName(Filter f) {
  switch (f) {
    case Filter::kDeny:
      return "deny";
    case Filter::kAligned:
      return "aligned";
    case Filter::kPseudonym:
      return "pseudonym";
    case Filter::kAllow:
      return "allow";
  }
  return "deny";
}

namespace {

ColumnRule NullRule(RuleOrigin origin) {
  return ColumnRule{mask::MakeNull(), Filter::kDeny, origin, "", "null"};
}

ColumnRule LookupOne(const Policy::Data& d, std::string_view schema, std::string_view table,
                     std::string_view column) {
  if (d.unmasked)
    return ColumnRule{mask::MakeShow(), Filter::kAllow, RuleOrigin::kUnmasked, "", "show"};
  auto rel = d.relations.find(RelationKey(schema, table));
  if (rel == d.relations.end()) {
    return d.unlisted ? *d.unlisted : NullRule(RuleOrigin::kUndeclaredRelation);
  }
  auto col = rel->second.columns.find(std::string(column));
  if (col != rel->second.columns.end()) return col->second;
  if (rel->second.default_rule) return *rel->second.default_rule;
  return NullRule(RuleOrigin::kUnlistedColumn);
}

// The narrowest filter that all of `filters` permit.
Filter Narrowest(const std::vector<Filter>& filters) {
  std::set<Filter> s(filters.begin(), filters.end());
  s.erase(Filter::kAllow);
  if (s.empty()) return Filter::kAllow;
  if (s.size() == 1) return *s.begin();
  return Filter::kDeny;  // e.g. aligned and pseudonym: nothing both allow
}

}  // namespace

Policy::Policy(std::vector<std::shared_ptr<const Data>> parts) : parts_(std::move(parts)) {
  std::sort(parts_.begin(), parts_.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  for (const auto& p : parts_) name_ += (name_.empty() ? "" : "+") + p->name;
  unmasked_ = parts_.size() == 1 && parts_[0]->unmasked;
}

Policy::~Policy() = default;

ColumnRule Policy::Lookup(std::string_view schema, std::string_view table,
                          std::string_view column) const {
  if (parts_.size() == 1) return LookupOne(*parts_[0], schema, table, column);
  std::vector<ColumnRule> rules;
  for (const auto& p : parts_) rules.push_back(LookupOne(*p, schema, table, column));
  std::vector<Filter> filters;
  for (const auto& r : rules) {
    if (r.spec != rules[0].spec) return NullRule(RuleOrigin::kCombined);
    filters.push_back(r.filter);
  }
  ColumnRule r = rules[0];
  r.filter = Narrowest(filters);
  return r;
}

bool Policy::DeclaresRelation(std::string_view schema, std::string_view table) const {
  const std::string key = RelationKey(schema, table);
  for (const auto& p : parts_) {
    if (p->relations.count(key)) return true;
  }
  return false;
}

RuleSet::RuleSet(std::unique_ptr<Data> data) : data_(std::move(data)) {}
RuleSet::~RuleSet() = default;

std::shared_ptr<const Policy> RuleSet::Resolve(const std::vector<std::string>& roles) const {
  const std::set<std::string_view> member(roles.begin(), roles.end());
  std::vector<std::shared_ptr<const Policy::Data>> masked, unmasked;
  for (const auto& [name, d] : data_->policy_data) {
    const bool applies = std::any_of(d->roles.begin(), d->roles.end(),
                                     [&](const std::string& r) { return member.count(r) != 0; });
    if (!applies) continue;
    (d->unmasked ? unmasked : masked).push_back(d);
  }
  if (masked.empty() && unmasked.empty()) return data_->policies.at("default");
  if (masked.empty()) return data_->policies.at(unmasked.front()->name);
  if (masked.size() == 1) return data_->policies.at(masked.front()->name);
  return std::make_shared<Policy>(std::move(masked));
}

std::shared_ptr<const Policy> RuleSet::FindPolicy(std::string_view name) const {
  auto it = data_->policies.find(std::string(name));
  return it == data_->policies.end() ? nullptr : it->second;
}

std::vector<std::string> RuleSet::PolicyNames() const {
  std::vector<std::string> names;
  for (const auto& [n, p] : data_->policies) names.push_back(n);
  return names;
}

std::vector<std::string> RuleSet::Roles() const {
  std::set<std::string> roles;
  for (const auto& [n, d] : data_->policy_data) roles.insert(d->roles.begin(), d->roles.end());
  return {roles.begin(), roles.end()};
}

std::vector<std::string> RuleSet::PolicyRoles(std::string_view policy) const {
  auto it = data_->policy_data.find(std::string(policy));
  return it == data_->policy_data.end() ? std::vector<std::string>{} : it->second->roles;
}

std::pair<std::string, std::string> RuleSet::PolicyLocation(std::string_view policy) const {
  auto it = data_->policy_data.find(std::string(policy));
  if (it == data_->policy_data.end()) return {};
  return {it->second->file, it->second->pointer};
}

const std::vector<ColumnRef>& RuleSet::Columns() const { return data_->columns; }
const std::vector<RelationRef>& RuleSet::Relations() const { return data_->relations; }
std::shared_ptr<const KeyRing> RuleSet::keys() const { return data_->keys; }

}  // namespace pgveil::rules
