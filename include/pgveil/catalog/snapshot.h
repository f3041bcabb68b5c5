// An immutable picture of the parts of the PostgreSQL catalog that masking needs: every
// user relation (tables, views, materialized views, partitioned and foreign tables) with
// its columns, by OID and by name. Built by Catalog::Load(); shared between sessions and
// threads as std::shared_ptr<const Snapshot> (all methods const, thread-safe).
//
// Pointers returned by the Find*() methods point into the snapshot and live as long as
// the snapshot does; hold the shared_ptr, not just the pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgveil::catalog {

struct Column {
  std::string name;
  int16_t attnum = 0;
  uint32_t type_oid = 0;       // the column's declared type (may be a domain)
  uint32_t base_type_oid = 0;  // the domain's base type, or type_oid
  int32_t typmod = -1;
  std::string type_name;  // format_type(), e.g. "character varying(20)"
  // The typmod PostgreSQL reports in a RowDescription for this column: for a domain,
  // the modifier of the innermost domain (as getBaseTypeAndTypmod() computes it), else
  // `typmod`. E.g. a domain over varchar(20): typmod -1, base_typmod 24.
  int32_t base_typmod = -1;
  bool generated = false;  // GENERATED ALWAYS AS (...) STORED: not in COPY's default list
};

struct Relation {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';              // pg_class.relkind: r, v, m, p, f
  std::vector<Column> columns;  // attnum > 0, not dropped, in attnum order
  std::string view_definition;  // pg_get_viewdef() for views and materialized views
  // nullptr when the relation has no such (live) column. Names match exactly, as stored
  // in pg_attribute (no case folding, no quotes).
  const Column* FindColumn(int16_t attnum) const;
  const Column* FindColumn(std::string_view name) const;
};

class Snapshot {
 public:
  // Sorts each relation's columns by attnum. Relations keep their order; if two share
  // an OID or a (schema, name), the first one is found.
  Snapshot(std::vector<Relation> relations, int64_t version);

  // nullptr when unknown. Names match exactly, as stored in the catalog.
  const Relation* FindRelation(uint32_t oid) const;
  const Relation* FindRelation(std::string_view schema, std::string_view name) const;
  const std::vector<Relation>& relations() const { return relations_; }
  // Increases with every load; used to invalidate caches keyed on a snapshot.
  int64_t version() const { return version_; }

 private:
  std::vector<Relation> relations_;
  std::unordered_map<uint32_t, size_t> by_oid_;
  // Key: schema + '\0' + name (identifiers cannot hold NUL, so "a.b"."c" and
  // "a"."b.c" stay apart).
  std::unordered_map<std::string, size_t> by_name_;
  int64_t version_;
};

}  // namespace pgveil::catalog
