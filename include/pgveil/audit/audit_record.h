// AuditRecord: one line of the audit log — who ran which statement under which policy,
// what it read, how each output column was masked, and how it ended.
//
// A record never holds a raw value, a pseudonym key or a literal from the statement:
// the statement is kept only as a StatementSummary (statement_summary.h); the other
// fields are names (login, relations, columns, transforms), counts, and pgveil's own
// refusal text, which ToJson() still passes through the PII detectors and strips of
// quoted strings, in case a message ever quotes a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgveil/audit/statement_summary.h"

namespace pgveil::audit {

// How one output column of the result was produced for the client.
struct OutputColumn {
  std::string name;       // as in the RowDescription
  std::string source;     // "schema.table.column", or "" if not a base column
  std::string transform;  // "show", "pseudonym", "null", ... (mask::Transform::Name())
};

struct Refusal {
  std::string sqlstate;  // five characters, e.g. "42501"
  std::string message;   // pgveil's message (see above)
};

struct AuditRecord {
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::string login;           // the authenticated login
  std::string policy;          // Policy::name()
  std::string client_address;  // "ip:port"
  std::string database;
  StatementSummary statement;
  std::vector<std::string> relations;  // "schema.table" read
  std::vector<std::string> columns;    // "schema.table.column" read
  std::vector<OutputColumn> output;    // one per result column
  std::optional<int64_t> rows;         // rows returned (absent if none were)
  std::optional<Refusal> refusal;      // set for refused statements
};

// RFC 3339 UTC with milliseconds: "2024-05-01T08:30:00.123Z".
std::string FormatTime(std::chrono::system_clock::time_point t);

// The record as one JSON object on one line, without the trailing newline. Keys:
// time, login, policy, client, database, fingerprint, statement (absent when withheld),
// statement_withheld (when withheld), relations, columns, output [{name, source,
// transform}], rows, refused {sqlstate, message}. Invalid UTF-8 is replaced.
std::string ToJson(const AuditRecord& record);

}  // namespace pgveil::audit
