// The catalog's one connection to PostgreSQL, over libpqxx: opened on first use,
// dropped when it breaks and reopened by the next call. libpqxx exceptions stop here and
// become Status values whose messages never hold the conninfo's password.
//
// Not thread-safe: Catalog serializes every call.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pgveil/status.h"

namespace pqxx {
class connection_base;
}  // namespace pqxx

namespace pgveil::catalog {

class SideConnection {
 public:
  SideConnection(const std::string& conninfo, std::chrono::milliseconds query_timeout);
  ~SideConnection();
  SideConnection(const SideConnection&) = delete;
  SideConnection& operator=(const SideConnection&) = delete;

  // Runs `body` on an open connection, opening one first if needed. `body` may throw
  // (libpqxx errors, std::exception); the exception is turned into a Status whose message
  // starts with `what`. When a connection that was already open turns out to be broken,
  // it is reopened and `body` runs once more, so `body` must be safe to repeat (a read-only
  // transaction is).
  Status Run(std::string_view what, const std::function<void(pqxx::connection_base&)>& body);

  // True while a connection is open (for tests and diagnostics).
  bool connected() const;

 private:
  Status Open();
  Status Fail(StatusCode code, std::string_view what, std::string_view detail) const;

  struct Connection;  // holds a pqxx::connection

  Status conninfo_status_;  // a conninfo that does not parse fails every call
  std::string conninfo_;
  std::string password_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace pgveil::catalog
