// The catalog's SQL, and the rows it returns turned into catalog types. Each function
// runs on a connection the caller holds and throws what libpqxx throws (SideConnection
// turns that into a Status).
#pragma once

#include <string>
#include <vector>

#include "pgveil/catalog/snapshot.h"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace pgveil::catalog {

// Every user relation (relkind r, v, m, p, f outside pg_catalog, information_schema, the
// toast and temporary schemas, and no temporary relations) with its live columns and, for
// views and materialized views, pg_get_viewdef(). Two queries in one read-only
// REPEATABLE READ transaction, so columns and relations come from the same moment.
std::vector<Relation> ReadRelations(pqxx::connection_base& conn);

// The names of `login` and of every role it is a member of, transitively; in the order
// the server returns them (possibly empty when no role has that name). `login` is a
// query parameter, never part of the SQL text.
std::vector<std::string> ReadRoles(pqxx::connection_base& conn, const std::string& login);

}  // namespace pgveil::catalog
