// RuleSet: the masking rules, loaded once from JSON files and shared immutably as
// std::shared_ptr<const RuleSet> (swap the pointer to reload). Every method is const and
// thread-safe. See docs/rules.md for the file syntax; this header is the proxy's API.
//
// Typical use by the proxy:
//   LoadResult r = LoadRules({"masking-rules/"}, {.keys = key_ring});
//   if (!r.ok()) { for (auto& e : r.errors) log(e.ToString()); exit(1); }
//   // after authentication, with every role the login is a (transitive) member of,
//   // including the login itself:
//   std::shared_ptr<const Policy> p = r.rules->Resolve(roles);
//   // per result column, when compiling a RowDescription:
//   ColumnRule c = p->Lookup("crm", "members", "phone");
//   c.transform->Apply(...);   // c.filter tells the guard how the column may be filtered
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/mask/transforms.h"
#include "pgveil/rules/diagnostic.h"
#include "pgveil/rules/keys.h"

namespace pgveil::rules {

// How a column may be used in WHERE / JOIN / GROUP BY / ORDER BY / HAVING / aggregates.
enum class Filter {
  kDeny,       // not at all (default for every masked column)
  kAligned,    // only compared with constants on the transform's boundaries (bucket
               // bounds, band edges, truncation units)
  kPseudonym,  // equality / IN / joins with pseudonyms, translated back by the guard
  kAllow,      // freely (default for `show`)
};
std::string_view FilterName(Filter f);

// Where a column's rule came from.
enum class RuleOrigin {
  kUnmasked,            // an unmasked policy: everything shown
  kColumn,              // the column's own rule for the policy (or an ancestor)
  kType,                // the column's semantic type
  kRelationDefault,     // the relation's "default" (column not listed, or no rule for it)
  kUnlistedColumn,      // listed relation, nothing applies: NULL
  kUndeclaredRelation,  // relation not in the rules: "unlisted_relations", else NULL
  kCombined,            // several masked policies disagreed: NULL (see Resolve)
};

struct ColumnRule {
  mask::TransformPtr transform;  // never null
  Filter filter = Filter::kDeny;
  RuleOrigin origin = RuleOrigin::kUndeclaredRelation;
  std::string type_name;  // the semantic type, if the column names one
  std::string spec;       // canonical description, e.g. `partial{"keep_last":4}`
};

// One policy, or the combination of several (see RuleSet::Resolve).
class Policy {
 public:
  struct Data;
  explicit Policy(std::vector<std::shared_ptr<const Data>> parts);
  ~Policy();

  // The policy's name; "a+b" for a combination.
  const std::string& name() const { return name_; }
  bool unmasked() const { return unmasked_; }

  // The rule for a column (names as in the catalog, case-sensitive). Never fails: a
  // column or relation the rules do not cover gets NULL with filter deny for a masked
  // policy, `show`/allow for an unmasked one.
  ColumnRule Lookup(std::string_view schema, std::string_view table, std::string_view column) const;

  // True if the relation is listed in the rules (columns or a default).
  bool DeclaresRelation(std::string_view schema, std::string_view table) const;

 private:
  std::vector<std::shared_ptr<const Data>> parts_;
  std::string name_;
  bool unmasked_ = false;
};

struct ColumnRef {
  std::string schema, table, column;
  std::string file, pointer;   // where the rules list it
  uint32_t declared_type = 0;  // from "pg_type", 0 if not declared
};

struct RelationRef {
  std::string schema, table;
  std::string file, pointer;
  bool has_default = false;
};

class RuleSet {
 public:
  struct Data;
  explicit RuleSet(std::unique_ptr<Data> data);
  ~RuleSet();

  // The policy for a login that is a member (directly or transitively; the login's own
  // role included) of `roles`:
  //  1. the policies that name any of these roles are the candidates;
  //  2. none: the `default` policy (always masked);
  //  3. if any candidate is masked, the unmasked candidates are ignored; one masked
  //     candidate applies as is; several are combined column by column: where they all
  //     give the same rule it applies (with the narrowest of their filters), otherwise
  //     the column is NULL with filter deny. So an extra masked role never widens what a
  //     login sees, and the result does not depend on the order of roles;
  //  4. only unmasked candidates: unmasked.
  std::shared_ptr<const Policy> Resolve(const std::vector<std::string>& roles) const;

  // A policy by name, or nullptr.
  std::shared_ptr<const Policy> FindPolicy(std::string_view name) const;
  std::vector<std::string> PolicyNames() const;
  // Every role named by some policy (for checking that they exist).
  std::vector<std::string> Roles() const;
  // The roles a policy names, in file order (empty for `default`).
  std::vector<std::string> PolicyRoles(std::string_view policy) const;
  // Where a policy is defined: {file, JSON pointer}; empty strings if unknown.
  std::pair<std::string, std::string> PolicyLocation(std::string_view policy) const;

  // Every column listed in the rules, and every listed relation, for catalog resolution.
  const std::vector<ColumnRef>& Columns() const;
  const std::vector<RelationRef>& Relations() const;

  std::shared_ptr<const KeyRing> keys() const;

 private:
  std::unique_ptr<Data> data_;
};

struct LoadOptions {
  // Keys for hash/pseudonym rules. Required unless allow_missing_keys (offline checks),
  // in which case transforms are built with a placeholder key and a warning is given.
  std::shared_ptr<const KeyRing> keys;
  bool allow_missing_keys = false;
  // "today" for age_band (days since 2000-01-01); empty: the system clock.
  std::function<int32_t()> today;
};

struct LoadResult {
  std::shared_ptr<const RuleSet> rules;  // null if there are errors
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return rules != nullptr; }
};

// Loads and merges rules files. Each path is a file or a directory (its *.json files,
// non-recursively, in name order). Reports every error found, not only the first.
LoadResult LoadRules(const std::vector<std::string>& paths, const LoadOptions& options);

// Same, from in-memory (file name, content) pairs.
LoadResult LoadRulesFromStrings(const std::vector<std::pair<std::string, std::string>>& files,
                                const LoadOptions& options);

}  // namespace pgveil::rules
