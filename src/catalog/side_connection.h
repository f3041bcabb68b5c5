// The catalog's one connection to PostgreSQL, over libpq: opened on first use, dropped
// when it breaks (or is left inside a transaction) and reopened by the next call.
// Errors are Status values whose messages never hold the conninfo's password.
//
// libpq is used directly rather than through libpqxx: libpqxx 6.4 leaks a result each
// time a query meets a connection the server has closed, and its silent reconnects
// would hide the reopen logic below.
//
// Not thread-safe: Catalog serializes every call.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/pg_result.h"
#include "pgveil/status.h"

namespace pgveil::catalog {

class SideConnection {
 public:
  // What a Run() body may do with the open connection.
  class Session {
   public:
    // One statement, text parameters and results. An error, or a result of another
    // kind than rows or a command tag, gives a Status (the code from the SQLSTATE).
    StatusOr<PgResult> Query(const char* sql, const std::vector<std::string>& params = {});

   private:
    friend class SideConnection;
    Session(PGconn* conn, const SideConnection* owner, std::string_view what)
        : conn_(conn), owner_(owner), what_(what) {}
    PGconn* conn_;
    const SideConnection* owner_;
    std::string_view what_;
  };

  SideConnection(const std::string& conninfo, std::chrono::milliseconds query_timeout);
  ~SideConnection();
  SideConnection(const SideConnection&) = delete;
  SideConnection& operator=(const SideConnection&) = delete;

  // Runs `body` on an open connection, opening one first if needed; returns what `body`
  // returns. Error messages start with `what`. When a connection that was already open
  // turns out to be broken, it is reopened and `body` runs once more, so `body` must be
  // safe to repeat (reads are). A connection that `body` leaves inside a transaction is
  // closed.
  Status Run(std::string_view what, const std::function<Status(Session&)>& body);

  // True while a connection is open (for tests and diagnostics).
  bool connected() const;

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };

  Status Open();
  Status Fail(StatusCode code, std::string_view what, std::string_view detail) const;

  Status conninfo_status_;  // a conninfo that does not parse fails every call
  std::string conninfo_;
  std::string password_;
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

}  // namespace pgveil::catalog
