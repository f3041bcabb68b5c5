// The catalog's SQL, and the rows it returns turned into catalog types. Each function
// runs in a session of the side connection.
#pragma once

#include <string>
#include <vector>

#include "catalog/side_connection.h"
#include "pgveil/catalog/snapshot.h"
#include "pgveil/status.h"

namespace pgveil::catalog {

// Every user relation (relkind r, v, m, p, f outside pg_catalog, information_schema, the
// toast and temporary schemas, and no temporary relations) with its live columns and, for
// views and materialized views, pg_get_viewdef(). Two queries in one read-only
// REPEATABLE READ transaction, so columns and relations come from the same moment.
StatusOr<std::vector<Relation>> ReadRelations(SideConnection::Session& session);

// The names of `login` and of every role it is a member of, transitively; in the order
// the server returns them (possibly empty when no role has that name). `login` is a
// query parameter, never part of the SQL text.
StatusOr<std::vector<std::string>> ReadRoles(SideConnection::Session& session,
                                             const std::string& login);

}  // namespace pgveil::catalog
