// An immutable picture of the parts of the PostgreSQL catalog that masking needs: every
// user relation (tables, views, materialized views, partitioned and foreign tables) with
// its columns, by OID and by name. Built by Catalog::Load(); shared between sessions and
// threads as std::shared_ptr<const Snapshot> (all methods const, thread-safe).
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
  std::string type_name;       // format_type(), e.g. "character varying(20)"
};

struct Relation {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';                  // pg_class.relkind: r, v, m, p, f
  std::vector<Column> columns;      // attnum > 0, not dropped, in attnum order
  std::string view_definition;      // pg_get_viewdef() for views and materialized views
  const Column* FindColumn(int16_t attnum) const;
  const Column* FindColumn(std::string_view name) const;
};

class Snapshot {
 public:
  Snapshot(std::vector<Relation> relations, int64_t version);

  // nullptr when unknown.
  const Relation* FindRelation(uint32_t oid) const;
  const Relation* FindRelation(std::string_view schema, std::string_view name) const;
  const std::vector<Relation>& relations() const { return relations_; }
  // Increases with every load; used to invalidate caches keyed on a snapshot.
  int64_t version() const { return version_; }

 private:
  std::vector<Relation> relations_;
  std::unordered_map<uint32_t, size_t> by_oid_;
  std::unordered_map<std::string, size_t> by_name_;  // "schema.name"
  int64_t version_;
};

}  // namespace pgveil::catalog
