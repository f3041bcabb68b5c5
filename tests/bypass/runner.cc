#include "runner.h"

#include <cstring>

#include "harness/pq_util.h"

namespace pgveil::bypass {
namespace {

// COPY text format: fields split on tabs, \N is NULL, backslash escapes undone.
std::vector<Cell> ParseCopyLine(std::string_view line) {
  std::vector<Cell> row;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    std::string_view field = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (field == "\\N") {
      row.emplace_back(std::nullopt);
    } else {
      std::string v;
      for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 1 < field.size()) {
          char e = field[++i];
          v.push_back(e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
        } else {
          v.push_back(field[i]);
        }
      }
      row.emplace_back(std::move(v));
    }
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return row;
}

void Record(PGconn* conn, PGresult* res, Outcome* out) {
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) {
    if (!out->error) {
      out->error = true;
      auto field = [&](int code) {
        const char* v = PQresultErrorField(res, code);
        return std::string(v ? v : "");
      };
      out->sqlstate = field(PG_DIAG_SQLSTATE);
      out->message = field(PG_DIAG_MESSAGE_PRIMARY);
      out->detail = field(PG_DIAG_MESSAGE_DETAIL);
      out->hint = field(PG_DIAG_MESSAGE_HINT);
    }
    return;
  }
  if (st == PGRES_PIPELINE_SYNC || st == PGRES_PIPELINE_ABORTED) return;
  ResultSet rs;
  rs.status = PQresStatus(st);
  for (int c = 0; c < PQnfields(res); ++c) {
    const char* name = PQfname(res, c);
    rs.names.emplace_back(name ? name : "");
  }
  if (st == PGRES_COPY_OUT) {
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
      std::string_view line(buf, static_cast<size_t>(n));
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      rs.rows.push_back(ParseCopyLine(line));
      PQfreemem(buf);
    }
  } else if (st == PGRES_COPY_IN) {
    PQputCopyEnd(conn, "the bypass suite sends no COPY data");
  } else {
    for (int r = 0; r < PQntuples(res); ++r) {
      std::vector<Cell> row;
      for (int c = 0; c < PQnfields(res); ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
        }
      }
      rs.rows.push_back(std::move(row));
    }
  }
  rs.tag = PQcmdStatus(res);
  out->results.push_back(std::move(rs));
}

// Reads results until libpq returns NULL (the end of one query).
void Drain(PGconn* conn, Outcome* out) {
  while (PGresult* res = PQgetResult(conn)) {
    Record(conn, res, out);
    PQclear(res);
  }
}

std::string BinaryInt8(const std::string& decimal) {
  const uint64_t v = static_cast<uint64_t>(std::stoll(decimal));
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xFF);
  return out;
}

bool Send(PGconn* conn, Mode mode, const std::string& sql, const std::vector<std::string>& params) {
  std::vector<std::string> values = params;
  if (mode == Mode::kExtendedBinary) {
    for (auto& v : values) v = BinaryInt8(v);
  }
  std::vector<const char*> ptrs;
  std::vector<int> lengths, formats;
  std::vector<Oid> types;
  for (const auto& v : values) {
    ptrs.push_back(v.c_str());
    lengths.push_back(static_cast<int>(v.size()));
    formats.push_back(mode == Mode::kExtendedBinary ? 1 : 0);
    types.push_back(mode == Mode::kExtendedBinary ? 20 : 0);
  }
  const int n = static_cast<int>(values.size());
  return PQsendQueryParams(conn, sql.c_str(), n, n ? types.data() : nullptr,
                           n ? ptrs.data() : nullptr, n ? lengths.data() : nullptr,
                           n ? formats.data() : nullptr, 0) == 1;
}

}  // namespace

Outcome RunStatement(PGconn* conn, Mode mode, const std::string& sql,
                     const std::vector<std::vector<std::string>>& param_sets) {
  Outcome out;
  std::vector<std::vector<std::string>> sets = param_sets;
  if (sets.empty()) sets.emplace_back();
  if (mode == Mode::kSimple) {
    if (!PQsendQuery(conn, sql.c_str())) {
      out.transport = PQerrorMessage(conn);
      return out;
    }
    Drain(conn, &out);
    return out;
  }
  if (mode == Mode::kPipeline) {
    if (!PQenterPipelineMode(conn)) {
      out.transport = "cannot enter pipeline mode";
      return out;
    }
    for (const auto& params : sets) {
      if (!Send(conn, Mode::kExtended, sql, params)) out.transport = PQerrorMessage(conn);
    }
    PQpipelineSync(conn);
    for (size_t i = 0; i < sets.size(); ++i) Drain(conn, &out);
    PGresult* sync = PQgetResult(conn);
    if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) out.transport = "no pipeline sync";
    PQclear(sync);
    PQexitPipelineMode(conn);
    return out;
  }
  for (const auto& params : sets) {
    if (!Send(conn, mode, sql, params)) {
      out.transport = PQerrorMessage(conn);
      return out;
    }
    Drain(conn, &out);
    if (out.error) break;
  }
  return out;
}

bool StillUsable(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK) return false;
  if (PQtransactionStatus(conn) != PQTRANS_IDLE) it::Exec(conn, "ROLLBACK");
  auto v = it::QueryValue(conn, "SELECT 1");
  return v.ok() && *v == "1";
}

}  // namespace pgveil::bypass
