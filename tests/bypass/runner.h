// Runs one statement over libpq the way a CRM would send it and records everything the
// client got back: every result (rows as text, COPY OUT data split into rows), the
// command tags, and the first error's fields.
#pragma once

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

namespace pgveil::bypass {

using Cell = std::optional<std::string>;
using Rows = std::vector<std::vector<Cell>>;

enum class Mode {
  kSimple,          // one Query message (may hold several statements)
  kExtended,        // Parse/Bind/Execute per parameter set, text parameters
  kExtendedBinary,  // the same with every parameter sent as a binary int8
  kPipeline,        // every parameter set in one libpq pipeline, one Sync at the end
};

struct ResultSet {
  std::string status;  // PQresStatus name, e.g. "PGRES_TUPLES_OK"
  std::string tag;     // command tag
  std::vector<std::string> names;
  Rows rows;
};

struct Outcome {
  bool error = false;
  std::string sqlstate, message, detail, hint;
  std::vector<ResultSet> results;  // successful results, in order
  std::string transport;           // a broken connection, a pipeline out of step
};

// Runs `sql` once per parameter set (once with none when `param_sets` is empty).
Outcome RunStatement(PGconn* conn, Mode mode, const std::string& sql,
                     const std::vector<std::vector<std::string>>& param_sets);

// True if `conn` still answers `SELECT 1` (with "1") after a ROLLBACK.
bool StillUsable(PGconn* conn);

}  // namespace pgveil::bypass
