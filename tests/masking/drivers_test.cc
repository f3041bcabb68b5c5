// Real drivers against a masked session (policy sales): psql and libpqxx (text),
// psycopg 3 with binary cursors, libpq pipeline mode re-executing a named statement, a
// raw client executing a named statement with binary results and no Describe at all,
// node-postgres and postgres.js with prepared statements, asyncpg and pgjdbc (prepared
// statements, cursors / fetch size, COPY, pseudonyms bound as parameters, joins, the
// drivers' own catalog queries, refused statements). Every driver reads the same members
// query; each row must be the expected masked row computed from the raw row (pseudonyms:
// the ones a plain libpq text query through pgveil gets).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "harness/raw_client.h"
#include "leak_scanner.h"
#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kDriverSql[] =
    "SELECT member_id, phone, real_name, email, height_cm, monthly_income, birth_date, "
    "wechat_id FROM crm.members";
constexpr char kLogin[] = "sales_li";

std::string JoinCells(const std::vector<Cell>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += '\t';
    line += cells[i] ? *cells[i] : "\\N";
  }
  return line;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class DriversTest : public MaskingTest {
 protected:
  static void SetUpTestSuite() {
    auto raw = Fetch(Env().DirectConnInfo("postgres"), kDriverSql);
    auto masked = Fetch(Env().ProxyConnInfo(kLogin), "SELECT member_id FROM crm.members");
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_EQ(raw->rows.size(), static_cast<size_t>(kMembers));
    ASSERT_EQ(masked->rows.size(), raw->rows.size());
    const std::string today = UtcToday();
    expected_ = new std::vector<std::string>();
    for (size_t r = 0; r < raw->rows.size(); ++r) {
      const auto& v = raw->rows[r];
      auto map = [&](int c, auto fn) -> Cell { return v[c] ? Cell(fn(*v[c])) : Cell(); };
      std::vector<Cell> row = {
          masked->rows[r][0],
          map(1, [](const std::string& s) { return ExpectedPartial(s, 0, 4); }),
          map(2, [](const std::string& s) { return ExpectedPartial(s, 1, 0); }),
          map(3, [](const std::string& s) { return ExpectedPartial(s, 1, 0, "@"); }),
          map(4, [](const std::string& s) { return ExpectedWidthBand(std::stoll(s), 5); }),
          map(5, [](const std::string& s) { return ExpectedIncomeBracket(std::stoll(s)); }),
          v[6] ? ExpectedAgeBand(*v[6], today) : Cell(),
          Cell()};
      expected_->push_back(JoinCells(row));
    }
  }
  static void TearDownTestSuite() {
    delete expected_;
    expected_ = nullptr;
  }

  // `got` holds `runs` copies of the members query's rows, one after the other.
  static void ExpectRows(const std::vector<std::string>& got, const std::string& who,
                         size_t runs = 1) {
    const size_t n = expected_->size();
    ASSERT_EQ(got.size(), runs * n) << who;
    for (size_t r = 0; r < got.size(); ++r) {
      // Only the position is printed: the lines hold (masked) demo data.
      ASSERT_TRUE(got[r] == (*expected_)[r % n])
          << who << ": run " << r / n << " row " << r % n << " differs";
    }
  }

  // Runs a client program with the proxy's coordinates in its environment; returns its
  // output file's lines, or fails the test with the program's output.
  static std::vector<std::string> RunClient(const std::string& name,
                                            const std::vector<std::string>& argv, seconds timeout,
                                            const std::string& login = kLogin) {
    const std::string out_dir = Env().dir() + "/" + name;
    std::filesystem::create_directories(out_dir);
    const std::string log = out_dir + "/log.txt";
    Status st = Env().Run(argv,
                          {"PGHOST=127.0.0.1", "PGPORT=" + std::to_string(Env().proxy_port()),
                           "PGUSER=" + login, "PGPASSWORD=" + std::string(kPassword),
                           "PGDATABASE=" + std::string(it::kDatabase), "PGPASSFILE=/dev/null",
                           "MASKING_SQL=" + std::string(kDriverSql), "MASKING_OUT=" + out_dir},
                          log, timeout);
    EXPECT_TRUE(st.ok()) << name << " failed: " << st.ToString() << "\n" << it::FileTail(log, 3000);
    return Lines(it::ReadFileOrEmpty(out_dir + "/rows.tsv"));
  }

  // A client that also writes lookup.tsv, checks.txt and received.txt (asyncpg_client.py,
  // jdbc/JdbcClient.java): run as kLogin, its rows (`runs` copies) must be the expected
  // masked rows, the rows looked up by pseudonym those of the members (rows 0, 7 and
  // 1999) whose pseudonyms were bound, the policy's refusals 42501 with the session
  // usable after them, pseudonyms written in a batch read back the same, every catalog
  // read of the driver served, and no raw value in anything it received. Run as the
  // unmasked matcher, the same client must receive raw values (else the leak scan proves
  // nothing) and see no refusal.
  static void ExpectMaskedClient(const std::string& name, const std::vector<std::string>& argv,
                                 size_t runs, seconds timeout) {
    static const LeakScanner* scanner = [] {
      auto s = LeakScanner::Load();
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      return s.ok() ? new LeakScanner(std::move(*s)) : nullptr;
    }();
    ASSERT_NE(scanner, nullptr);
    for (const std::string& login : {std::string(kLogin), std::string("match_engine")}) {
      SCOPED_TRACE(login);
      const bool masked = login == kLogin;
      const std::string run_name = name + "_" + login;
      auto rows = RunClient(run_name, argv, timeout, login);
      if (masked) ExpectRows(rows, name, runs);
      const std::string out_dir = Env().dir() + "/" + run_name;
      if (masked) {
        const auto& e = *expected_;
        EXPECT_EQ(Lines(it::ReadFileOrEmpty(out_dir + "/lookup.tsv")),
                  (std::vector<std::string>{e[0], e[7], e[kMembers - 1]}))
            << name << ": rows looked up by pseudonym";
      }
      std::vector<std::string> verdicts;
      for (const std::string& line : Lines(it::ReadFileOrEmpty(out_dir + "/checks.txt"))) {
        const size_t colon = line.find(": ");
        if (colon == std::string::npos) {
          verdicts.push_back(line);
        } else {
          EXPECT_EQ(line.substr(colon), ": ok") << name << ": a catalog read of the driver";
        }
      }
      // The matcher may read crm but not write crm.contact_log.
      const std::string verdict = masked ? "refused 42501" : "allowed";
      const std::string batch = masked ? "batch written" : "batch refused 42501";
      EXPECT_EQ(verdicts, (std::vector<std::string>{verdict, verdict, "usable", batch})) << name;
      std::string all;
      for (const char* file : {"/rows.tsv", "/lookup.tsv", "/checks.txt", "/received.txt"}) {
        all += it::ReadFileOrEmpty(out_dir + file);
      }
      auto leaks = scanner->Scan(all, name);
      if (masked) {
        EXPECT_TRUE(leaks.empty())
            << leaks.size() << " raw values reached " << name << ", e.g. " << leaks[0];
      } else {
        EXPECT_FALSE(leaks.empty()) << name << " as the matcher: no raw value seen";
      }
    }
  }

  static std::vector<std::string>* expected_;
};

std::vector<std::string>* DriversTest::expected_ = nullptr;

TEST_F(DriversTest, Psql) {
  auto bin = it::FindPgBinDir();
  ASSERT_TRUE(bin.ok());
  const std::string psql = *bin + "/psql";
  auto rows = RunClient("psql",
                        {"bash", "-c",
                         psql + " -X -q -A -t -F $'\\t' -P 'null=\\N' -v ON_ERROR_STOP=1 "
                                "-c \"$MASKING_SQL\" > \"$MASKING_OUT/rows.tsv\""},
                        seconds(60));
  ExpectRows(rows, "psql");
  // \copy of a table: COPY crm.members (...) TO STDOUT, masked per row.
  auto copied = RunClient(
      "psql_copy",
      {"bash", "-c",
       psql + " -X -q -v ON_ERROR_STOP=1 -c '\\copy crm.members (member_id, phone, real_name, "
              "email, height_cm, monthly_income, birth_date, wechat_id) to stdout' "
              "> \"$MASKING_OUT/rows.tsv\""},
      seconds(60));
  ExpectRows(copied, "psql \\copy");
}

// psql's describe commands read the system catalogs with their own functions and
// operators: the query guard serves them to a masked login.
TEST_F(DriversTest, PsqlDescribeCommands) {
  auto bin = it::FindPgBinDir();
  ASSERT_TRUE(bin.ok());
  const std::string psql = *bin + "/psql";
  auto lines = RunClient(
      "psql_describe",
      {"bash", "-c",
       psql + " -X -c '\\d crm.members' -c '\\dt crm.*' -c '\\dn' "
              "-c '\\d+ crm.contact_log' -c '\\dv' -c '\\df crm.*' -c '\\du' -c '\\l' "
              "-c '\\dx' -c '\\di crm.*' -c '\\conninfo' > \"$MASKING_OUT/rows.tsv\" 2>&1"},
      seconds(60));
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_NE(all.find("monthly_income"), std::string::npos) << all;
  EXPECT_NE(all.find("contact_log"), std::string::npos) << all;
  EXPECT_NE(all.find("members_city_idx"), std::string::npos) << all;
  EXPECT_EQ(all.find("ERROR"), std::string::npos) << all;
}

TEST_F(DriversTest, LibpqxxTextAndPrepared) {
  pqxx::connection conn(Env().ProxyConnInfo(kLogin));
  auto to_lines = [](const pqxx::result& r) {
    std::vector<std::string> lines;
    for (const auto& row : r) {
      std::vector<Cell> cells;
      for (const auto& f : row) cells.push_back(f.is_null() ? Cell() : Cell(f.c_str()));
      lines.push_back(JoinCells(cells));
    }
    return lines;
  };
  {
    pqxx::work tx(conn);
    ExpectRows(to_lines(tx.exec(kDriverSql)), "libpqxx exec");
    tx.commit();
  }
  conn.prepare("members", kDriverSql);
  for (int i = 0; i < 3; ++i) {
    pqxx::work tx(conn);
    ExpectRows(to_lines(tx.exec_prepared("members")), "libpqxx prepared #" + std::to_string(i));
    tx.commit();
  }
}

TEST_F(DriversTest, LibpqPipelineReexecutesANamedStatement) {
  auto conn = it::Connect(Env().ProxyConnInfo(kLogin));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  PGconn* c = conn->get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  ASSERT_EQ(PQsendPrepare(c, "members", kDriverSql, 0, nullptr), 1);
  constexpr int kRuns = 6;
  for (int i = 0; i < kRuns; ++i) {
    // Alternating text and binary results, all in one pipeline with one Sync.
    ASSERT_EQ(PQsendQueryPrepared(c, "members", 0, nullptr, nullptr, nullptr, i % 2), 1);
  }
  ASSERT_EQ(PQpipelineSync(c), 1);
  // The Prepare's result, then each execution's, each followed by a NULL.
  it::PgResult prep(PQgetResult(c));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << PQerrorMessage(c);
  ASSERT_EQ(PQgetResult(c), nullptr);
  for (int i = 0; i < kRuns; ++i) {
    it::PgResult res(PQgetResult(c));
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_TUPLES_OK) << i << ": " << PQerrorMessage(c);
    std::vector<std::string> lines;
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      std::vector<Cell> cells;
      for (int f = 0; f < PQnfields(res.get()); ++f) {
        if (PQgetisnull(res.get(), r, f)) {
          cells.emplace_back();
          continue;
        }
        std::string v(PQgetvalue(res.get(), r, f), PQgetlength(res.get(), r, f));
        if (PQfformat(res.get(), f) == 1 && PQftype(res.get(), f) == 20) {
          v = std::to_string(BinaryInt(v));
        }
        cells.emplace_back(v);
      }
      lines.push_back(JoinCells(cells));
    }
    ExpectRows(lines, "pipeline execution " + std::to_string(i));
    ASSERT_EQ(PQgetResult(c), nullptr);
  }
  it::PgResult sync(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
}

// What JDBC and postgres.js do: Describe a named statement once (or never), then only
// Bind/Execute it. Here the statement is never described and the results are binary.
TEST_F(DriversTest, RawNamedStatementExecutedWithoutDescribe) {
  auto client = it::RawClient::Connect(Env().proxy_port());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->StartupTrust(kRawSales, it::kDatabase).ok());
  std::string script = it::fe::Parse("m", kDriverSql) + it::fe::Sync();
  for (int i = 0; i < 3; ++i) {
    script += it::fe::Bind("", "m", {}, /*binary_results=*/i != 1) + it::fe::Execute("", 0) +
              it::fe::Sync();
  }
  ASSERT_TRUE((*client)->Send(script).ok());
  ASSERT_TRUE((*client)->ReadUntil('Z', seconds(30)).ok());
  for (int i = 0; i < 3; ++i) {
    auto msgs = (*client)->ReadUntil('Z', seconds(30));
    ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
    std::vector<std::string> lines;
    for (const auto& m : *msgs) {
      ASSERT_NE(m.type, 'E') << it::be::Fields(m.body)['M'];
      if (m.type != 'D') continue;
      std::vector<Cell> cells;
      for (const std::string& v : it::be::DataRowValues(m.body)) {
        cells.push_back(v == "<NULL>" ? Cell() : Cell(v));
      }
      if (i != 1 && cells[0]) cells[0] = std::to_string(BinaryInt(*cells[0]));
      lines.push_back(JoinCells(cells));
    }
    ExpectRows(lines, "raw execution " + std::to_string(i));
  }
}

TEST_F(DriversTest, PsycopgBinaryCursors) {
  auto rows = RunClient(
      "psycopg", {"/usr/bin/python3", MaskingEnv::SourceDir() + "/tests/masking/psycopg_client.py"},
      seconds(120));
  ExpectRows(rows, "psycopg", 6);
}

TEST_F(DriversTest, NodePostgresAndPostgresJsPreparedStatements) {
  // Installs the npm packages when node_modules is missing; an unreachable registry
  // fails the test.
  auto rows = RunClient("node", {"bash", MaskingEnv::SourceDir() + "/tests/masking/node/run.sh"},
                        seconds(170));
  ExpectRows(rows, "node", 6);
}

// asyncpg: binary results, a prepared statement, a cursor with prefetch, COPY, and the
// driver's type introspection (information_schema's domains).
TEST_F(DriversTest, AsyncpgPreparedCursorsCopyAndIntrospection) {
  ExpectMaskedClient(
      "asyncpg", {"/usr/bin/python3", MaskingEnv::SourceDir() + "/tests/masking/asyncpg_client.py"},
      6, seconds(120));
}

// pgjdbc: server-side prepared statements with binary results (prepareThreshold=1) and
// unnamed ones (0), fetch size, CopyManager, DatabaseMetaData and ResultSetMetaData.
TEST_F(DriversTest, JdbcPreparedFetchSizeCopyAndMetadata) {
  ExpectMaskedClient("jdbc", {"bash", MaskingEnv::SourceDir() + "/tests/masking/jdbc/run.sh"}, 8,
                     seconds(150));
}

}  // namespace
}  // namespace pgveil::masking
