// COPY through pgveil: 100,000 rows out and in, byte-identical to a direct connection,
// in text, CSV and binary formats, with errors in the middle of a COPY IN.
#include <gtest/gtest.h>

#include "harness/integration_env.h"
#include "harness/pq_util.h"
#include "harness/raw_exchange.h"

namespace pgveil::it {
namespace {

constexpr int kRows = 100000;

// Every byte the server sends for a COPY ... TO STDOUT, concatenated.
StatusOr<std::string> CopyOut(PGconn* conn, const std::string& sql, bool extended = false) {
  PgResult start(extended
                     ? PQexecParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)
                     : PQexec(conn, sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_OUT) {
    return Internal(std::string("not COPY OUT: ") + PQerrorMessage(conn));
  }
  std::string out;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    PQfreemem(buf);
  }
  if (n != -1) return Internal(std::string("copy read: ") + PQerrorMessage(conn));
  PgResult end(PQgetResult(conn));
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
    return Internal(std::string("copy end: ") + PQerrorMessage(conn));
  }
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  return out;
}

// Sends `data` for a COPY ... FROM STDIN in chunks of pseudo-random sizes (fixed seed),
// so chunk boundaries fall inside rows. Returns the final result's description.
std::string CopyIn(PGconn* conn, const std::string& sql, const std::string& data,
                   const char* fail_with = nullptr) {
  PgResult start(PQexec(conn, sql.c_str()));
  if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return std::string("not COPY IN: ") + PQerrorMessage(conn);
  }
  uint32_t x = 2024;
  size_t pos = 0;
  while (pos < data.size()) {
    x = x * 1664525 + 1013904223;
    size_t n = std::min<size_t>(1 + (x >> 16) % 40000, data.size() - pos);
    if (PQputCopyData(conn, data.data() + pos, static_cast<int>(n)) != 1) {
      return std::string("put failed: ") + PQerrorMessage(conn);
    }
    pos += n;
  }
  if (PQputCopyEnd(conn, fail_with) != 1) return std::string("end failed: ") + PQerrorMessage(conn);
  std::string out;
  while (PGresult* r = PQgetResult(conn)) {
    out += DescribeResult(r);
    PQclear(r);
  }
  return out;
}

class CopyTest : public RelayTest {
 protected:
  static void SetUpTestSuite() {
    // Text with every character COPY must escape, NULLs, numerics, bytea, timestamps.
    Status st = Env().Exec(
        "CREATE TABLE copy_src (id int PRIMARY KEY, txt text, num numeric, ts timestamptz, "
        "b bytea, flag bool);"
        "INSERT INTO copy_src SELECT g, "
        "CASE WHEN g % 97 = 0 THEN NULL ELSE 'row ' || g || E'\\t tab \\\\ back\\nnew 中文 \"q\" "
        ",' "
        "|| repeat('x', g % 50) END, "
        "g * 3.14159, timestamptz '2020-02-02 02:02:02+00' + g * interval '37 seconds', "
        "decode(md5(g::text), 'hex'), g % 3 = 0 FROM generate_series(1, 100000) g;"
        "GRANT ALL ON copy_src TO PUBLIC;");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void SetUp() override {
    auto direct = Connect(Env().DirectConnInfo(kTrustUser));
    auto proxied = Connect(Env().ProxyConnInfo(kTrustUser));
    ASSERT_TRUE(direct.ok() && proxied.ok())
        << direct.status().ToString() << proxied.status().ToString();
    direct_ = std::move(*direct);
    proxied_ = std::move(*proxied);
  }

  void ExpectCopyOutIdentical(const std::string& sql, size_t min_bytes, bool extended = false) {
    auto want = CopyOut(direct_.get(), sql, extended);
    auto got = CopyOut(proxied_.get(), sql, extended);
    IT_ASSERT_OK(want);
    IT_ASSERT_OK(got);
    EXPECT_GE(want->size(), min_bytes);
    EXPECT_EQ(got->size(), want->size());
    EXPECT_TRUE(*got == *want) << "COPY OUT through pgveil differs from direct for: " << sql;
  }

  PgConn direct_;
  PgConn proxied_;
};

TEST_F(CopyTest, CopyOutTextIdenticalToDirect) {
  ExpectCopyOutIdentical("COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT", 8000000);
}

TEST_F(CopyTest, CopyOutCsvAndBinaryIdenticalToDirect) {
  ExpectCopyOutIdentical("COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT (FORMAT csv)",
                         8000000);
  ExpectCopyOutIdentical("COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT (FORMAT binary)",
                         8000000);
}

TEST_F(CopyTest, CopyOutThroughExtendedProtocolIdenticalToDirect) {
  ExpectCopyOutIdentical("COPY (SELECT id, txt FROM copy_src ORDER BY id) TO STDOUT", 4000000,
                         /*extended=*/true);
}

TEST_F(CopyTest, CopyInTextAndBinaryRoundTripIdentical) {
  for (const char* format : {"text", "binary"}) {
    SCOPED_TRACE(format);
    const std::string opts = std::string(" (FORMAT ") + format + ")";
    auto original =
        CopyOut(direct_.get(), "COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT" + opts);
    IT_ASSERT_OK(original);
    const std::string table = std::string("copy_in_") + format;
    PgResult r = Exec(proxied_.get(), "CREATE TABLE " + table + " (LIKE copy_src)");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(proxied_.get());
    std::string result = CopyIn(proxied_.get(), "COPY " + table + " FROM STDIN" + opts, *original);
    EXPECT_EQ(result, "PGRES_COMMAND_OK tag=COPY 100000\n");
    auto back =
        CopyOut(direct_.get(), "COPY (SELECT * FROM " + table + " ORDER BY id) TO STDOUT" + opts);
    IT_ASSERT_OK(back);
    EXPECT_EQ(back->size(), original->size());
    EXPECT_TRUE(*back == *original) << "rows copied in through pgveil differ";
  }
}

TEST_F(CopyTest, CopyInErrorMidStreamLikeDirectAndSessionRecovers) {
  auto original =
      CopyOut(direct_.get(), "COPY (SELECT id, num FROM copy_src ORDER BY id) TO STDOUT");
  IT_ASSERT_OK(original);
  // Break row 50,000: the server fails there while the client is still sending.
  std::string data = *original;
  size_t at = data.find("\n50000\t");
  ASSERT_NE(at, std::string::npos);
  data.replace(at + 1, 5, "oops!");
  for (PGconn* c : {direct_.get(), proxied_.get()}) {
    PgResult r = Exec(c, "CREATE TEMP TABLE t_err (id int, num numeric)");
  }
  std::string want = CopyIn(direct_.get(), "COPY t_err FROM STDIN", data);
  std::string got = CopyIn(proxied_.get(), "COPY t_err FROM STDIN", data);
  EXPECT_NE(want.find("PGRES_FATAL_ERROR 22P02"), std::string::npos) << want;
  EXPECT_EQ(got, want);
  EXPECT_EQ(*QueryValue(proxied_.get(), "SELECT count(*) FROM t_err"), "0");
}

TEST_F(CopyTest, CopyFailFromClientLikeDirect) {
  for (PGconn* c : {direct_.get(), proxied_.get()}) {
    PgResult r = Exec(c, "CREATE TEMP TABLE t_fail (id int, num numeric)");
  }
  const std::string data = "1\t2\n3\t4\n";
  std::string want = CopyIn(direct_.get(), "COPY t_fail FROM STDIN", data, "client gave up");
  std::string got = CopyIn(proxied_.get(), "COPY t_fail FROM STDIN", data, "client gave up");
  EXPECT_NE(want.find("57014 COPY from stdin failed: client gave up"), std::string::npos) << want;
  EXPECT_EQ(got, want);
  EXPECT_EQ(*QueryValue(proxied_.get(), "SELECT 'alive'"), "alive");
}

// Raw frames: Sync and Flush in the middle of COPY IN are ignored by the server;
// CopyData boundaries are arbitrary; a CopyData after an error is swallowed.
TEST_F(CopyTest, RawCopyInWithStraySyncAndFlushLikeDirect) {
  PgResult r =
      Exec(direct_.get(), "CREATE TABLE raw_copy (a int, b text); GRANT ALL ON raw_copy TO PUBLIC");
  const std::string script =
      fe::Query("COPY raw_copy FROM STDIN") + fe::Frame('d', "1\tone\n2\tt") + fe::Flush() +
      fe::Sync() + fe::Frame('d', "wo\n3\tthree\n") + fe::Frame('c', "") +
      fe::Query("SELECT string_agg(a || b, ',' ORDER BY a) FROM raw_copy; TRUNCATE raw_copy") +
      fe::Parse("", "COPY raw_copy FROM STDIN") + fe::Bind("", "", {}) + fe::Execute("", 0) +
      fe::Frame('d', "x\ty\n") + fe::Frame('c', "") + fe::Sync();
  Exchange direct = RunExchange(Env().server_port(), kTrustUser, script, 3);
  Exchange proxied = RunExchange(Env().proxy_port(), kTrustUser, script, 3);
  ASSERT_TRUE(direct.status.ok()) << direct.status.ToString();
  ASSERT_TRUE(proxied.status.ok()) << proxied.status.ToString();
  EXPECT_EQ(be::Types(direct.messages), "GCZTDCCZ12GEZ");
  EXPECT_EQ(Dump(proxied.messages), Dump(direct.messages));
}

}  // namespace
}  // namespace pgveil::it
