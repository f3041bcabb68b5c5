#include "harness/pq_util.h"

#include <cctype>
#include <sstream>

namespace pgveil::it {

StatusOr<PgConn> Connect(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (!conn) return Unavailable("out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Unavailable(std::string("connect failed: ") + PQerrorMessage(conn.get()));
  }
  return conn;
}

PgResult Exec(PGconn* conn, const std::string& sql) { return PgResult(PQexec(conn, sql.c_str())); }

StatusOr<std::string> QueryValue(PGconn* conn, const std::string& sql) {
  PgResult res = Exec(conn, sql);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    return Internal(std::string("query failed: ") + PQresultErrorMessage(res.get()) +
                    PQerrorMessage(conn));
  }
  if (PQntuples(res.get()) != 1 || PQnfields(res.get()) != 1) {
    return Internal("expected one value, got " + std::to_string(PQntuples(res.get())) + " rows");
  }
  return std::string(PQgetvalue(res.get(), 0, 0), PQgetlength(res.get(), 0, 0));
}

std::string DescribeResult(const PGresult* res) {
  std::ostringstream out;
  ExecStatusType st = PQresultStatus(res);
  out << PQresStatus(st);
  if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) {
    const char* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char* msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    out << " " << (code ? code : "?") << " " << (msg ? msg : "?");
  }
  out << " tag=" << PQcmdStatus(const_cast<PGresult*>(res)) << "\n";
  for (int c = 0; c < PQnfields(res); ++c) {
    out << "  col " << PQfname(res, c) << " type=" << PQftype(res, c)
        << " fmt=" << PQfformat(res, c) << " mod=" << PQfmod(res, c) << "\n";
  }
  static const char kHex[] = "0123456789abcdef";
  for (int r = 0; r < PQntuples(res); ++r) {
    out << "  row";
    for (int c = 0; c < PQnfields(res); ++c) {
      out << " |";
      if (PQgetisnull(res, r, c)) {
        out << "NULL";
        continue;
      }
      const char* v = PQgetvalue(res, r, c);
      int len = PQgetlength(res, r, c);
      if (PQfformat(res, c) == 1) {
        for (int i = 0; i < len; ++i) {
          unsigned char b = static_cast<unsigned char>(v[i]);
          out << kHex[b >> 4] << kHex[b & 15];
        }
      } else {
        out.write(v, len);
      }
    }
    out << "\n";
  }
  return out.str();
}

std::string RunAndDescribe(PGconn* conn, const std::string& sql) {
  if (!PQsendQuery(conn, sql.c_str())) return std::string("send failed: ") + PQerrorMessage(conn);
  std::string out;
  while (PGresult* res = PQgetResult(conn)) {
    out += DescribeResult(res);
    PQclear(res);
  }
  return out;
}

std::string WithoutPort(std::string message) {
  const std::string key = ", port ";
  size_t pos = 0;
  while ((pos = message.find(key, pos)) != std::string::npos) {
    size_t start = pos + key.size();
    size_t end = start;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    message.replace(start, end - start, "P");
    pos = start;
  }
  return message;
}

std::string ConnectError(const std::string& conninfo) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) == CONNECTION_OK) return "";
  return PQerrorMessage(conn.get());
}

}  // namespace pgveil::it
