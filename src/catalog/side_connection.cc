#include "catalog/side_connection.h"

#include "catalog/conninfo.h"

namespace pgveil::catalog {
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

// Which Status a server error becomes: the server being unreachable or shutting down is
// Unavailable (callers retry later); a missing privilege is the DBA's to fix; anything
// else is a bug on one side or the other.
StatusCode CodeForSqlState(std::string_view sqlstate) {
  if (sqlstate == "42501") return StatusCode::kPermissionDenied;
  std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57") return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

}  // namespace

StatusOr<PgResult> SideConnection::Session::Query(const char* sql,
                                                  const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  PgResult res(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                            values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = PQresultStatus(res.get());
  if (res.get() != nullptr && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) return res;
  if (PQstatus(conn_) == CONNECTION_BAD) {
    return owner_->Fail(StatusCode::kUnavailable, what_, PQerrorMessage(conn_));
  }
  const char* sqlstate = res.get() ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
  const char* message = res.get() ? PQresultErrorMessage(res.get()) : "";
  if (message == nullptr || *message == '\0') message = PQerrorMessage(conn_);
  return owner_->Fail(sqlstate ? CodeForSqlState(sqlstate) : StatusCode::kInternal, what_, message);
}

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

bool SideConnection::connected() const {
  return conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK;
}

Status SideConnection::Fail(StatusCode code, std::string_view what, std::string_view detail) const {
  // Scrub before and after folding whitespace: a password holding runs of blanks or a
  // newline is only recognizable in the raw text.
  std::string text = OneLine(ScrubSecret(std::string(detail), password_));
  return Status(code, ScrubSecret(std::string(what) + ": " + text, password_));
}

Status SideConnection::Open() {
  conn_.reset(PQconnectdb(conninfo_.c_str()));
  if (conn_ == nullptr) return Unavailable("catalog connection: out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    Status st = Fail(StatusCode::kUnavailable, "catalog connection", PQerrorMessage(conn_.get()));
    conn_.reset();
    return st;
  }
  return Status::Ok();
}

Status SideConnection::Run(std::string_view what, const std::function<Status(Session&)>& body) {
  if (!conninfo_status_.ok()) return conninfo_status_;
  for (int attempt = 0;; ++attempt) {
    const bool reused = connected();
    if (!reused) {
      if (Status st = Open(); !st.ok()) return st;
    }
    Session session(conn_.get(), this, what);
    Status st = body(session);
    if (connected()) {
      // A body that failed half-way may have left a transaction open; start afresh
      // rather than guess what state the session is in.
      if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) conn_.reset();
      return st;
    }
    conn_.reset();
    // The connection is gone. If it had been idle since an earlier call, the server may
    // simply have restarted or closed it: one fresh attempt. A fresh one that breaks is
    // a real failure.
    if (st.ok() || !reused || attempt > 0) return st;
  }
}

}  // namespace pgveil::catalog
