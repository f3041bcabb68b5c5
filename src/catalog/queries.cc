#include "catalog/queries.h"

#include <pqxx/pqxx>
#include <unordered_map>

namespace pgveil::catalog {
namespace {

// Which relations a snapshot holds; shared by both Load queries so that they agree.
// Every name is schema-qualified, and the patterns need no backslashes (so
// standard_conforming_strings cannot change their meaning).
#define PGVEIL_USER_RELATIONS                                  \
  "c.relkind IN ('r', 'v', 'm', 'p', 'f')"                     \
  " AND c.relpersistence <> 't'"                               \
  " AND n.nspname NOT IN ('pg_catalog', 'information_schema')" \
  " AND n.nspname !~ '^pg_(toast|temp_)'"

constexpr char kRelationsSql[] =
    "SELECT c.oid, n.nspname, c.relname, c.relkind,"
    "       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END"
    "  FROM pg_catalog.pg_class c"
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE " PGVEIL_USER_RELATIONS " ORDER BY n.nspname, c.relname";

// `bases` follows each domain down its chain of domains (a domain over a domain) to the
// first type that is not one, keeping the modifier of the last domain on the way, as the
// server's getBaseTypeAndTypmod() does for RowDescription.
constexpr char kColumnsSql[] =
    "WITH RECURSIVE chain(oid, base, basemod) AS ("
    "   SELECT t.oid, t.typbasetype, t.typtypmod FROM pg_catalog.pg_type t"
    "    WHERE t.typtype = 'd'"
    "   UNION ALL"
    "   SELECT chain.oid, t.typbasetype, t.typtypmod"
    "     FROM chain JOIN pg_catalog.pg_type t ON t.oid = chain.base"
    "    WHERE t.typtype = 'd'"
    " ), bases AS ("
    "   SELECT chain.oid, chain.base, chain.basemod FROM chain"
    "    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t"
    "                       WHERE t.oid = chain.base AND t.typtype = 'd')"
    " )"
    " SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,"
    "        pg_catalog.format_type(a.atttypid, a.atttypmod),"
    "        COALESCE(b.base, a.atttypid),"
    "        CASE WHEN b.oid IS NULL THEN a.atttypmod ELSE b.basemod END"
    "   FROM pg_catalog.pg_attribute a"
    "   JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    "   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "   LEFT JOIN bases b ON b.oid = a.atttypid"
    "  WHERE " PGVEIL_USER_RELATIONS
    "    AND a.attnum > 0 AND NOT a.attisdropped"
    "  ORDER BY a.attrelid, a.attnum";

#undef PGVEIL_USER_RELATIONS

// UNION (not UNION ALL) ends the recursion even if pg_auth_members ever held a cycle.
constexpr char kRolesSql[] =
    "WITH RECURSIVE m(oid) AS ("
    "   SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = $1"
    "   UNION"
    "   SELECT a.roleid FROM pg_catalog.pg_auth_members a JOIN m ON a.member = m.oid"
    " )"
    " SELECT r.rolname FROM m JOIN pg_catalog.pg_roles r ON r.oid = m.oid";

}  // namespace

std::vector<Relation> ReadRelations(pqxx::connection_base& conn) {
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn, "pgveil_catalog");
  const pqxx::result rels = tx.exec(kRelationsSql);
  const pqxx::result cols = tx.exec(kColumnsSql);
  tx.commit();

  std::vector<Relation> out;
  out.reserve(rels.size());
  std::unordered_map<uint32_t, size_t> index;
  for (const pqxx::row& row : rels) {
    Relation rel;
    rel.oid = row[0].as<uint32_t>();
    rel.schema = row[1].as<std::string>();
    rel.name = row[2].as<std::string>();
    const std::string kind = row[3].as<std::string>();
    rel.kind = kind.empty() ? '?' : kind[0];
    if (!row[4].is_null()) rel.view_definition = row[4].as<std::string>();
    index.emplace(rel.oid, out.size());
    out.push_back(std::move(rel));
  }
  for (const pqxx::row& row : cols) {
    auto it = index.find(row[0].as<uint32_t>());
    if (it == index.end()) continue;  // cannot happen: both queries filter alike
    Column col;
    col.attnum = row[1].as<int16_t>();
    col.name = row[2].as<std::string>();
    col.type_oid = row[3].as<uint32_t>();
    col.typmod = row[4].as<int32_t>();
    col.type_name = row[5].as<std::string>();
    col.base_type_oid = row[6].as<uint32_t>();
    col.base_typmod = row[7].as<int32_t>();
    out[it->second].columns.push_back(std::move(col));
  }
  return out;
}

std::vector<std::string> ReadRoles(pqxx::connection_base& conn, const std::string& login) {
  pqxx::nontransaction tx(conn, "pgveil_roles");
  const pqxx::result rows = tx.exec_params(kRolesSql, login);
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const pqxx::row& row : rows) out.push_back(row[0].as<std::string>());
  return out;
}

}  // namespace pgveil::catalog
