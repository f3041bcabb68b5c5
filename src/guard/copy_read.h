// Reading a COPY statement's parse tree (libpg_query JSON) into a CopyStatement.
// Internal to the guard.
#pragma once

#include <nlohmann/json.hpp>

#include "pgveil/guard/copy_inspect.h"

namespace pgveil::guard {

// `c`: the fields of a CopyStmt node.
CopyStatement ReadCopyStatement(const nlohmann::json& c);

}  // namespace pgveil::guard
