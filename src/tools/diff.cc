// pgveil diff: runs the queries on both connections and records results with their
// provenance; diff_checks.cc judges them. Exceptions from libpqxx stop at this boundary:
// a query that fails on either side is a finding, a connection that fails ends the run.
#include "pgveil/tools/diff.h"

#include <pg_query.h>

#include <fstream>
#include <ostream>
#include <pqxx/pqxx>
#include <sstream>

#include "tools/diff_model.h"
#include "tools/tool_rules.h"

namespace pgveil::tools {
namespace {

constexpr char kRolesSql[] = R"(
  WITH RECURSIVE m(oid) AS (
    SELECT oid FROM pg_roles WHERE rolname = $1
    UNION SELECT a.roleid FROM pg_auth_members a JOIN m ON a.member = m.oid)
  SELECT r.rolname FROM pg_roles r JOIN m USING (oid))";

constexpr char kAttributeSql[] = R"(
  SELECT n.nspname, c.relname, a.attname
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE a.attrelid = $1 AND a.attnum = $2)";

// Statements of a SQL file, split by libpg_query (strings and comments respected).
bool SplitFile(const std::string& path, std::vector<std::string>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string sql = ss.str();
  PgQuerySplitResult r = pg_query_split_with_parser(sql.c_str());
  bool ok = r.error == nullptr;
  if (!ok) {
    *error = path + ": cannot split into statements: " + r.error->message;
  } else {
    for (int i = 0; i < r.n_stmts; ++i) {
      std::string stmt = sql.substr(r.stmts[i]->stmt_location, r.stmts[i]->stmt_len);
      if (stmt.find_first_not_of(" \t\r\n") != std::string::npos) out->push_back(stmt);
    }
  }
  pg_query_free_split_result(r);
  return ok;
}

std::vector<Row> Rows(const pqxx::result& r) {
  std::vector<Row> rows;
  rows.reserve(r.size());
  for (const auto& row : r) {
    Row cells;
    for (const auto& f : row) {
      cells.push_back(f.is_null() ? Cell() : Cell(std::string(f.c_str(), f.size())));
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace

int RunDiff(const DiffOptions& options, std::ostream& out, std::ostream& err) {
  if (options.raw.empty() || options.masked.empty()) {
    err << "pgveil diff: --raw and --masked are required\n";
    return 2;
  }
  if (options.queries.empty() == options.file.empty()) {
    err << "pgveil diff: give --query (repeatable) or --file, not both\n";
    return 2;
  }
  if (options.rules.empty()) {
    err << "pgveil diff: --rules is required (it says which columns are protected)\n";
    return 2;
  }
  if (options.format != "text" && options.format != "json") {
    err << "pgveil diff: --format must be text or json\n";
    return 2;
  }
  std::vector<std::string> queries = options.queries;
  if (!options.file.empty()) {
    std::string error;
    if (!SplitFile(options.file, &queries, &error)) {
      err << "pgveil diff: " << error << "\n";
      return 2;
    }
  }
  auto rules = LoadToolRules(options.rules, options.keys_file, "pgveil diff", err);
  if (!rules) return 2;

  DiffRun run;
  try {
    pqxx::connection raw(options.raw);
    pqxx::connection masked(options.masked);
    std::shared_ptr<const rules::Policy> policy;
    if (!options.policy.empty()) {
      policy = rules->FindPolicy(options.policy);
      if (!policy) {
        err << "pgveil diff: no policy named " << options.policy << "\n";
        return 2;
      }
    } else {
      pqxx::nontransaction tx(raw);
      std::vector<std::string> roles;
      for (const auto& row : tx.exec_params(kRolesSql, masked.username())) {
        roles.push_back(row[0].c_str());
      }
      policy = rules->Resolve(roles);
    }
    run.policy = policy->name();
    std::map<std::pair<uint32_t, int>, std::string> names;  // (table oid, attnum) -> source
    for (const std::string& sql : queries) {
      QueryDiff q;
      q.sql = sql;
      pqxx::result raw_result;
      try {
        pqxx::nontransaction tx(raw);
        raw_result = tx.exec(sql);
      } catch (const std::exception& e) {
        q.findings.push_back({"error", -1, -1, "raw side: " + FirstLine(e.what())});
      }
      try {
        pqxx::nontransaction tx(masked);
        q.masked = Rows(tx.exec(sql));
      } catch (const std::exception& e) {
        q.findings.push_back({"error", -1, -1, "masked side: " + FirstLine(e.what())});
      }
      q.raw = Rows(raw_result);
      for (pqxx::row::size_type c = 0; c < raw_result.columns(); ++c) {
        DiffColumn col;
        col.name = raw_result.column_name(c);
        col.raw_type = raw_result.column_type(c);
        const uint32_t table = raw_result.column_table(c);
        if (table != 0) {
          const int attnum = static_cast<int>(raw_result.table_column(c)) + 1;
          auto key = std::make_pair(table, attnum);
          auto it = names.find(key);
          if (it == names.end()) {
            pqxx::nontransaction tx(raw);
            pqxx::result a = tx.exec_params(kAttributeSql, table, attnum);
            std::string source;
            if (!a.empty()) {
              source = std::string(a[0][0].c_str()) + "." + a[0][1].c_str() + "." + a[0][2].c_str();
              col.rule = policy->Lookup(a[0][0].c_str(), a[0][1].c_str(), a[0][2].c_str());
            }
            it = names.emplace(key, source).first;
          } else if (!it->second.empty()) {
            // Re-derive the rule from the cached name.
            const std::string& s = it->second;
            const size_t d1 = s.find('.'), d2 = s.rfind('.');
            col.rule =
                policy->Lookup(s.substr(0, d1), s.substr(d1 + 1, d2 - d1 - 1), s.substr(d2 + 1));
          }
          col.source = it->second;
        }
        if (col.rule) {
          col.transform = std::string(col.rule->transform->Name());
          col.is_protected = col.transform != "show";
        }
        q.columns.push_back(std::move(col));
      }
      run.queries.push_back(std::move(q));
    }
  } catch (const std::exception& e) {
    err << "pgveil diff: " << FirstLine(e.what()) << "\n";
    return 2;
  }

  CheckRun(&run, !options.keys_file.empty());
  if (options.format == "json") {
    PrintDiffJson(run, out);
  } else {
    PrintDiffText(run, options, out);
  }
  if (!options.html_file.empty()) {
    std::ofstream f(options.html_file, std::ios::trunc);
    f << DiffHtml(run, options);
    f.close();
    if (!f) {
      err << "pgveil diff: cannot write " << options.html_file << "\n";
      return 1;
    }
  }
  return run.Failed() ? 1 : 0;
}

}  // namespace pgveil::tools
