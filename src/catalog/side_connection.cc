#include "catalog/side_connection.h"

#include <pqxx/pqxx>

#include "catalog/conninfo.h"

namespace pgveil::catalog {

struct SideConnection::Connection {
  explicit Connection(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
};

namespace {

// One line, no trailing newline: libpq's messages end in "\n" and may span lines.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Which Status a server error becomes: the side connection's peer being unreachable or
// shutting down is Unavailable (callers retry later); a missing privilege is the DBA's to
// fix; anything else is a bug on one side or the other.
StatusCode CodeForSqlState(const std::string& sqlstate) {
  if (sqlstate == "42501") return StatusCode::kPermissionDenied;
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57") return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

}  // namespace

SideConnection::SideConnection(const std::string& conninfo,
                               std::chrono::milliseconds query_timeout) {
  auto prepared = PrepareConnInfo(conninfo, query_timeout);
  if (!prepared.ok()) {
    conninfo_status_ = prepared.status();
    return;
  }
  conninfo_ = std::move(prepared->conninfo);
  password_ = std::move(prepared->password);
}

SideConnection::~SideConnection() = default;

bool SideConnection::connected() const { return conn_ != nullptr && conn_->conn.is_open(); }

Status SideConnection::Fail(StatusCode code, std::string_view what, std::string_view detail) const {
  return Status(code, ScrubSecret(std::string(what) + ": " + OneLine(detail), password_));
}

Status SideConnection::Open() {
  conn_.reset();
  try {
    conn_ = std::make_unique<Connection>(conninfo_);
  } catch (const std::exception& e) {
    return Fail(StatusCode::kUnavailable, "catalog connection", e.what());
  }
  return Status::Ok();
}

Status SideConnection::Run(std::string_view what,
                           const std::function<void(pqxx::connection_base&)>& body) {
  if (!conninfo_status_.ok()) return conninfo_status_;
  for (int attempt = 0;; ++attempt) {
    const bool reused = connected();
    if (!reused) {
      if (Status st = Open(); !st.ok()) return st;
    }
    Status failure;
    try {
      body(conn_->conn);
      return Status::Ok();
    } catch (const pqxx::broken_connection& e) {
      failure = Fail(StatusCode::kUnavailable, what, e.what());
    } catch (const pqxx::in_doubt_error& e) {
      failure = Fail(StatusCode::kUnavailable, what, e.what());
    } catch (const pqxx::sql_error& e) {
      failure = Fail(CodeForSqlState(e.sqlstate()), what, e.what());
    } catch (const std::exception& e) {
      failure = Fail(StatusCode::kInternal, what, e.what());
    }
    if (connected()) return failure;
    // The connection is gone. If it had been idle since an earlier call, the server may
    // simply have restarted or closed it: one fresh attempt. A fresh one that breaks is
    // a real failure.
    conn_.reset();
    if (!reused || attempt > 0) return failure;
  }
}

}  // namespace pgveil::catalog
