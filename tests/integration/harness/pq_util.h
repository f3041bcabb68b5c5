// Small RAII wrappers over libpq for the integration tests, and canonical text forms of
// results so that a session through pgveil can be compared with a direct one.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "pgveil/status.h"

namespace pgveil::it {

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* res) const { PQclear(res); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// A connected session, or the connection error.
StatusOr<PgConn> Connect(const std::string& conninfo);

// Runs one command with PQexec; the result (any status).
PgResult Exec(PGconn* conn, const std::string& sql);

// The single value of a one-row, one-column query; an error status otherwise.
StatusOr<std::string> QueryValue(PGconn* conn, const std::string& sql);

// A canonical description of a result: status, SQLSTATE and message of errors, columns
// (name, type OID, format) and every value (binary values in hex), command tag.
std::string DescribeResult(const PGresult* res);

// Sends `sql` as one simple Query and describes every result it produces, in order.
std::string RunAndDescribe(PGconn* conn, const std::string& sql);

// Replaces every ", port N" in a libpq error message with ", port P", so that errors
// seen through pgveil and directly can be compared.
std::string WithoutPort(std::string message);

// The error message of a failed connection attempt ("" if it succeeded).
std::string ConnectError(const std::string& conninfo);

}  // namespace pgveil::it
