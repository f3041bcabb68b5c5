// Name resolution for the guard's walk: the FROM items visible at one query level, and
// the WITH queries visible from it. Internal to the guard.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "guard/walker.h"

namespace pgveil::guard {

// One FROM item: a relation, subquery, CTE or function, by the name it is referred to.
struct Entry {
  std::string name;  // alias, or the relation's name
  std::string schema;
  // A table, view or system catalog written without an alias: the only kind of item a
  // schema-qualified reference (`crm.members.phone`) can name, as in PostgreSQL, which
  // matches such a reference by the relation's OID (not a WITH query, subquery,
  // function or aliased relation of that name).
  bool unaliased_relation = false;
  std::vector<std::string> colnames;
  std::vector<Lineage> cols;
  bool open = false;   // system catalog or function: columns not listed carry open_lineage
  size_t open_at = 0;  // where those columns are: before cols[open_at] (after all if size())
  Lineage open_lineage;
  bool has_protected = false;
  bool function = false;  // a function in FROM: its whole row may be a single value
  char relkind = 0;       // pg_class.relkind for relations of the snapshot
  std::string what;

  // The lineage of the column named `col`, or a value if there is none (the server
  // reports an unknown column).
  Lineage Column(const std::string& col) const {
    for (size_t k = 0; k < colnames.size(); ++k) {
      if (colnames[k] == col) return cols[k];
    }
    return Lineage{};
  }  // for messages: "crm.members", "subquery s", ...
};

// One column of an unqualified `*`, in the order PostgreSQL expands it (a USING join
// puts the merged columns first and lists them once).
struct StarItem {
  std::string name;
  Lineage lineage;
  bool open = false;  // the columns of a system catalog or function, not listed
};

struct Scope {
  const Scope* parent = nullptr;
  std::vector<Entry> entries;
  std::vector<StarItem> star;
};

// The schema of a reference `[schema.]rel.x` given as its names ("" when not written).
inline std::string SchemaOfRef(const std::vector<std::string>& names) {
  return names.size() >= 3 ? names[names.size() - 3] : "";
}

// True when a reference `rel.col` or `schema.rel.col` names FROM item `e`: an
// unqualified `rel` is the item's alias (or relation name), a qualified one only an
// unaliased relation of that schema.
inline bool RefersTo(const Entry& e, const std::string& schema, const std::string& rel) {
  if (schema.empty()) return e.name == rel;
  return e.unaliased_relation && e.name == rel && e.schema == schema;
}

struct CteScope {
  const CteScope* parent = nullptr;
  std::map<std::string, Output> ctes;
  // WITH RECURSIVE: every query of the clause sees every other one, also those not read
  // yet; their names are here until they are.
  std::set<std::string> pending;
  const Output* Find(const std::string& name) const {
    for (const CteScope* s = this; s != nullptr; s = s->parent) {
      auto it = s->ctes.find(name);
      if (it != s->ctes.end()) return &it->second;
      if (s->pending.count(name) != 0) return nullptr;
    }
    return nullptr;
  }
  // True when `name` is a WITH query of a RECURSIVE clause that is not read yet (and no
  // nearer WITH query has the name).
  bool Pending(const std::string& name) const {
    for (const CteScope* s = this; s != nullptr; s = s->parent) {
      if (s->ctes.count(name) != 0) return false;
      if (s->pending.count(name) != 0) return true;
    }
    return false;
  }
};

// Helpers over libpg_query's JSON nodes: {"NodeType": {...fields...}}.
inline std::string_view NodeType(const json& node) { return node.first_key(); }
inline const json& NodeBody(const json& node) { return node.first_value(); }
inline std::string Str(const json& obj, const char* key) {
  const json* v = obj.find(key);
  return v != nullptr && v->is_string() ? std::string(v->str()) : std::string();
}
// The node under `key`, or null (libpg_query leaves out fields with default values).
inline const json& At(const json& obj, const char* key) { return obj[key]; }
// The array under `key`, or an empty one (no copy either way).
inline const json& Arr(const json& obj, const char* key) {
  const json& v = obj[key];
  return v.is_array() ? v : json::Null();
}
inline bool Has(const json& obj, const char* key) {
  const json* v = obj.find(key);
  return v != nullptr && !v->is_null();
}
// The byte span of a plain literal at `pos` of `sql`: a number, or a '...' string
// (standard conforming: only '' escapes) that does not continue in another '...' on a
// later line. False for anything else (E'', U&'', $$...$$).
bool LiteralSpan(std::string_view sql, size_t pos, size_t* len, bool* quoted);

// The type a cast (a TypeName node) names, as CastKeepsValue takes it: the parser's name
// ("int8" for bigint); "\x01" for a type with a length or array bounds, or of a schema
// other than pg_catalog.
std::string CastTypeName(const json& type_name);

// The strings of a name list ([{"String": {"sval": "x"}}, ...]); "*" for A_Star.
std::vector<std::string> Names(const json& list);

// `x.*` or `(expression).*`: in a list that PostgreSQL expands (VALUES, ROW(...), a
// select list) one item that stands for as many values as x has columns, none included.
bool IsStarItem(const json& node);

}  // namespace pgveil::guard
