// Reading a COPY statement's parse tree (libpg_query JSON) into a CopyStatement.
// Internal to the guard.
#pragma once

#include "guard/json_tree.h"
#include "pgveil/guard/copy_inspect.h"

namespace pgveil::guard {

// `c`: the fields of a CopyStmt node.
CopyStatement ReadCopyStatement(const json& c);

}  // namespace pgveil::guard
