// Simple and extended query protocol through pgveil: every answer must be the one the
// server gives a direct connection.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "harness/integration_env.h"
#include "harness/pq_util.h"
#include "harness/raw_exchange.h"

namespace pgveil::it {
namespace {

class QueryTest : public RelayTest {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(Env()
                    .Exec("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text, "
                          "price numeric(10,2), tags text[], born timestamptz, doc jsonb, "
                          "raw bytea);"
                          "TRUNCATE items;"
                          "INSERT INTO items SELECT g, 'item ' || g, g * 1.25, "
                          "ARRAY['t' || g % 7, NULL], "
                          "timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', "
                          "jsonb_build_object('g', g, 'odd', g % 2 = 1), "
                          "decode(md5(g::text), 'hex') FROM generate_series(1, 2000) g;"
                          "GRANT ALL ON items TO PUBLIC;")
                    .ok());
  }

  // Runs `sql` as a simple query on a direct and on a proxied session; both must give
  // the same results, and that description is returned for further checks.
  static std::string SameAsDirect(const std::string& sql) {
    auto direct = Connect(Env().DirectConnInfo(kTrustUser));
    auto proxied = Connect(Env().ProxyConnInfo(kTrustUser));
    if (!direct.ok() || !proxied.ok()) {
      ADD_FAILURE() << "connect: " << direct.status().ToString() << " "
                    << proxied.status().ToString();
      return "";
    }
    std::string want = RunAndDescribe(direct->get(), sql);
    std::string got = RunAndDescribe(proxied->get(), sql);
    EXPECT_EQ(got, want) << "for: " << sql;
    return want;
  }
};

TEST_F(QueryTest, SimpleQueryAllTypesLikeDirect) {
  std::string out = SameAsDirect("SELECT * FROM items ORDER BY id");
  EXPECT_NE(out.find("row |2000 |item 2000 |2500.00 |"), std::string::npos) << out.substr(0, 500);
}

TEST_F(QueryTest, MultiStatementStringLikeDirect) {
  std::string out = SameAsDirect(
      "SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; "
      "CREATE TEMP TABLE t(x int); INSERT INTO t VALUES (1),(2),(3); "
      "UPDATE t SET x = x + 1; SELECT sum(x) FROM t");
  EXPECT_NE(out.find("tag=INSERT 0 3"), std::string::npos) << out;
  EXPECT_NE(out.find("tag=UPDATE 3"), std::string::npos) << out;
  EXPECT_NE(out.find("row |9"), std::string::npos) << out;
}

TEST_F(QueryTest, MultiStatementStopsAtErrorLikeDirect) {
  std::string out = SameAsDirect("SELECT 1; SELECT 1/0; SELECT 3");
  EXPECT_NE(out.find("PGRES_FATAL_ERROR 22012 division by zero"), std::string::npos) << out;
  EXPECT_EQ(out.find("row |3"), std::string::npos) << out;
}

TEST_F(QueryTest, EmptyAndCommentOnlyQueriesLikeDirect) {
  EXPECT_NE(SameAsDirect("").find("PGRES_EMPTY_QUERY"), std::string::npos);
  EXPECT_NE(SameAsDirect("-- nothing\n;").find("PGRES_EMPTY_QUERY"), std::string::npos);
}

TEST_F(QueryTest, TransactionBlocksAndFailedTransactionLikeDirect) {
  std::string out =
      SameAsDirect("BEGIN; SELECT 1; SELECT nope; SELECT 2; ROLLBACK; SELECT 'after'");
  EXPECT_NE(out.find("42703"), std::string::npos) << out;
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  PgResult res = Exec(conn->get(), "BEGIN");
  res = Exec(conn->get(), "SELECT nope");
  EXPECT_EQ(PQtransactionStatus(conn->get()), PQTRANS_INERROR);
  res = Exec(conn->get(), "SELECT 1");
  EXPECT_STREQ(PQresultErrorField(res.get(), PG_DIAG_SQLSTATE), "25P02");
  res = Exec(conn->get(), "ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(conn->get()), PQTRANS_IDLE);
  EXPECT_EQ(*QueryValue(conn->get(), "SELECT 'ok'"), "ok");
}

TEST_F(QueryTest, LargeValuesBothWays) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  // 20 MB in one DataRow, and a 2 MB Query message from the client.
  auto len = QueryValue(conn->get(), "SELECT length(repeat('abc', 7000000))");
  IT_ASSERT_OK(len);
  PgResult big = Exec(conn->get(), "SELECT repeat('abc', 7000000)");
  ASSERT_EQ(PQresultStatus(big.get()), PGRES_TUPLES_OK) << PQerrorMessage(conn->get());
  EXPECT_EQ(PQgetlength(big.get(), 0, 0), 21000000);
  std::string literal(2 << 20, 'z');
  auto echoed = QueryValue(conn->get(), "SELECT length('" + literal + "')");
  IT_ASSERT_OK(echoed);
  EXPECT_EQ(*echoed, std::to_string(literal.size()));
}

// Long results are read from the server in batches (docs/protocol.md, "Long results").
// A result that stalls in the middle, after more than the batching threshold, must still
// arrive whole, and so must a result that ends with a notice and an error.
TEST_F(QueryTest, LongResultThatStallsMidwayLikeDirect) {
  std::string out = SameAsDirect(
      "SELECT g, repeat(md5(g::text), 8) AS r, "
      "CASE WHEN g IN (6000, 9000) THEN pg_sleep(0.2)::text END AS pause "
      "FROM generate_series(1, 12000) g");
  EXPECT_NE(out.find("tag=SELECT 12000"), std::string::npos) << out.substr(out.size() - 300);
}

TEST_F(QueryTest, LongResultEndingInAnErrorLikeDirect) {
  std::string out = SameAsDirect(
      "DO $$ BEGIN RAISE NOTICE 'before'; END $$; "
      "SELECT g, repeat('e', 300) FROM generate_series(1, 8000) g "
      "UNION ALL SELECT 1 / (g - g), 'never' FROM generate_series(1, 1) g; "
      "SELECT 'not run'");
  EXPECT_NE(out.find("22012"), std::string::npos) << out.substr(out.size() - 300);
  EXPECT_EQ(out.find("not run"), std::string::npos);
}

// A pipeline of long results, each past the threshold, then short answers: all arrive,
// in order, and the session is as usable as before.
TEST_F(QueryTest, PipelineOfLongResultsThenShortOnes) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  for (int i = 1; i <= 6; ++i) {
    std::string sql = i % 2 ? "SELECT g, repeat('L', 500) FROM generate_series(1, 4000) g"
                            : "SELECT " + std::to_string(i);
    ASSERT_EQ(PQsendQueryParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  }
  ASSERT_EQ(PQpipelineSync(c), 1);
  for (int i = 1; i <= 6; ++i) {
    PgResult r(PQgetResult(c));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << i << ": " << PQerrorMessage(c);
    if (i % 2) {
      ASSERT_EQ(PQntuples(r.get()), 4000);
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 3999, 0)), "4000");
      EXPECT_EQ(PQgetlength(r.get(), 3999, 1), 500);
    } else {
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), std::to_string(i));
    }
    EXPECT_EQ(PQgetResult(c), nullptr);
  }
  PgResult sync(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*QueryValue(c, "SELECT 'short'"), "short");
}

TEST_F(QueryTest, ExtendedProtocolParamsAndBinaryResultsLikeDirect) {
  auto run = [](PGconn* conn) {
    std::string out;
    const char* values[2] = {"41", "needle"};
    PgResult r(PQexecParams(conn,
                            "SELECT $1::int + 1 AS n, name, raw, price FROM items "
                            "WHERE id = $1::int OR name = $2 ORDER BY id",
                            2, nullptr, values, nullptr, nullptr, 1));
    out += DescribeResult(r.get());
    PgResult prep(PQprepare(conn, "by_id", "SELECT * FROM items WHERE id = $1", 1, nullptr));
    out += DescribeResult(prep.get());
    PgResult desc(PQdescribePrepared(conn, "by_id"));
    out += DescribeResult(desc.get()) + "nparams=" + std::to_string(PQnparams(desc.get())) +
           " ptype=" + std::to_string(PQparamtype(desc.get(), 0)) + "\n";
    for (const char* id : {"7", "1999", "5000"}) {
      const char* p[1] = {id};
      PgResult e(PQexecPrepared(conn, "by_id", 1, p, nullptr, nullptr, 0));
      out += DescribeResult(e.get());
    }
    const char* bad[1] = {"not a number"};
    PgResult err(PQexecPrepared(conn, "by_id", 1, bad, nullptr, nullptr, 0));
    out += DescribeResult(err.get());
    PgResult again(
        PQexecParams(conn, "SELECT count(*) FROM items", 0, nullptr, nullptr, nullptr, nullptr, 0));
    out += DescribeResult(again.get());
    return out;
  };
  auto direct = Connect(Env().DirectConnInfo(kTrustUser));
  auto proxied = Connect(Env().ProxyConnInfo(kMd5User));
  IT_ASSERT_OK(direct);
  IT_ASSERT_OK(proxied);
  std::string want = run(direct->get());
  EXPECT_EQ(run(proxied->get()), want);
  EXPECT_NE(want.find("22P02"), std::string::npos) << want;
  EXPECT_NE(want.find("fmt=1"), std::string::npos) << want;
  EXPECT_NE(want.find("row |2000"), std::string::npos) << want;
}

TEST_F(QueryTest, LibpqxxPreparedAndStreams) {
  pqxx::connection conn(Env().ProxyConnInfo(kScramUser));
  conn.prepare("price_of", "SELECT price FROM items WHERE id = $1");
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec_prepared1("price_of", 8)[0].as<std::string>(), "10.00");
  pqxx::result r = tx.exec_params("SELECT id FROM items WHERE id <= $1 ORDER BY id", 100);
  ASSERT_EQ(r.size(), 100u);
  EXPECT_EQ(r[99][0].as<int>(), 100);
  long total = 0;
  pqxx::stream_from stream(tx, "items");
  std::tuple<int, std::string, std::string, std::string, std::string, std::string, std::string> row;
  while (stream >> row) total += std::get<0>(row);
  stream.complete();
  EXPECT_EQ(total, 2000L * 2001 / 2);
  tx.commit();
}

// libpq pipeline mode: 100 Bind/Describe/Execute groups before one Sync.
TEST_F(QueryTest, PipelineOf100BeforeOneSync) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  PgResult prep(PQprepare(c, "twice", "SELECT $1::int * 2, repeat('p', $1::int)", 1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK);
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  std::vector<std::string> args;
  for (int i = 0; i < 100; ++i) args.push_back(std::to_string(i));
  for (int i = 0; i < 100; ++i) {
    const char* p[1] = {args[i].c_str()};
    ASSERT_EQ(PQsendQueryPrepared(c, "twice", 1, p, nullptr, nullptr, 0), 1);
  }
  ASSERT_EQ(PQpipelineSync(c), 1);
  for (int i = 0; i < 100; ++i) {
    PgResult r(PQgetResult(c));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << i << ": " << PQerrorMessage(c);
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), std::to_string(2 * i));
    EXPECT_EQ(PQgetlength(r.get(), 0, 1), i);
    EXPECT_EQ(PQgetResult(c), nullptr);  // end of this query's results
  }
  PgResult sync(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
  EXPECT_EQ(*QueryValue(c, "SELECT 'after'"), "after");
}

// An error in the middle of a pipeline: the server skips everything up to the Sync,
// libpq reports those queries as aborted, and the next pipeline works.
TEST_F(QueryTest, PipelineErrorAbortsUntilSyncThenRecovers) {
  auto conn = Connect(Env().ProxyConnInfo(kScramUser));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  std::vector<std::string> args;
  for (int i = 0; i < 20; ++i) args.push_back(std::to_string(i));
  for (int i = 0; i < 20; ++i) {
    const char* p[1] = {args[i].c_str()};
    ASSERT_EQ(
        PQsendQueryParams(c, "SELECT 100 / ($1::int - 7)", 1, nullptr, p, nullptr, nullptr, 0), 1);
  }
  ASSERT_EQ(PQpipelineSync(c), 1);
  const char* p[1] = {"3"};
  ASSERT_EQ(PQsendQueryParams(c, "SELECT $1::int + 1", 1, nullptr, p, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(c), 1);
  for (int i = 0; i < 20; ++i) {
    PgResult r(PQgetResult(c));
    ExecStatusType want = i < 7    ? PGRES_TUPLES_OK
                          : i == 7 ? PGRES_FATAL_ERROR
                                   : PGRES_PIPELINE_ABORTED;
    ASSERT_EQ(PQresultStatus(r.get()), want) << "query " << i;
    if (i == 7) {
      EXPECT_STREQ(PQresultErrorField(r.get(), PG_DIAG_SQLSTATE), "22012");
    }
    EXPECT_EQ(PQgetResult(c), nullptr);
  }
  PgResult sync(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
  PgResult after(PQgetResult(c));
  ASSERT_EQ(PQresultStatus(after.get()), PGRES_TUPLES_OK) << PQerrorMessage(c);
  EXPECT_STREQ(PQgetvalue(after.get(), 0, 0), "4");
  EXPECT_EQ(PQgetResult(c), nullptr);
  PgResult sync2(PQgetResult(c));
  EXPECT_EQ(PQresultStatus(sync2.get()), PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
}

TEST_F(QueryTest, RowLimitedExecuteReturnsPortalSuspendedLikeDirect) {
  const std::string script = fe::Parse("s1", "SELECT g, 'v' || g FROM generate_series(1, 10) g") +
                             fe::Bind("p1", "s1", {}) + fe::Describe('P', "p1") +
                             fe::Execute("p1", 3) + fe::Execute("p1", 3) + fe::Execute("p1", 3) +
                             fe::Execute("p1", 3) + fe::Execute("p1", 3) + fe::Sync();
  Exchange direct = RunExchange(Env().server_port(), kTrustUser, script, 1);
  Exchange proxied = RunExchange(Env().proxy_port(), kTrustUser, script, 1);
  ASSERT_TRUE(direct.status.ok()) << direct.status.ToString();
  ASSERT_TRUE(proxied.status.ok()) << proxied.status.ToString();
  EXPECT_EQ(be::Types(direct.messages), "12TDDDsDDDsDDDsDCCZ");
  EXPECT_EQ(Dump(proxied.messages), Dump(direct.messages));
}

TEST_F(QueryTest, FlushWithoutSyncGetsAnswerBeforeSync) {
  auto client = RawClient::Connect(Env().proxy_port());
  IT_ASSERT_OK(client);
  IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase));
  IT_ASSERT_OK((*client)->Send(fe::Parse("", "SELECT 42") + fe::Bind("", "", {}) +
                               fe::Execute("", 0) + fe::Flush()));
  // No Sync yet: the answer must come anyway (a proxy waiting for ReadyForQuery hangs here).
  auto got = (*client)->ReadUntil('C', std::chrono::seconds(5));
  IT_ASSERT_OK(got);
  EXPECT_EQ(be::Types(*got), "12DC");
  EXPECT_EQ(be::DataRowValues((*got)[2].body), std::vector<std::string>{"42"});
  IT_ASSERT_OK((*client)->Send(fe::Sync()));
  auto ready = (*client)->ReadUntil('Z', std::chrono::seconds(5));
  IT_ASSERT_OK(ready);
  EXPECT_EQ(be::Types(*ready), "Z");
}

TEST_F(QueryTest, ErrorSkipsToSyncAndCloseOfUnknownNamesLikeDirect) {
  const std::string script =
      fe::Parse("a", "SELECT 1") + fe::Bind("", "a", {}) + fe::Execute("", 0) +
      fe::Parse("b", "SELECT * FROM no_such_table") + fe::Bind("", "b", {}) + fe::Execute("", 0) +
      fe::Parse("c", "SELECT 3") + fe::Sync() +  // skipped up to here
      fe::Close('S', "never_existed") + fe::Close('P', "nor_this") + fe::Close('S', "a") +
      fe::Bind("", "a", {}) + fe::Sync() + fe::Query("SELECT 'simple'");
  Exchange direct = RunExchange(Env().server_port(), kTrustUser, script, 3);
  Exchange proxied = RunExchange(Env().proxy_port(), kTrustUser, script, 3);
  ASSERT_TRUE(direct.status.ok()) << direct.status.ToString();
  ASSERT_TRUE(proxied.status.ok()) << proxied.status.ToString();
  EXPECT_EQ(be::Types(direct.messages), "12DCEZ333EZTDCZ");
  EXPECT_EQ(Dump(proxied.messages), Dump(direct.messages));
}

TEST_F(QueryTest, SingleRowModeAndCursorsLikeDirect) {
  auto run = [](PGconn* c) {
    std::string out;
    if (!PQsendQuery(c, "SELECT g, md5(g::text) FROM generate_series(1, 3000) g")) return out;
    if (!PQsetSingleRowMode(c)) return std::string("no single-row mode");
    int singles = 0;
    while (PGresult* r = PQgetResult(c)) {
      if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
        ++singles;
        out += PQgetvalue(r, 0, 1);
      } else {
        out += DescribeResult(r);
      }
      PQclear(r);
    }
    out += "singles=" + std::to_string(singles) + "\n";
    PgResult b = Exec(c, "BEGIN");
    PgResult d = Exec(c, "DECLARE cur CURSOR FOR SELECT id, name FROM items ORDER BY id");
    for (;;) {
      PgResult f = Exec(c, "FETCH 700 FROM cur");
      out += DescribeResult(f.get());
      if (PQntuples(f.get()) == 0) break;
    }
    PgResult e = Exec(c, "COMMIT");
    out += DescribeResult(e.get());
    return out;
  };
  auto direct = Connect(Env().DirectConnInfo(kTrustUser));
  auto proxied = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(direct);
  IT_ASSERT_OK(proxied);
  std::string want = run(direct->get());
  EXPECT_NE(want.find("singles=3000"), std::string::npos);
  EXPECT_NE(want.find("tag=FETCH 600"), std::string::npos);
  EXPECT_EQ(run(proxied->get()), want);
}

TEST_F(QueryTest, ParameterStatusAfterSetReachesClient) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser, "application_name=before"));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  EXPECT_STREQ(PQparameterStatus(c, "application_name"), "before");
  PgResult r = Exec(c, "SET application_name = 'after-set'");
  EXPECT_STREQ(PQparameterStatus(c, "application_name"), "after-set");
  r = Exec(c, "SET TimeZone = 'Asia/Shanghai'");
  EXPECT_STREQ(PQparameterStatus(c, "TimeZone"), "Asia/Shanghai");
  r = Exec(c, "SET DateStyle = 'German'");
  EXPECT_STREQ(PQparameterStatus(c, "DateStyle"), "German, DMY");
  // And byte for byte, as a raw client sees it.
  const std::string script = fe::Query("SET application_name = 'x'; SET intervalstyle = iso_8601");
  Exchange direct = RunExchange(Env().server_port(), kTrustUser, script, 1);
  Exchange proxied = RunExchange(Env().proxy_port(), kTrustUser, script, 1);
  ASSERT_TRUE(proxied.status.ok()) << proxied.status.ToString();
  // The server reports changed settings at the end of the query string.
  EXPECT_EQ(be::Types(direct.messages), "CCSSZ");
  EXPECT_EQ(Dump(proxied.messages), Dump(direct.messages));
}

TEST_F(QueryTest, NoticesReachClient) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  std::vector<std::string> notices;
  PQsetNoticeReceiver(
      conn->get(),
      [](void* arg, const PGresult* res) {
        static_cast<std::vector<std::string>*>(arg)->push_back(
            std::string(PQresultErrorField(res, PG_DIAG_SQLSTATE)) + " " +
            PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
      },
      &notices);
  PgResult r = Exec(conn->get(),
                    "DO $$ BEGIN RAISE NOTICE 'first %', 1; RAISE WARNING 'second'; "
                    "RAISE NOTICE USING MESSAGE = 'third', ERRCODE = '01000'; END $$");
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  EXPECT_EQ(notices, (std::vector<std::string>{"00000 first 1", "01000 second", "01000 third"}));
}

// libpq's large-object API goes through the FunctionCall message ('F' → 'V').
TEST_F(QueryTest, LargeObjectsUseFunctionCall) {
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  std::string data(1 << 20, '\0');
  uint32_t x = 12345;  // fixed seed
  for (char& b : data) {
    x = x * 1103515245 + 12345;
    b = static_cast<char>(x >> 16);
  }
  PgResult r = Exec(c, "BEGIN");
  Oid oid = lo_creat(c, 0x20000 | 0x40000);  // INV_WRITE | INV_READ
  ASSERT_NE(oid, 0u) << PQerrorMessage(c);
  int fd = lo_open(c, oid, 0x20000 | 0x40000);
  ASSERT_GE(fd, 0) << PQerrorMessage(c);
  for (size_t off = 0; off < data.size(); off += 100000) {
    size_t n = std::min<size_t>(100000, data.size() - off);
    ASSERT_EQ(lo_write(c, fd, data.data() + off, n), static_cast<int>(n)) << PQerrorMessage(c);
  }
  ASSERT_EQ(lo_lseek(c, fd, 0, SEEK_SET), 0);
  std::string back(data.size(), '\0');
  size_t got = 0;
  while (got < back.size()) {
    int n = lo_read(c, fd, back.data() + got, std::min<size_t>(65536, back.size() - got));
    ASSERT_GT(n, 0) << PQerrorMessage(c);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(back, data);
  EXPECT_EQ(lo_tell(c, fd), static_cast<int>(data.size()));
  ASSERT_EQ(lo_close(c, fd), 0);
  r = Exec(c, "COMMIT");
  // A failing FunctionCall: the server's error comes back and the session goes on.
  EXPECT_LT(lo_open(c, 999999999, 0x40000), 0);
  EXPECT_NE(std::string(PQerrorMessage(c)).find("does not exist"), std::string::npos)
      << PQerrorMessage(c);
  auto md5 = QueryValue(c, "SELECT md5(lo_get(" + std::to_string(oid) + "))");
  IT_ASSERT_OK(md5);
  auto direct = Connect(Env().DirectConnInfo(kTrustUser));
  IT_ASSERT_OK(direct);
  EXPECT_EQ(*md5, *QueryValue(direct->get(), "SELECT md5(lo_get(" + std::to_string(oid) + "))"));
  EXPECT_EQ(lo_unlink(c, oid), 1);
}

}  // namespace
}  // namespace pgveil::it
