#include "pgveil/policy/policy.h"

namespace pgveil::policy {
const ColumnMask& ColumnMask::Pass() {
  static const ColumnMask m{Action::kPass, nullptr, FilterUse::kAllow, "show"};
  return m;
}

const ColumnMask& ColumnMask::Null() {
  static const ColumnMask m{Action::kNull, nullptr, FilterUse::kDeny, "null"};
  return m;
}

std::shared_ptr<const Policy> Policy::Unmasked(std::string name) {
  auto p = std::shared_ptr<Policy>(new Policy());
  p->name_ = std::move(name);
  p->masked_ = false;
  return p;
}

std::shared_ptr<const Policy> Policy::Masked(std::string name,
                                             std::shared_ptr<const catalog::Snapshot> snapshot,
                                             const ColumnResolver& resolve) {
  auto p = std::shared_ptr<Policy>(new Policy());
  p->name_ = std::move(name);
  p->masked_ = true;
  p->snapshot_ = std::move(snapshot);
  for (const auto& rel : p->snapshot_->relations()) {
    for (const auto& col : rel.columns) {
      ColumnMask m = resolve(rel, col);
      if (m.action == Action::kTransform && !m.transform) m.action = Action::kNull;
      p->columns_.emplace(Key(rel.oid, col.attnum), std::move(m));
    }
  }
  return p;
}

std::shared_ptr<const Policy> Policy::MaskEverything(std::string name) {
  auto p = std::shared_ptr<Policy>(new Policy());
  p->name_ = std::move(name);
  p->masked_ = true;
  return p;
}

const ColumnMask& Policy::ForField(uint32_t table_oid, int16_t attnum) const {
  if (!masked_) return ColumnMask::Pass();
  if (table_oid == 0 || attnum <= 0) return ColumnMask::Null();
  auto it = columns_.find(Key(table_oid, attnum));
  return it == columns_.end() ? ColumnMask::Null() : it->second;
}

bool Policy::KnowsRelation(uint32_t table_oid) const {
  return snapshot_ && snapshot_->FindRelation(table_oid) != nullptr;
}

}  // namespace pgveil::policy
