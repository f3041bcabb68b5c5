// Policy: what one masking policy does to every column of every relation, resolved
// against one catalog snapshot. Built once per (policy, rules version, snapshot version)
// and shared by all sessions under that policy as std::shared_ptr<const Policy>.
//
// Fail closed: a field whose relation is unknown (table OID 0: an expression; or a
// relation the snapshot does not hold) is masked to NULL by a masked policy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "pgveil/catalog/snapshot.h"
#include "pgveil/mask/transform.h"

namespace pgveil::policy {

enum class Action : uint8_t {
  kPass,       // the value as stored
  kNull,       // NULL, type kept
  kTransform,  // the transform's output
};

// How a protected column may be used outside a plain projection (WHERE, JOIN, GROUP BY,
// ORDER BY, aggregates...): the rule's `filter` setting, enforced by the query guard.
enum class FilterUse : uint8_t {
  kDeny,       // not at all
  kAligned,    // compared with constants on the transform's boundaries
  kPseudonym,  // equality, IN and joins within one pseudonym domain
  kAllow,      // freely
};

struct ColumnMask {
  Action action = Action::kNull;
  std::shared_ptr<const mask::Transform> transform;  // set for kTransform
  FilterUse filter = FilterUse::kDeny;
  // The rule's canonical description (e.g. `pseudonym{"domain":"member",...}`): two
  // columns with the same spec share a pseudonym domain.
  std::string spec;

  // True when the value reaches a masked session changed (or not at all).
  bool is_protected() const { return action != Action::kPass; }

  // Shared masks: a value as stored (filter allow) and NULL (filter deny).
  static const ColumnMask& Pass();
  static const ColumnMask& Null();
};

// Decides the mask of one column; supplied by the rules adapter.
using ColumnResolver = std::function<ColumnMask(const catalog::Relation&, const catalog::Column&)>;

class Policy {
 public:
  // A policy that masks nothing: sessions under it take the byte-exact fast path.
  static std::shared_ptr<const Policy> Unmasked(std::string name);

  // A masked policy: every column of every relation in `snapshot` resolved once.
  static std::shared_ptr<const Policy> Masked(std::string name,
                                              std::shared_ptr<const catalog::Snapshot> snapshot,
                                              const ColumnResolver& resolve);

  // A masked policy that knows no relation: every field is NULL. For a session whose
  // policy can no longer be resolved.
  static std::shared_ptr<const Policy> MaskEverything(std::string name);

  const std::string& name() const { return name_; }
  bool masked() const { return masked_; }

  // The mask of a result field with the given provenance.
  const ColumnMask& ForField(uint32_t table_oid, int16_t attnum) const;
  // The mask of a column named by the query guard's lineage (same as ForField).
  const ColumnMask& ForColumn(uint32_t table_oid, int16_t attnum) const {
    return ForField(table_oid, attnum);
  }
  // Whether the snapshot this policy was built on knows the relation.
  bool KnowsRelation(uint32_t table_oid) const;
  const catalog::Snapshot* snapshot() const { return snapshot_.get(); }

 private:
  Policy() = default;
  static uint64_t Key(uint32_t oid, int16_t attnum) {
    return (uint64_t{oid} << 16) | static_cast<uint16_t>(attnum);
  }

  std::string name_;
  bool masked_ = true;
  std::shared_ptr<const catalog::Snapshot> snapshot_;
  std::unordered_map<uint64_t, ColumnMask> columns_;
};

}  // namespace pgveil::policy
