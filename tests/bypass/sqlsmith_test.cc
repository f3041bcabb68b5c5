// A generated-SQL campaign: sqlsmith (fixed seed) sends at least 10,000 random statements
// over the demo schema as sales_li through pgveil, and the leak scanner reads every byte
// the campaign's sessions received. Zero leaks; executed and refused counts are printed.
//
// sqlsmith first reads the catalog over the same masked login. If the guard refuses part
// of that, the refused catalog statements are printed and the campaign is generated
// instead with `sqlsmith --dry-run` against a direct matcher connection (same schema and
// grants), and the generated statements are then sent through pgveil as sales_li by this
// test, one simple Query each.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "harness/pq_util.h"
#include "harness/subprocess.h"
#include "masking_env.h"
#include "suite.h"

namespace pgveil::bypass {
namespace {

using masking::Env;
using std::chrono::milliseconds;

constexpr int kQueries = 10000;
constexpr int kSeed = 42;
constexpr char kSqlsmith[] = "/usr/bin/sqlsmith";

// What the sessions of the campaign sent and got, read from the tap.
struct Tally {
  int queries = 0;  // Query messages sent (sqlsmith's BEGIN/ROLLBACK wrappers aside)
  int wrappers = 0;
  int executed = 0;  // answered without an error
  int refused = 0;   // 42501 / 0A000
  int errors = 0;    // other errors (the server's, or pgveil's XX000)
  std::map<std::string, int> by_sqlstate;
  std::vector<std::string> refused_sql;  // the texts, for the report
  std::vector<std::string> leaks;
};

// Walks each connection's client→server Query messages and pairs them with the
// server→client replies up to ReadyForQuery.
void Count(BypassSuite& s, size_t from, size_t to, bool keep_refused_sql, Tally* t) {
  for (size_t i = from; i < to; ++i) {
    auto leaks = s.ScanConnection(i, "connection " + std::to_string(i));
    t->leaks.insert(t->leaks.end(), leaks.begin(), leaks.end());
    TapConnection c = s.tap().Connection(i);
    auto sent = SplitMessages(c.to_server, /*startup=*/true);
    auto got = SplitMessages(c.to_client);
    std::vector<std::string> queries;
    for (const auto& m : sent) {
      if (m.type == 'Q') queries.push_back(m.body.substr(0, m.body.find('\0')));
      if (m.type == 'Q' && getenv("BYPASS_DEBUG"))
        std::cerr << "Q " << queries.back().substr(0, 60) << "\n";
    }
    // Replies: the first ReadyForQuery ends the startup; each later one ends a query.
    size_t q = 0;
    bool started = false;
    std::string error;
    for (const auto& m : got) {
      if (m.type == 'E') error = it::be::Fields(m.body)['C'];
      if (m.type != 'Z') continue;
      if (!started) {
        started = true;
        error.clear();
        continue;
      }
      // sqlsmith wraps every statement in BEGIN; … ROLLBACK;: those are not counted.
      if (q < queries.size() && (queries[q] == "BEGIN;" || queries[q] == "ROLLBACK;")) {
        ++t->wrappers;
        ++q;
      } else if (q < queries.size()) {
        ++t->queries;
        if (error.empty()) {
          ++t->executed;
        } else if (error == "42501" || error == "0A000") {
          ++t->refused;
          if (keep_refused_sql) t->refused_sql.push_back(queries[q]);
        } else {
          ++t->errors;
        }
        if (!error.empty()) ++t->by_sqlstate[error];
        if (const char* path = getenv("BYPASS_VERDICTS")) {
          // One line per statement, for comparing two builds' verdicts.
          std::ofstream(path, std::ios::app)
              << (error.empty() ? "ok" : error) << '\t' << queries[q].substr(0, 2000) << '\n';
        }
        ++q;
      }
      error.clear();
    }
  }
}

std::string Report(const std::string& title, const Tally& t) {
  std::string out = "==== sqlsmith " + title + ": " + std::to_string(t.queries) + " statements, " +
                    std::to_string(t.executed) + " executed, " + std::to_string(t.refused) +
                    " refused, " + std::to_string(t.errors) + " other errors, " +
                    std::to_string(t.leaks.size()) + " leaks ====\n";
  for (const auto& [code, n] : t.by_sqlstate) {
    out += "  SQLSTATE " + code + ": " + std::to_string(n) + "\n";
  }
  return out;
}

std::string TargetFor(const std::string& conninfo) { return "--target=" + conninfo; }

class SqlsmithTest : public masking::MaskingTest {};

TEST_F(SqlsmithTest, TenThousandGeneratedStatementsLeakNothing) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(std::filesystem::exists(kSqlsmith)) << "the Debian package sqlsmith is not installed";
  const auto start = std::chrono::steady_clock::now();
  const std::string log = Env().dir() + "/sqlsmith-live.log";
  const size_t first = s->tap().connection_count();
  // Live: sqlsmith reads the catalog and runs its statements as sales_li through pgveil.
  Status live = Env().Run(
      {kSqlsmith, TargetFor(s->TapConnInfo(kSalesLogin)), "--seed=" + std::to_string(kSeed),
       "--max-queries=" + std::to_string(kQueries), "--verbose"},
      {}, log, milliseconds(240000));
  const size_t after_live = s->tap().connection_count();
  // The first connection loads the catalog; the others run the generated statements.
  Tally catalog, t;
  Count(*s, first, std::min(first + 1, after_live), /*keep_refused_sql=*/true, &catalog);
  Count(*s, std::min(first + 1, after_live), after_live, /*keep_refused_sql=*/true, &t);
  std::cout << Report("catalog load", catalog) << Report("live campaign", t) << std::flush;
  for (const std::string& sql : catalog.refused_sql) {
    ADD_FAILURE() << "pgveil refused a statement of sqlsmith's catalog load: " << sql;
  }
  t.leaks.insert(t.leaks.end(), catalog.leaks.begin(), catalog.leaks.end());
  if (!live.ok() || t.queries < kQueries) {
    // The catalog load (or the run) did not get through: say which statements the guard
    // refused, then generate against the matcher and replay through pgveil.
    std::cout << "sqlsmith through pgveil stopped (" << live.ToString() << "); tail:\n"
              << it::FileTail(log) << "\nstatements pgveil refused before that:\n";
    for (size_t i = 0; i < catalog.refused_sql.size() && i < 20; ++i) {
      std::cout << "  " << catalog.refused_sql[i].substr(0, 300) << "\n";
    }
    const std::string queries_path = Env().dir() + "/sqlsmith-dry.sql";
    std::remove(queries_path.c_str());
    Status dry = Env().Run({kSqlsmith, TargetFor(Env().DirectConnInfo(kMatcherLogin)),
                            "--seed=" + std::to_string(kSeed),
                            "--max-queries=" + std::to_string(kQueries), "--dry-run"},
                           {}, queries_path, milliseconds(120000));
    ASSERT_TRUE(dry.ok()) << dry.ToString() << "\n" << it::FileTail(queries_path);
    const std::string all = it::ReadFileOrEmpty(queries_path);
    std::vector<std::string> statements;
    for (size_t pos = 0; pos < all.size();) {
      size_t end = all.find(";\n", pos);
      if (end == std::string::npos) break;
      statements.push_back(all.substr(pos, end - pos));
      pos = end + 2;
    }
    ASSERT_GE(statements.size(), static_cast<size_t>(kQueries));
    const size_t replay_first = s->tap().connection_count();
    auto conn = it::Connect(s->TapConnInfo(kSalesLogin) + " options='-c statement_timeout=1000'");
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    for (const std::string& sql : statements) {
      if (PQstatus(conn->get()) != CONNECTION_OK) {
        conn = it::Connect(s->TapConnInfo(kSalesLogin) + " options='-c statement_timeout=1000'");
        ASSERT_TRUE(conn.ok()) << conn.status().ToString();
      }
      it::PgResult res(PQexec(conn->get(), sql.c_str()));
      ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(290))
          << "the campaign must fit in five minutes";
    }
    conn->reset();
    Tally replay;
    Count(*s, replay_first, s->tap().connection_count(), false, &replay);
    std::cout << Report("replayed", replay) << std::flush;
    t.leaks.insert(t.leaks.end(), replay.leaks.begin(), replay.leaks.end());
    EXPECT_GE(replay.queries, kQueries);
  }
  EXPECT_TRUE(t.leaks.empty()) << t.leaks.size()
                               << " raw values reached the client, first: " << t.leaks[0];
  std::cout << "campaign took "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                start)
                   .count()
            << " s\n";
}

}  // namespace
}  // namespace pgveil::bypass
