// Prepared-statement names and pseudonym parameters in a masked session (sales_li,
// policy sales), through pgveil in front of the demo CRM.
//
// PostgreSQL has one name space for statements made by SQL PREPARE and by Parse
// messages. pgveil translates pseudonym parameters back to real ids at Bind for
// statements it saw parsed, and in EXECUTE's arguments for statements it saw prepared
// with SQL; a statement reached by the other route must be refused, never run with the
// value as sent (it would be taken as a real id). The same holds for a Parse that reuses
// an existing name (the server keeps the old statement), a Parse the server fails or
// skips, a Close the server skips, DISCARD ALL and DEALLOCATE, and for EXECUTE sent in a
// Parse message. A parameter that stands for a pseudonym or a masking
// boundary may appear only in its comparison; a pseudonym literal may be cast only to
// the column's own type.
//
// The members used are identified by real id (read as postgres) and by the pseudonym
// sales sees (rows matched by order, cross-checked on the nickname, which sales sees as
// stored). "Never the real id's row" is checked by passing a member's REAL id as the
// value: if pgveil let it through untranslated, that member's (unique) nickname would come
// back. match_engine (policy matcher, no masking) shows what the server does with the
// same sequence when nothing is translated.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include "harness/raw_client.h"
#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

using std::chrono::seconds;
namespace fe = it::fe;
namespace be = it::be;

constexpr char kSales[] = "sales_li";
constexpr char kMatcher[] = "match_engine";
constexpr char kByIdSql[] = "SELECT nickname FROM crm.members WHERE member_id = $1";
constexpr uint32_t kInt8 = 20;

// One member as both sides see it.
struct Member {
  std::string real_id;
  std::string pseudonym;
  std::string nickname;  // unique among the members
};

// What a command returned: its status, SQLSTATE and the first column of every row.
struct Outcome {
  ExecStatusType status = PGRES_FATAL_ERROR;
  std::string sqlstate;
  std::string message;
  std::vector<std::string> values;

  bool ok() const { return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK; }
  bool Has(const std::string& v) const {
    for (const auto& x : values) {
      if (x == v) return true;
    }
    return false;
  }
  // For failure messages: status, SQLSTATE, message and the number of rows (no values).
  std::string Describe() const {
    return std::string(PQresStatus(status)) + " " + sqlstate + " " + message + " (" +
           std::to_string(values.size()) + " rows)";
  }
};

Outcome OutcomeOf(PGresult* raw) {
  it::PgResult res(raw);
  Outcome o;
  if (res == nullptr) {
    o.message = "no result";
    return o;
  }
  o.status = PQresultStatus(res.get());
  if (const char* s = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE)) o.sqlstate = s;
  o.message = PQresultErrorMessage(res.get());
  while (!o.message.empty() && o.message.back() == '\n') o.message.pop_back();
  if (o.status == PGRES_TUPLES_OK && PQnfields(res.get()) > 0) {
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      o.values.emplace_back(
          PQgetisnull(res.get(), r, 0)
              ? std::string("<NULL>")
              : std::string(PQgetvalue(res.get(), r, 0), PQgetlength(res.get(), r, 0)));
    }
  }
  return o;
}

// Simple query (one statement).
Outcome Simple(PGconn* c, const std::string& sql) { return OutcomeOf(PQexec(c, sql.c_str())); }

// Parse message (PQprepare) with the given parameter types (0: let the server infer).
Outcome Prepare(PGconn* c, const std::string& name, const std::string& sql,
                const std::vector<Oid>& types = {}) {
  return OutcomeOf(PQprepare(c, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                             types.empty() ? nullptr : types.data()));
}

// Bind/Describe/Execute of a named statement with text parameters (PQexecPrepared).
Outcome ExecPrepared(PGconn* c, const std::string& name, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return OutcomeOf(PQexecPrepared(c, name.c_str(), static_cast<int>(values.size()),
                                  values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
}

// Unnamed Parse/Bind/Execute with text parameters (PQexecParams).
Outcome ExecParams(PGconn* c, const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return OutcomeOf(PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
}

class PreparedNamesTest : public MaskingTest {
 protected:
  static void SetUpTestSuite() {
    auto raw =
        Fetch(Env().DirectConnInfo("postgres"), "SELECT member_id, nickname FROM crm.members");
    auto masked = Fetch(Env().ProxyConnInfo(kSales), "SELECT member_id, nickname FROM crm.members");
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_EQ(raw->rows.size(), static_cast<size_t>(kMembers));
    ASSERT_EQ(masked->rows.size(), raw->rows.size());
    std::map<std::string, int> nick_count;
    for (const auto& r : raw->rows) {
      if (r[1]) ++nick_count[*r[1]];
    }
    members_ = new std::vector<Member>();
    for (size_t i = 0; i < raw->rows.size() && members_->size() < 4; ++i) {
      const auto& r = raw->rows[i];
      const auto& m = masked->rows[i];
      ASSERT_TRUE(r[0] && m[0] && r[1] && m[1]);
      ASSERT_EQ(*r[1], *m[1]) << "masked and raw scans are not in the same order (row " << i << ")";
      if (nick_count[*r[1]] != 1) continue;
      // A member whose pseudonym happens to equal a real id would blur the checks.
      if (*r[0] == *m[0]) continue;
      members_->push_back({*r[0], *m[0], *r[1]});
    }
    ASSERT_EQ(members_->size(), 4u);
    // No member's real id is another one's pseudonym among those used.
    for (const auto& a : *members_) {
      for (const auto& b : *members_) ASSERT_NE(a.real_id, b.pseudonym);
    }
  }
  static void TearDownTestSuite() {
    delete members_;
    members_ = nullptr;
  }

  void SetUp() override {
    auto c = it::Connect(Env().ProxyConnInfo(kSales));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    sales_ = std::move(*c);
    auto m = it::Connect(Env().ProxyConnInfo(kMatcher));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    matcher_ = std::move(*m);
  }

  static const Member& A() { return (*members_)[0]; }
  static const Member& B() { return (*members_)[1]; }
  static const Member& C() { return (*members_)[2]; }

  PGconn* sales() { return sales_.get(); }
  PGconn* matcher() { return matcher_.get(); }

  // The session still answers a plain query and holds no open transaction.
  void ExpectUsable(PGconn* c) {
    Outcome o = Simple(c, "SELECT 1");
    EXPECT_TRUE(o.ok() && o.values == std::vector<std::string>{"1"}) << o.Describe();
    EXPECT_EQ(PQtransactionStatus(c), PQTRANS_IDLE);
  }

  // `o` is a refusal with `sqlstate` and carries no row of the member whose real id was
  // passed.
  static void ExpectRefused(const Outcome& o, const std::string& sqlstate,
                            const std::string& what) {
    EXPECT_EQ(o.status, PGRES_FATAL_ERROR) << what << ": " << o.Describe();
    EXPECT_EQ(o.sqlstate, sqlstate) << what << ": " << o.Describe();
  }
  // `o` does not hold the nickname of `m`: the value was not taken as m's real id.
  static void ExpectNotRealRow(const Outcome& o, const Member& m, const std::string& what) {
    EXPECT_FALSE(o.Has(m.nickname))
        << what << ": the row of the member whose REAL id was passed came back";
  }
  // `o` holds exactly the nickname of `m` (what match_engine sees for m's real id).
  void ExpectMember(const Outcome& o, const Member& m, const std::string& what) {
    ASSERT_TRUE(o.ok()) << what << ": " << o.Describe();
    Outcome want = ExecParams(matcher(), kByIdSql, {m.real_id});
    ASSERT_TRUE(want.ok()) << want.Describe();
    ASSERT_EQ(want.values.size(), 1u);
    EXPECT_EQ(o.values, want.values) << what << ": not the member the pseudonym stands for";
  }

  static std::vector<Member>* members_;
  it::PgConn sales_;
  it::PgConn matcher_;
};

std::vector<Member>* PreparedNamesTest::members_ = nullptr;

// The environment's raw (trust) login of policy sales, for exact message sequences.
class RawSession {
 public:
  explicit RawSession(std::unique_ptr<it::RawClient> c) : client_(std::move(c)) {}
  static std::unique_ptr<RawSession> Open() {
    auto client = it::RawClient::Connect(Env().proxy_port());
    if (!client.ok()) {
      ADD_FAILURE() << client.status().ToString();
      return nullptr;
    }
    auto startup = (*client)->StartupTrust(kRawSales, it::kDatabase);
    if (!startup.ok()) {
      ADD_FAILURE() << startup.status().ToString();
      return nullptr;
    }
    return std::make_unique<RawSession>(std::move(*client));
  }
  // Sends `script`, reads up to its ReadyForQuery.
  std::vector<it::BackendMessage> Run(const std::string& script) {
    if (Status st = client_->Send(script); !st.ok()) {
      ADD_FAILURE() << st.ToString();
      return {};
    }
    auto got = client_->ReadUntil('Z', seconds(30));
    if (!got.ok()) {
      ADD_FAILURE() << got.status().ToString();
      return {};
    }
    return *got;
  }

 private:
  std::unique_ptr<it::RawClient> client_;
};

std::vector<std::string> Sqlstates(const std::vector<it::BackendMessage>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) {
    if (m.type == 'E') out.push_back(be::Fields(m.body)['C']);
  }
  return out;
}

std::vector<std::string> FirstValues(const std::vector<it::BackendMessage>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) {
    if (m.type == 'D') out.push_back(be::DataRowValues(m.body).at(0));
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// ---- 1. SQL PREPARE, then a protocol Bind of the same name ----

TEST_F(PreparedNamesTest, BindOfSqlPreparedStatementIsRefused) {
  // Directly what the server does: the Bind runs the SQL statement with the value as a
  // real id.
  ASSERT_TRUE(Simple(matcher(), std::string("PREPARE p1(bigint) AS ") + kByIdSql).ok());
  Outcome direct = ExecPrepared(matcher(), "p1", {B().real_id});
  ASSERT_TRUE(direct.ok()) << direct.Describe();
  ASSERT_TRUE(direct.Has(B().nickname)) << "the scenario proves nothing";

  Outcome prep = Simple(sales(), std::string("PREPARE p1(bigint) AS ") + kByIdSql);
  ASSERT_TRUE(prep.ok()) << prep.Describe();
  for (const std::string& value : {B().real_id, A().pseudonym}) {
    Outcome o = ExecPrepared(sales(), "p1", {value});
    ExpectRefused(o, "0A000", "Bind of a SQL-prepared statement");
    ExpectNotRealRow(o, B(), "Bind of a SQL-prepared statement");
    EXPECT_TRUE(o.values.empty());
    ExpectUsable(sales());
  }
  // The statement itself still works through EXECUTE, translated.
  ExpectMember(Simple(sales(), "EXECUTE p1(" + A().pseudonym + ")"), A(), "EXECUTE p1");
  Outcome real = Simple(sales(), "EXECUTE p1(" + B().real_id + ")");
  ExpectNotRealRow(real, B(), "EXECUTE p1(real id)");
}

// The same Bind inside a pipeline: refused, and the pipeline's later statements are
// skipped up to the Sync like after any error.
TEST_F(PreparedNamesTest, BindOfSqlPreparedStatementInAPipeline) {
  ASSERT_TRUE(Simple(sales(), std::string("PREPARE p1(bigint) AS ") + kByIdSql).ok());
  PGconn* c = sales();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  const char* v[] = {B().real_id.c_str()};
  ASSERT_EQ(PQsendQueryPrepared(c, "p1", 1, v, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(c, "SELECT 42", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(c), 1);
  Outcome first = OutcomeOf(PQgetResult(c));
  ExpectRefused(first, "0A000", "pipelined Bind of a SQL-prepared statement");
  ExpectNotRealRow(first, B(), "pipelined Bind");
  ASSERT_EQ(PQgetResult(c), nullptr);
  Outcome second = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(second.status, PGRES_PIPELINE_ABORTED) << second.Describe();
  ASSERT_EQ(PQgetResult(c), nullptr);
  Outcome sync = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(sync.status, PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
  ExpectUsable(c);
}

// ---- 2. Parse, then SQL EXECUTE of the same name ----

TEST_F(PreparedNamesTest, SqlExecuteOfParsedStatementIsRefused) {
  ASSERT_TRUE(Prepare(matcher(), "s1", kByIdSql).ok());
  Outcome direct = Simple(matcher(), "EXECUTE s1(" + B().real_id + ")");
  ASSERT_TRUE(direct.ok() && direct.Has(B().nickname)) << "the scenario proves nothing";

  Outcome parse = Prepare(sales(), "s1", kByIdSql);
  ASSERT_TRUE(parse.ok()) << parse.Describe();
  for (const std::string& value : {A().pseudonym, B().real_id, "'" + A().pseudonym + "'"}) {
    Outcome o = Simple(sales(), "EXECUTE s1(" + value + ")");
    ExpectRefused(o, "42501", "EXECUTE of a parsed statement");
    ExpectNotRealRow(o, B(), "EXECUTE of a parsed statement");
    ExpectUsable(sales());
  }
  // Inside a transaction block: refused the same way, the block aborted.
  ASSERT_TRUE(Simple(sales(), "BEGIN").ok());
  Outcome in_tx = Simple(sales(), "EXECUTE s1(" + B().real_id + ")");
  ExpectRefused(in_tx, "42501", "EXECUTE in a transaction block");
  ExpectNotRealRow(in_tx, B(), "EXECUTE in a transaction block");
  ASSERT_TRUE(Simple(sales(), "ROLLBACK").ok());
  // Bind of the parsed statement translates the pseudonym.
  ExpectMember(ExecPrepared(sales(), "s1", {A().pseudonym}), A(), "Bind of s1");
  ExpectMember(ExecPrepared(sales(), "s1", {C().pseudonym}), C(), "Bind of s1");
  ExpectNotRealRow(ExecPrepared(sales(), "s1", {B().real_id}), B(), "Bind of s1 (real id)");
}

// EXECUTE sent in a Parse message (PQexecParams: Parse/Bind/Describe/Execute/Sync of the
// unnamed statement) runs when it is executed, against whatever statement has the name by
// then: its arguments cannot be translated when it is parsed, so masked sessions may send
// EXECUTE as a simple query only (0A000), never with real ids passed to the server.
TEST_F(PreparedNamesTest, ExtendedProtocolExecuteOfParsedStatement) {
  ASSERT_TRUE(Prepare(sales(), "s1", kByIdSql).ok());
  Outcome o = ExecParams(sales(), "EXECUTE s1(" + B().real_id + ")", {});
  ExpectNotRealRow(o, B(), "EXECUTE s1(real id) sent in a Parse message");
  ExpectRefused(o, "0A000", "EXECUTE of a parsed statement sent in a Parse message");
  ExpectUsable(sales());
}

TEST_F(PreparedNamesTest, ExtendedProtocolExecuteOfSqlPreparedStatement) {
  ASSERT_TRUE(Simple(sales(), std::string("PREPARE p1(bigint) AS ") + kByIdSql).ok());
  Outcome real = ExecParams(sales(), "EXECUTE p1(" + B().real_id + ")", {});
  ExpectNotRealRow(real, B(), "EXECUTE p1(real id) sent in a Parse message");
  ExpectRefused(real, "0A000", "EXECUTE p1(real id) sent in a Parse message");
  Outcome pseudo = ExecParams(sales(), "EXECUTE p1(" + A().pseudonym + ")", {});
  ExpectRefused(pseudo, "0A000", "EXECUTE p1(pseudonym) sent in a Parse message");
  ExpectUsable(sales());
  // As a simple query it is translated.
  ExpectMember(Simple(sales(), "EXECUTE p1(" + A().pseudonym + ")"), A(),
               "EXECUTE p1(pseudonym) as a simple query");
  // A parameter as EXECUTE's argument is no literal pgveil could translate.
  Outcome param = ExecParams(sales(), "EXECUTE p1($1)", {B().real_id});
  ExpectNotRealRow(param, B(), "EXECUTE p1($1) with a real id");
  EXPECT_FALSE(param.ok()) << param.Describe();
  ExpectUsable(sales());
}

// ---- 3. Parse of a name that exists ----

TEST_F(PreparedNamesTest, ReparseOfExistingNameKeepsTheFirstStatement) {
  ASSERT_TRUE(Prepare(sales(), "s2", "SELECT $1::bigint").ok());
  Outcome again = Prepare(sales(), "s2", kByIdSql);
  ExpectRefused(again, "42P05", "Parse of an existing name");
  ExpectUsable(sales());
  // The server kept SELECT $1::bigint: the value comes back as sent, never translated.
  Outcome o = ExecPrepared(sales(), "s2", {A().pseudonym});
  ASSERT_TRUE(o.ok()) << o.Describe();
  EXPECT_EQ(o.values, std::vector<std::string>{A().pseudonym});
  EXPECT_FALSE(o.Has(A().real_id)) << "the real id came back";
}

TEST_F(PreparedNamesTest, ReparseOfExistingNameKeepsTheFirstStatementReverse) {
  ASSERT_TRUE(Prepare(sales(), "s3", kByIdSql).ok());
  Outcome again = Prepare(sales(), "s3", "SELECT $1::bigint");
  ExpectRefused(again, "42P05", "Parse of an existing name");
  ExpectUsable(sales());
  // Still the pseudonym statement, still translated.
  ExpectMember(ExecPrepared(sales(), "s3", {A().pseudonym}), A(), "Bind of s3");
  Outcome real = ExecPrepared(sales(), "s3", {B().real_id});
  ExpectNotRealRow(real, B(), "Bind of s3 with a real id");
  EXPECT_FALSE(real.Has(B().real_id));
}

// Both Parses in one pipeline: the second is refused before the first's ParseComplete.
TEST_F(PreparedNamesTest, ReparseOfExistingNameInOnePipeline) {
  PGconn* c = sales();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  ASSERT_EQ(PQsendPrepare(c, "s4", "SELECT $1::bigint", 0, nullptr), 1);
  ASSERT_EQ(PQsendPrepare(c, "s4", kByIdSql, 0, nullptr), 1);
  const char* v[] = {A().pseudonym.c_str()};
  ASSERT_EQ(PQsendQueryPrepared(c, "s4", 1, v, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(c), 1);
  const char* w[] = {B().real_id.c_str()};
  ASSERT_EQ(PQsendQueryPrepared(c, "s4", 1, w, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(c), 1);

  Outcome first = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(first.status, PGRES_COMMAND_OK) << first.Describe();
  ASSERT_EQ(PQgetResult(c), nullptr);
  Outcome second = OutcomeOf(PQgetResult(c));
  ExpectRefused(second, "42P05", "second Parse in the pipeline");
  ASSERT_EQ(PQgetResult(c), nullptr);
  Outcome skipped = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(skipped.status, PGRES_PIPELINE_ABORTED) << skipped.Describe();
  ASSERT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(OutcomeOf(PQgetResult(c)).status, PGRES_PIPELINE_SYNC);
  // After the Sync: the first statement, the value as sent.
  Outcome bound = OutcomeOf(PQgetResult(c));
  ASSERT_TRUE(bound.ok()) << bound.Describe();
  EXPECT_EQ(bound.values, std::vector<std::string>{B().real_id});
  ExpectNotRealRow(bound, B(), "Bind after the refused Parse");
  ASSERT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(OutcomeOf(PQgetResult(c)).status, PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);
  ExpectUsable(c);
}

// A Parse of a name SQL PREPARE made, and SQL PREPARE of a name a Parse made.
TEST_F(PreparedNamesTest, ParseOfSqlPreparedNameAndPrepareOfParsedName) {
  ASSERT_TRUE(Simple(sales(), "PREPARE p5(bigint) AS SELECT $1::bigint").ok());
  ExpectRefused(Prepare(sales(), "p5", kByIdSql), "42P05", "Parse of a SQL-prepared name");
  ExpectUsable(sales());
  // EXECUTE still runs the SQL statement: the value as sent.
  Outcome e = Simple(sales(), "EXECUTE p5(" + A().pseudonym + ")");
  ASSERT_TRUE(e.ok()) << e.Describe();
  EXPECT_EQ(e.values, std::vector<std::string>{A().pseudonym});

  ASSERT_TRUE(Prepare(sales(), "s5", kByIdSql).ok());
  Outcome p = Simple(sales(), "PREPARE s5(bigint) AS SELECT $1::bigint");
  ExpectRefused(p, "42P05", "SQL PREPARE of a parsed name");
  ExpectUsable(sales());
  // s5 is still the parsed statement, translated at Bind; EXECUTE of it still refused.
  ExpectMember(ExecPrepared(sales(), "s5", {A().pseudonym}), A(), "Bind of s5");
  Outcome x = Simple(sales(), "EXECUTE s5(" + B().real_id + ")");
  ExpectRefused(x, "42501", "EXECUTE s5 after the failed PREPARE");
  ExpectNotRealRow(x, B(), "EXECUTE s5 after the failed PREPARE");
}

// ---- 4. Parses the server fails or skips leave no statement behind ----

TEST_F(PreparedNamesTest, FailedParseForgetsItsStatement) {
  // A type error the guard lets through: the server's own error (no operator text = int).
  const std::string bad = std::string(kByIdSql) + " AND nickname = 1::int";
  Outcome failed = Prepare(sales(), "s6", bad);
  ExpectRefused(failed, "42883", "Parse the server rejects");
  ExpectUsable(sales());
  Outcome again = Prepare(sales(), "s6", kByIdSql);
  ASSERT_TRUE(again.ok()) << "Parse of the same name after a failed Parse: " << again.Describe();
  ExpectMember(ExecPrepared(sales(), "s6", {A().pseudonym}), A(), "Bind of s6");
  ExpectNotRealRow(ExecPrepared(sales(), "s6", {B().real_id}), B(), "Bind of s6 (real id)");

  // Also with pseudonym parameters in the failing statement, then a statement without.
  Outcome failed2 = Prepare(sales(), "s6b", bad);
  ExpectRefused(failed2, "42883", "Parse the server rejects");
  ASSERT_TRUE(Prepare(sales(), "s6b", "SELECT $1::bigint").ok());
  Outcome o = ExecPrepared(sales(), "s6b", {A().pseudonym});
  ASSERT_TRUE(o.ok()) << o.Describe();
  EXPECT_EQ(o.values, std::vector<std::string>{A().pseudonym});
}

TEST_F(PreparedNamesTest, SkippedParseForgetsItsStatement) {
  PGconn* c = sales();
  ASSERT_EQ(PQenterPipelineMode(c), 1);
  // An error first: the Parse after it is skipped by the server.
  ASSERT_EQ(PQsendQueryParams(c, "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendPrepare(c, "s7", kByIdSql, 0, nullptr), 1);
  ASSERT_EQ(PQpipelineSync(c), 1);
  Outcome err = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(err.sqlstate, "22012") << err.Describe();
  ASSERT_EQ(PQgetResult(c), nullptr);
  Outcome skipped = OutcomeOf(PQgetResult(c));
  EXPECT_EQ(skipped.status, PGRES_PIPELINE_ABORTED) << skipped.Describe();
  ASSERT_EQ(PQgetResult(c), nullptr);
  EXPECT_EQ(OutcomeOf(PQgetResult(c)).status, PGRES_PIPELINE_SYNC);
  ASSERT_EQ(PQexitPipelineMode(c), 1);

  // The server has no s7.
  Outcome none = ExecPrepared(c, "s7", {A().pseudonym});
  ExpectRefused(none, "26000", "Bind of a skipped Parse's statement");
  // And the name can be parsed again.
  Outcome again = Prepare(c, "s7", "SELECT $1::bigint");
  ASSERT_TRUE(again.ok()) << again.Describe();
  Outcome o = ExecPrepared(c, "s7", {A().pseudonym});
  ASSERT_TRUE(o.ok()) << o.Describe();
  EXPECT_EQ(o.values, std::vector<std::string>{A().pseudonym});
}

// ---- 5. DISCARD ALL and DEALLOCATE ----

TEST_F(PreparedNamesTest, DiscardAllClearsBothKinds) {
  ASSERT_TRUE(Prepare(sales(), "s8", "SELECT $1::bigint").ok());
  ASSERT_TRUE(Simple(sales(), std::string("PREPARE p8(bigint) AS ") + kByIdSql).ok());
  Outcome d = Simple(sales(), "DISCARD ALL");
  ASSERT_TRUE(d.ok()) << d.Describe();
  // Both names can be parsed again, with statements of the other shape.
  ASSERT_TRUE(Prepare(sales(), "s8", kByIdSql).ok());
  ASSERT_TRUE(Prepare(sales(), "p8", "SELECT $1::bigint").ok());
  ExpectMember(ExecPrepared(sales(), "s8", {A().pseudonym}), A(), "Bind of s8 after DISCARD ALL");
  ExpectNotRealRow(ExecPrepared(sales(), "s8", {B().real_id}), B(), "Bind of s8 (real id)");
  Outcome p = ExecPrepared(sales(), "p8", {A().pseudonym});
  ASSERT_TRUE(p.ok()) << p.Describe();
  EXPECT_EQ(p.values, std::vector<std::string>{A().pseudonym});
  // EXECUTE of the re-parsed p8 is refused (it is a Parse-made statement now).
  ExpectRefused(Simple(sales(), "EXECUTE p8(" + A().pseudonym + ")"), "42501",
                "EXECUTE of a name re-parsed after DISCARD ALL");
}

TEST_F(PreparedNamesTest, DeallocateOfParsedStatement) {
  ASSERT_TRUE(Prepare(sales(), "s9", "SELECT $1::bigint").ok());
  ASSERT_TRUE(Simple(sales(), "DEALLOCATE s9").ok());
  ExpectRefused(ExecPrepared(sales(), "s9", {A().pseudonym}), "26000", "Bind after DEALLOCATE");
  ASSERT_TRUE(Prepare(sales(), "s9", kByIdSql).ok());
  ExpectMember(ExecPrepared(sales(), "s9", {A().pseudonym}), A(), "Bind of s9 after DEALLOCATE");
  ExpectNotRealRow(ExecPrepared(sales(), "s9", {B().real_id}), B(), "Bind of s9 (real id)");

  // DEALLOCATE PREPARE name, and DEALLOCATE ALL, the same way.
  ASSERT_TRUE(Simple(sales(), "DEALLOCATE PREPARE s9").ok());
  ASSERT_TRUE(Prepare(sales(), "s9", "SELECT $1::bigint").ok());
  ASSERT_TRUE(Prepare(sales(), "s10", kByIdSql).ok());
  ASSERT_TRUE(Simple(sales(), std::string("PREPARE p10(bigint) AS ") + kByIdSql).ok());
  ASSERT_TRUE(Simple(sales(), "DEALLOCATE ALL").ok());
  ASSERT_TRUE(Prepare(sales(), "s9", kByIdSql).ok());
  ASSERT_TRUE(Prepare(sales(), "s10", "SELECT $1::bigint").ok());
  ASSERT_TRUE(Prepare(sales(), "p10", kByIdSql).ok());
  ExpectMember(ExecPrepared(sales(), "s9", {A().pseudonym}), A(), "s9 after DEALLOCATE ALL");
  ExpectMember(ExecPrepared(sales(), "p10", {A().pseudonym}), A(), "p10 after DEALLOCATE ALL");
  Outcome s10 = ExecPrepared(sales(), "s10", {A().pseudonym});
  ASSERT_TRUE(s10.ok()) << s10.Describe();
  EXPECT_EQ(s10.values, std::vector<std::string>{A().pseudonym});
}

TEST_F(PreparedNamesTest, DeallocateOfSqlPreparedStatementThenParse) {
  ASSERT_TRUE(Simple(sales(), "PREPARE p11(bigint) AS SELECT $1::bigint").ok());
  ASSERT_TRUE(Simple(sales(), "DEALLOCATE p11").ok());
  ASSERT_TRUE(Prepare(sales(), "p11", kByIdSql).ok());
  ExpectMember(ExecPrepared(sales(), "p11", {A().pseudonym}), A(), "Bind of p11");
  ExpectNotRealRow(ExecPrepared(sales(), "p11", {B().real_id}), B(), "Bind of p11 (real id)");
}

// A failed DISCARD ALL (in a transaction block) clears nothing: the parsed statement is
// still known, its Bind still translated and its name still taken.
TEST_F(PreparedNamesTest, FailedDiscardAllClearsNothing) {
  ASSERT_TRUE(Prepare(sales(), "s12", kByIdSql).ok());
  ASSERT_TRUE(Simple(sales(), "BEGIN").ok());
  Outcome d = Simple(sales(), "DISCARD ALL");
  EXPECT_EQ(d.sqlstate, "25001") << d.Describe();
  ASSERT_TRUE(Simple(sales(), "ROLLBACK").ok());
  ExpectRefused(Prepare(sales(), "s12", "SELECT $1::bigint"), "42P05",
                "Parse after failed DISCARD");
  ExpectMember(ExecPrepared(sales(), "s12", {A().pseudonym}), A(), "Bind of s12");
  ExpectNotRealRow(ExecPrepared(sales(), "s12", {B().real_id}), B(), "Bind of s12 (real id)");
}

// ---- Close messages (raw protocol, raw_sales: policy sales) ----

// A Close the server skips (an error earlier before the Sync) leaves the statement in
// place: pgveil must keep translating its parameters.
TEST_F(PreparedNamesTest, SkippedCloseKeepsTheStatementTranslated) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  auto parsed = s->Run(fe::Parse("c1", kByIdSql) + fe::Sync());
  ASSERT_TRUE(Sqlstates(parsed).empty()) << be::Types(parsed);
  // The Bind fails (no such statement); the server skips the Close.
  auto skipped = s->Run(fe::Bind("", "no_such_statement", {}) + fe::Close('S', "c1") + fe::Sync());
  EXPECT_EQ(Sqlstates(skipped), std::vector<std::string>{"26000"});
  EXPECT_EQ(be::Types(skipped).find('3'), std::string::npos) << "the Close was not skipped";
  // c1 still exists on the server.
  auto bound = s->Run(fe::Bind("", "c1", {B().real_id}) + fe::Execute("", 0) + fe::Sync());
  EXPECT_FALSE(Contains(FirstValues(bound), B().nickname))
      << "Bind of a statement whose Close was skipped ran with the value as a real id";
  auto bound2 = s->Run(fe::Bind("", "c1", {A().pseudonym}) + fe::Execute("", 0) + fe::Sync());
  auto want = ExecParams(matcher(), kByIdSql, {A().real_id});
  if (Sqlstates(bound2).empty()) {
    EXPECT_EQ(FirstValues(bound2), want.values) << "Bind of c1 with a pseudonym";
  }
}

// A Close of a SQL-prepared statement deallocates it on the server: the name can be
// parsed again, as directly.
TEST_F(PreparedNamesTest, CloseOfSqlPreparedStatementFreesTheName) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  auto prep = s->Run(fe::Query("PREPARE c2(bigint) AS SELECT $1::bigint"));
  ASSERT_TRUE(Sqlstates(prep).empty());
  auto closed = s->Run(fe::Close('S', "c2") + fe::Sync());
  ASSERT_TRUE(Sqlstates(closed).empty()) << be::Types(closed);
  auto parsed = s->Run(fe::Parse("c2", kByIdSql) + fe::Bind("", "c2", {A().pseudonym}) +
                       fe::Execute("", 0) + fe::Sync());
  EXPECT_EQ(Sqlstates(parsed), std::vector<std::string>{})
      << "Parse of a name whose SQL statement was closed (PostgreSQL accepts it)";
  if (Sqlstates(parsed).empty()) {
    auto want = ExecParams(matcher(), kByIdSql, {A().real_id});
    EXPECT_EQ(FirstValues(parsed), want.values);
  }
  // EXECUTE of the closed SQL statement reaches nothing.
  auto exec = s->Run(fe::Query("EXECUTE c2(" + B().real_id + ")"));
  EXPECT_FALSE(Contains(FirstValues(exec), B().nickname));
}

// ---- 6. A pseudonym or boundary parameter used only in its comparison ----

TEST_F(PreparedNamesTest, ParameterReuseIsRefused) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"SELECT $1::text FROM crm.members WHERE member_id = $1", {A().pseudonym}},
      {"SELECT nickname FROM crm.members WHERE member_id = $1 AND $1 > 1000", {A().pseudonym}},
      {"SELECT nickname FROM crm.members WHERE monthly_income >= $1 LIMIT $1", {"8000"}},
      {"SELECT nickname FROM crm.members WHERE member_id = $1 ORDER BY $1", {A().pseudonym}},
      {"SELECT nickname FROM crm.members WHERE member_id = $1 AND nickname <> $1::text",
       {A().pseudonym}},
      {"SELECT nickname, (SELECT $1::bigint) FROM crm.members WHERE member_id = $1",
       {A().pseudonym}},
      {"SELECT nickname FROM crm.members WHERE height_cm >= $1 AND $1 = 170", {"170"}},
  };
  int n = 0;
  for (const auto& [sql, params] : cases) {
    SCOPED_TRACE(sql);
    // Named Parse, unnamed Parse (PQexecParams) and SQL PREPARE.
    const std::string name = "r" + std::to_string(n++);
    Outcome parsed = Prepare(sales(), name, sql);
    ExpectRefused(parsed, "42501", "Parse");
    Outcome unnamed = ExecParams(sales(), sql, params);
    ExpectRefused(unnamed, "42501", "unnamed Parse");
    EXPECT_FALSE(unnamed.Has(A().real_id)) << "the real id came back";
    Outcome prepared = Simple(sales(), "PREPARE " + name + "x AS " + sql);
    ExpectRefused(prepared, "42501", "SQL PREPARE");
    ExpectUsable(sales());
    // The refused Parse left nothing behind: the name is free.
    ASSERT_TRUE(Prepare(sales(), name, "SELECT 1").ok());
  }
}

// One parameter both a pseudonym and a masking boundary: at the boundary comparison it
// would be bound to the real id.
TEST_F(PreparedNamesTest, PseudonymParameterAlsoUsedAsBoundaryIsRefused) {
  const std::string sql =
      "SELECT nickname FROM crm.members WHERE member_id = $1 AND monthly_income >= $1";
  ExpectRefused(Prepare(sales(), "r_both", sql), "42501", "Parse");
  ExpectRefused(ExecParams(sales(), sql, {"3000"}), "42501", "unnamed Parse");
}

TEST_F(PreparedNamesTest, SeparateParametersAreServed) {
  const std::string sql =
      "SELECT nickname FROM crm.members WHERE member_id = $1 OR member_id = $2 ORDER BY nickname";
  ASSERT_TRUE(Prepare(sales(), "two", sql).ok());
  Outcome o = ExecPrepared(sales(), "two", {A().pseudonym, C().pseudonym});
  ASSERT_TRUE(o.ok()) << o.Describe();
  Outcome want = Simple(matcher(), "SELECT nickname FROM crm.members WHERE member_id IN (" +
                                       A().real_id + ", " + C().real_id + ") ORDER BY nickname");
  ASSERT_TRUE(want.ok()) << want.Describe();
  ASSERT_EQ(want.values.size(), 2u);
  EXPECT_EQ(o.values, want.values);
  // Unnamed as well; a real id in either parameter is not taken as one.
  Outcome u = ExecParams(sales(), sql, {A().pseudonym, C().pseudonym});
  ASSERT_TRUE(u.ok()) << u.Describe();
  EXPECT_EQ(u.values, want.values);
  Outcome r = ExecParams(sales(), sql, {A().pseudonym, B().real_id});
  ExpectNotRealRow(r, B(), "second parameter a real id");
  // The same parameter in two pseudonym comparisons is one pseudonym.
  Outcome same =
      ExecParams(sales(), "SELECT nickname FROM crm.members WHERE member_id = $1 OR member_id = $1",
                 {A().pseudonym});
  if (same.ok()) ExpectMember(same, A(), "member_id = $1 OR member_id = $1");
  // A boundary parameter used once: served.
  Outcome bound =
      ExecParams(sales(), "SELECT count(*) FROM crm.members WHERE monthly_income >= $1", {"8000"});
  ASSERT_TRUE(bound.ok()) << bound.Describe();
  Outcome direct =
      Simple(matcher(), "SELECT count(*) FROM crm.members WHERE monthly_income >= 8000");
  EXPECT_EQ(bound.values, direct.values);
}

// ---- 7. Casts of pseudonym literals ----

TEST_F(PreparedNamesTest, PseudonymLiteralCastOnlyToTheColumnType) {
  const std::string base = "SELECT nickname FROM crm.members WHERE member_id = ";
  for (const std::string& cast :
       {"'" + A().pseudonym + "'::numeric(3,0)", "'" + A().pseudonym + "'::smallint",
        "'" + A().pseudonym + "'::int4", A().pseudonym + "::int2",
        "'" + A().pseudonym + "'::numeric", "CAST('" + A().pseudonym + "' AS integer)"}) {
    SCOPED_TRACE(cast);
    Outcome simple = Simple(sales(), base + cast);
    ExpectRefused(simple, "42501", "simple query");
    Outcome extended = ExecParams(sales(), base + cast, {});
    ExpectRefused(extended, "42501", "extended query");
    ExpectUsable(sales());
  }
  for (const std::string& ok :
       {"'" + A().pseudonym + "'::bigint", "'" + A().pseudonym + "'::int8",
        "'" + A().pseudonym + "'::pg_catalog.int8", "CAST('" + A().pseudonym + "' AS bigint)"}) {
    SCOPED_TRACE(ok);
    ExpectMember(Simple(sales(), base + ok), A(), "simple query");
    ExpectMember(ExecParams(sales(), base + ok, {}), A(), "extended query");
  }
  // A real id cast to bigint is a pseudonym of some other member, never the real row.
  ExpectNotRealRow(Simple(sales(), base + "'" + B().real_id + "'::bigint"), B(), "real id");
}

// ---- 8. Declared parameter types ----

// A Parse that declares a pseudonym parameter with another type than the column's would
// read the value in another pseudonym domain: refused at Bind.
TEST_F(PreparedNamesTest, PseudonymParameterDeclaredWithAnotherType) {
  constexpr uint32_t kInt4 = 23;
  ASSERT_TRUE(Prepare(sales(), "t1", kByIdSql, {kInt4}).ok());
  Outcome o = ExecPrepared(sales(), "t1", {"5"});
  ExpectRefused(o, "42501", "Bind of an int4 parameter for a bigint pseudonym");
  ExpectUsable(sales());
  ASSERT_TRUE(Prepare(sales(), "t2", kByIdSql, {kInt8}).ok());
  ExpectMember(ExecPrepared(sales(), "t2", {A().pseudonym}), A(), "declared bigint");
}

// ---- 9. Portals and cursors: one name space ----
//
// FETCH reads a portal made by Bind, and Execute runs a cursor made by DECLARE. Rows of
// either must be masked by what the portal actually runs: the statement as it was when
// the portal was bound (not a later statement of the same name), the cursor's query
// (not a statement once bound to a portal of that name), never by a Bind the server
// refused.

class PortalTest : public PreparedNamesTest {
 protected:
  // A value only its column's mask hides: monthly_income cast to text, of member A.
  static std::string IncomeSql() {
    return "SELECT monthly_income::text FROM crm.members WHERE member_id = " + A().pseudonym;
  }
  void SetUp() override {
    PreparedNamesTest::SetUp();
    Outcome masked = Simple(sales(), IncomeSql());
    Outcome raw = Simple(matcher(),
                         "SELECT monthly_income::text FROM crm.members WHERE "
                         "member_id = " +
                             A().real_id);
    ASSERT_TRUE(masked.ok() && raw.ok()) << masked.Describe() << raw.Describe();
    ASSERT_EQ(masked.values.size(), 1u);
    ASSERT_EQ(raw.values.size(), 1u);
    ASSERT_NE(masked.values, raw.values) << "the scenario proves nothing";
    masked_ = masked.values;
    raw_ = raw.values[0];
  }
  void ExpectMasked(const std::vector<it::BackendMessage>& got, const std::string& what) {
    EXPECT_FALSE(Contains(FirstValues(got), raw_)) << what << ": the raw value came back";
    if (Sqlstates(got).empty()) {
      EXPECT_EQ(FirstValues(got), masked_) << what;
    }
  }

  std::vector<std::string> masked_;
  std::string raw_;
};

TEST_F(PortalTest, FetchOfABoundPortal) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  // A cursor of the same name once returned a harmless value.
  s->Run(fe::Query("BEGIN; DECLARE c CURSOR FOR SELECT 1 AS x; COMMIT"));
  s->Run(fe::Query("BEGIN"));
  auto bound = s->Run(fe::Parse("s1", IncomeSql()) + fe::Bind("c", "s1", {}) + fe::Sync());
  ASSERT_TRUE(Sqlstates(bound).empty()) << be::Types(bound);
  ExpectMasked(s->Run(fe::Query("FETCH ALL FROM c")), "FETCH from a portal made by Bind");
  s->Run(fe::Query("ROLLBACK"));
}

TEST_F(PortalTest, ExecuteOfACursor) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  // A portal of the same name was once bound to a harmless statement.
  s->Run(fe::Parse("s0", "SELECT 'x'::text") + fe::Bind("c", "s0", {}) + fe::Execute("c", 0) +
         fe::Sync());
  auto declared = s->Run(fe::Query("BEGIN; DECLARE c CURSOR FOR " + IncomeSql()));
  ASSERT_TRUE(Sqlstates(declared).empty()) << be::Types(declared);
  ExpectMasked(s->Run(fe::Execute("c", 0) + fe::Sync()), "Execute of a cursor");
  s->Run(fe::Query("ROLLBACK"));
}

TEST_F(PortalTest, PortalOfAStatementParsedAgain) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  s->Run(fe::Query("BEGIN"));
  ExpectMasked(s->Run(fe::Parse("", IncomeSql()) + fe::Bind("p", "", {}) +
                      fe::Parse("", "SELECT 'x'::text") + fe::Execute("p", 0) + fe::Sync()),
               "Execute of a portal whose unnamed statement was parsed again");
  s->Run(fe::Query("ROLLBACK"));
  // The same for a COPY: the portal's COPY is masked, not the later one's.
  s->Run(fe::Query("BEGIN"));
  auto copy =
      s->Run(fe::Parse("", "COPY (" + IncomeSql() + ") TO STDOUT") + fe::Bind("q", "", {}) +
             fe::Parse("", "COPY (SELECT 'x'::text) TO STDOUT") + fe::Execute("q", 0) + fe::Sync());
  std::string data;
  for (const auto& m : copy) {
    if (m.type == 'd') data += m.body;
  }
  EXPECT_EQ(data.find(raw_ + "\n"), std::string::npos) << "COPY of a portal: the raw value";
  EXPECT_EQ(data, masked_.empty() ? std::string() : masked_[0] + "\n");
  s->Run(fe::Query("ROLLBACK"));
}

TEST_F(PortalTest, FailedBindKeepsTheCursor) {
  auto s = RawSession::Open();
  ASSERT_NE(s, nullptr);
  auto declared =
      s->Run(fe::Query("BEGIN; DECLARE c SCROLL CURSOR WITH HOLD FOR " + IncomeSql() + "; COMMIT"));
  ASSERT_TRUE(Sqlstates(declared).empty()) << be::Types(declared);
  // The server refuses the Bind (the cursor exists) and keeps the cursor.
  auto failed = s->Run(fe::Parse("s2", "SELECT 'x'::text") + fe::Bind("c", "s2", {}) + fe::Sync());
  EXPECT_EQ(Sqlstates(failed), std::vector<std::string>{"42P03"}) << be::Types(failed);
  ExpectMasked(s->Run(fe::Execute("c", 1) + fe::Sync()), "Execute of the cursor");
  ExpectMasked(s->Run(fe::Query("FETCH FIRST FROM c")), "FETCH from the cursor");
  s->Run(fe::Query("CLOSE c"));
}

// ---- 10. Error positions ----

// The server's cursor position in a statement whose pseudonyms were turned back into real
// ids would tell the length of the real id: it is dropped for such statements only.
TEST_F(PreparedNamesTest, NoErrorPositionAfterATranslatedPseudonym) {
  const std::string sql =
      "SELECT nickname FROM crm.members WHERE member_id = " + A().pseudonym + " AND city = 1";
  for (bool extended : {false, true}) {
    SCOPED_TRACE(extended ? "extended" : "simple");
    it::PgResult res(
        extended ? PQexecParams(sales(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)
                 : PQexec(sales(), sql.c_str()));
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_FATAL_ERROR);
    EXPECT_STREQ(PQresultErrorField(res.get(), PG_DIAG_SQLSTATE), "42883");
    EXPECT_EQ(PQresultErrorField(res.get(), PG_DIAG_STATEMENT_POSITION), nullptr);
  }
  // Nothing translated: the position is the server's.
  it::PgResult plain(PQexec(sales(), "SELECT nickname FROM crm.members WHERE city = 1"));
  ASSERT_EQ(PQresultStatus(plain.get()), PGRES_FATAL_ERROR);
  EXPECT_NE(PQresultErrorField(plain.get(), PG_DIAG_STATEMENT_POSITION), nullptr);
}

}  // namespace
}  // namespace pgveil::masking
