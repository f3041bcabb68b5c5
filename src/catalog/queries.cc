#include "catalog/queries.h"

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
    "        CASE WHEN b.oid IS NULL THEN a.atttypmod ELSE b.basemod END,"
    "        a.attgenerated <> ''"
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

StatusOr<std::vector<Relation>> ReadRelations(SideConnection::Session& session) {
  // One snapshot for both queries. A failure leaves the transaction open; SideConnection
  // then closes the connection.
  if (auto begin = session.Query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !begin.ok()) {
    return begin.status();
  }
  auto rels = session.Query(kRelationsSql);
  if (!rels.ok()) return rels.status();
  auto cols = session.Query(kColumnsSql);
  if (!cols.ok()) return cols.status();
  if (auto commit = session.Query("COMMIT"); !commit.ok()) return commit.status();

  Status bad;  // the first unparsable value, if any
  std::vector<Relation> out;
  out.reserve(rels->rows());
  std::unordered_map<uint32_t, size_t> index;
  for (int r = 0; r < rels->rows(); ++r) {
    Relation rel;
    rel.oid = rels->Oid(r, 0, &bad);
    rel.schema = rels->Text(r, 1);
    rel.name = rels->Text(r, 2);
    const std::string_view kind = rels->Text(r, 3);
    rel.kind = kind.empty() ? '?' : kind[0];
    rel.view_definition = rels->Text(r, 4);  // "" when NULL
    index.emplace(rel.oid, out.size());
    out.push_back(std::move(rel));
  }
  for (int r = 0; r < cols->rows(); ++r) {
    auto it = index.find(cols->Oid(r, 0, &bad));
    if (it == index.end()) continue;  // cannot happen: both queries filter alike
    Column col;
    col.attnum = cols->Int16(r, 1, &bad);
    col.name = cols->Text(r, 2);
    col.type_oid = cols->Oid(r, 3, &bad);
    col.typmod = cols->Int32(r, 4, &bad);
    col.type_name = cols->Text(r, 5);
    col.base_type_oid = cols->Oid(r, 6, &bad);
    col.base_typmod = cols->Int32(r, 7, &bad);
    col.generated = cols->Text(r, 8) == "t";
    out[it->second].columns.push_back(std::move(col));
  }
  if (!bad.ok()) return bad;
  return out;
}

StatusOr<std::vector<std::string>> ReadRoles(SideConnection::Session& session,
                                             const std::string& login) {
  auto rows = session.Query(kRolesSql, {login});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->rows());
  for (int r = 0; r < rows->rows(); ++r) out.emplace_back(rows->Text(r, 0));
  return out;
}

}  // namespace pgveil::catalog
