// What the COPY statements of one SQL string do, read with the real PostgreSQL parser
// (libpg_query). Masked sessions need it to know which table and columns the rows of a
// `COPY ... TO STDOUT` belong to, and in which format they arrive.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/policy/row_plan.h"
#include "pgveil/status.h"

namespace pgveil::guard {

enum class CopyFormat { kText, kCsv, kBinary };

struct CopyStatement {
  bool is_from = false;    // COPY ... FROM
  bool is_query = false;   // COPY (query) TO
  bool uses_file = false;  // a file name or PROGRAM instead of STDIN/STDOUT
  std::string schema;      // empty when unqualified
  std::string table;
  std::vector<std::string> columns;  // empty: every column
  CopyFormat format = CopyFormat::kText;
  char delimiter = '\t';    // ',' for CSV
  std::string null_string;  // "\\N" for text, "" for CSV
  char quote = '"';
  char escape = '"';
  bool header = false;
  // An option that shapes the rows (FORMAT, DELIMITER, NULL, QUOTE, ESCAPE, ENCODING,
  // HEADER) with an argument pgveil cannot read as the server does (a list, `*`): the
  // statement is refused. Empty when every one was read.
  std::string unreadable_option;
  // COPY (query) TO: the guard's lineage of the query's columns (set by the Analyzer).
  std::shared_ptr<const policy::RowShape> query_shape;
};

struct StatementSummary {
  size_t statement_count = 0;
  std::vector<CopyStatement> copies;  // in statement order
};

// Parses `sql`. A syntax error is returned as kInvalidArgument (the server will reject
// the statement too). Fast path: text without "copy" (any case) is not parsed.
StatusOr<StatementSummary> InspectStatements(std::string_view sql);

}  // namespace pgveil::guard
