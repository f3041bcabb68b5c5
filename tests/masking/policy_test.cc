// Which policy a login gets, through the running proxy: a login in two policies is
// masked as the masked one, a login in none gets the default policy, SET ROLE changes
// nothing, a table dropped and recreated under the running proxy stays masked, and a
// login whose policy lookup waits for the catalog holds up no other session, and a masked
// login may set at connection start only what it could SET.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>
#include <vector>

#include "harness/raw_client.h"
#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kMembersSql[] =
    "SELECT member_id, real_name, birth_date, phone, wechat_id, email, id_card_no, height_cm, "
    "monthly_income, registered_at FROM crm.members";

class PolicyTest : public MaskingTest {
 protected:
  static Table MustFetch(const std::string& conninfo, const std::string& sql) {
    auto t = Fetch(conninfo, sql);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Table();
  }
};

TEST_F(PolicyTest, LoginInSalesAndMatcherIsMaskedAsSales) {
  Table sales = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  Table dual = MustFetch(Env().ProxyConnInfo(kDualLogin), kMembersSql);
  Table raw = MustFetch(Env().DirectConnInfo(kDualLogin), kMembersSql);
  ASSERT_EQ(sales.rows.size(), static_cast<size_t>(kMembers));
  ASSERT_EQ(raw.rows.size(), sales.rows.size());
  EXPECT_EQ(dual.types, sales.types);
  EXPECT_EQ(DiffRows(dual.rows, sales.rows, sales.names), "")
      << "a login in sales and matcher must see what sales sees";
  EXPECT_TRUE(dual.rows != raw.rows);
}

TEST_F(PolicyTest, LoginInNoPolicyGetsTheDefaultPolicy) {
  ASSERT_TRUE(Env()
                  .Exec("SET client_min_messages = warning; DROP ROLE IF EXISTS temp_helper;"
                        "SET password_encryption = 'scram-sha-256';"
                        "CREATE ROLE temp_helper LOGIN PASSWORD 'veil-demo';"
                        "GRANT USAGE ON SCHEMA crm TO temp_helper;"
                        "GRANT SELECT ON ALL TABLES IN SCHEMA crm TO temp_helper;")
                  .ok());
  for (const char* login : {"intern_zhou", "temp_helper"}) {
    Table t = MustFetch(Env().ProxyConnInfo(login), kMembersSql);
    ASSERT_EQ(t.rows.size(), static_cast<size_t>(kMembers)) << login;
    for (const auto& row : t.rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        ASSERT_FALSE(row[c].has_value()) << login << ": " << t.names[c] << " must be NULL";
      }
    }
    Table stores = MustFetch(Env().ProxyConnInfo(login), "SELECT * FROM crm.stores");
    EXPECT_EQ(
        DiffRows(stores.rows,
                 MustFetch(Env().DirectConnInfo("postgres"), "SELECT * FROM crm.stores").rows),
        "")
        << login << " sees stores as stored";
  }
}

TEST_F(PolicyTest, SetRoleToAnUnmaskedRoleChangesNothing) {
  Table sales = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  auto conn = it::Connect(Env().ProxyConnInfo(kDualLogin));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  // Refused by the query guard; and whatever a statement does, the policy is the
  // login's.
  for (const char* set : {"SET ROLE matcher", "SELECT set_config('role', 'matcher', false)",
                          "SET SESSION ROLE matcher; RESET ROLE; SET ROLE matcher",
                          "BEGIN; SET LOCAL ROLE matcher", "SET SESSION AUTHORIZATION matcher"}) {
    it::PgResult res(PQexec(conn->get(), set));
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_FATAL_ERROR) << set;
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    EXPECT_STREQ(state, "42501") << set;
    auto t = Fetch(conn->get(), kMembersSql);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(DiffRows(t->rows, sales.rows, sales.names), "")
        << "after " << set << " the session must stay masked";
  }
  // Binary results too.
  auto bin = Fetch(conn->get(), "SELECT phone, id_card_no FROM crm.members", 1);
  ASSERT_TRUE(bin.ok());
  for (const auto& row : bin->rows) {
    ASSERT_FALSE(row[1].has_value());
    if (row[0]) {
      ASSERT_EQ(row[0]->substr(0, 4), "****");
    }
  }
}

// Parameters in the StartupMessage are SET statements the server runs before the first
// query: a masked login gets the verdicts it would get for SET, as a FATAL error before
// it can send anything, whether they come as `options` switches or as startup keys.
TEST_F(PolicyTest, StartupParametersGetTheVerdictsOfSet) {
  struct Case {
    const char* extra;
    const char* refused;  // nullptr: served
  };
  const Case cases[] = {
      {"options='-c search_path=crm,pg_catalog'", "search_path"},
      {"options='-csearch_path=pg_temp'", "search_path"},
      {"options='--search-path=public,pg_catalog'", "search_path"},
      {"options='-c application_name=a -c search_path=crm,pg_temp'", "search_path"},
      {"options='-c search_path=crm'", nullptr},
      {"options='-c search_path=pg_catalog,crm'", nullptr},
      {"options='-c standard_conforming_strings=off'", "standard_conforming_strings"},
      {"options='-c backslash_quote=on'", "backslash_quote"},
      {"options='-c role=matcher'", "role"},
      {"options='-c log_statement=all'", "log_statement"},
      {"options='-E'", "options"},
      {"client_encoding=SJIS", "client_encoding"},
      {"client_encoding=GBK", "client_encoding"},
      {"client_encoding=UTF8", nullptr},
      {"client_encoding=SQL_ASCII", nullptr},
      {"options='-c standard_conforming_strings=on -c statement_timeout=5s'", nullptr},
      {"options='-c application_name=startup\\\\ check'", nullptr},
  };
  for (const auto& c : cases) {
    PGconn* conn = PQconnectdb(Env().ProxyConnInfo("sales_li", c.extra).c_str());
    const std::string error = PQerrorMessage(conn);
    if (c.refused == nullptr) {
      EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << c.extra << ": " << error;
      if (PQstatus(conn) == CONNECTION_OK) {
        auto t = Fetch(conn, "SELECT count(*) FROM crm.members");
        EXPECT_TRUE(t.ok()) << c.extra << ": " << t.status().ToString();
      }
    } else {
      EXPECT_NE(PQstatus(conn), CONNECTION_OK) << c.extra;
      EXPECT_NE(error.find("masked sessions"), std::string::npos) << c.extra << ": " << error;
      EXPECT_NE(error.find(c.refused), std::string::npos) << c.extra << ": " << error;
    }
    PQfinish(conn);
  }
  {
    // pgjdbc's currentSchema and PGOPTIONS: unqualified names, still masked.
    auto conn = it::Connect(Env().ProxyConnInfo("sales_li", "options='-c search_path=crm'"));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto t = Fetch(conn->get(), "SELECT phone FROM members WHERE city IS NOT NULL LIMIT 5");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    size_t phones = 0;
    for (const auto& row : t->rows) {
      if (!row[0].has_value()) continue;
      ++phones;
      EXPECT_EQ(row[0]->substr(0, 7), "*******") << *row[0];
    }
    EXPECT_GT(phones, 0u);
  }
  {
    // The same settings are the matcher's to make: its session is not masked.
    auto conn = it::Connect(Env().ProxyConnInfo("match_engine", "options='-c search_path=crm'"));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto t = Fetch(conn->get(), "SELECT count(*) FROM members");
    EXPECT_TRUE(t.ok());
  }
  // Startup keys a raw client can send that libpq has no option for.
  const std::vector<std::pair<std::string, std::string>> raw_cases[] = {
      {{"search_path", "crm, pg_catalog"}},
      {{"standard_conforming_strings", "off"}},
      {{"client_encoding", "BIG5"}},
      {{"replication", "database"}},
  };
  for (const auto& params : raw_cases) {
    auto client = it::RawClient::Connect(Env().proxy_port());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(
        (*client)
            ->Send(it::fe::Startup({{"user", kRawSales}, {"database", it::kDatabase}, params[0]}))
            .ok());
    std::vector<it::BackendMessage> got;
    EXPECT_TRUE((*client)->WaitForClose(std::chrono::seconds(10), &got)) << params[0].first;
    bool fatal = false;
    for (const auto& m : got) {
      EXPECT_NE(m.type, 'Z') << params[0].first << ": the session must not become ready";
      if (m.type == 'E') {
        auto f = it::be::Fields(m.body);
        fatal = f['S'] == "FATAL" && (f['C'] == "42501" || f['C'] == "28000");
      }
    }
    EXPECT_TRUE(fatal) << params[0].first;
  }
}

// crm.members is dropped and recreated (columns in reverse order, so every attnum
// changes) while pgveil runs and while a sales session that already read it stays open.
// Every value sales sees meanwhile must be masked or NULL, never raw, and masking must
// be back to the rules within the catalog refresh.
TEST_F(PolicyTest, TableDroppedAndRecreatedStaysMasked) {
  Table raw_before = MustFetch(Env().DirectConnInfo("postgres"), kMembersSql);
  Table sales_before = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  ASSERT_EQ(raw_before.rows.size(), static_cast<size_t>(kMembers));
  auto open = it::Connect(Env().ProxyConnInfo("sales_wang"));
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(Fetch(open->get(), kMembersSql).ok());

  Status st = Env().Exec(
      "SET client_min_messages = warning;"
      "CREATE TABLE public.members_saved AS SELECT * FROM crm.members;"
      "DROP TABLE crm.members CASCADE;"
      "DO $$ DECLARE cols text; names text; BEGIN "
      "SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' "
      "ORDER BY attnum DESC), string_agg(quote_ident(attname), ', ' ORDER BY attnum DESC) "
      "INTO cols, names FROM pg_attribute "
      "WHERE attrelid = 'public.members_saved'::regclass AND attnum > 0 AND NOT attisdropped;"
      "EXECUTE format('CREATE TABLE crm.members (%s)', cols);"
      "EXECUTE format('INSERT INTO crm.members (%s) SELECT %s FROM public.members_saved', "
      "names, names);"
      "END $$;"
      "GRANT SELECT ON crm.members TO sales, sales_lead, matcher, intern_zhou;"
      "DROP TABLE public.members_saved;");
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Same rows, same physical order: the raw values are those read before.
  Table raw_after = MustFetch(Env().DirectConnInfo("postgres"), kMembersSql);
  ASSERT_TRUE(raw_after.rows == raw_before.rows);

  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  bool masked_again = false;
  int rounds = 0;
  while (!masked_again && std::chrono::steady_clock::now() < deadline) {
    for (PGconn* conn : {open->get(), static_cast<PGconn*>(nullptr)}) {
      auto t =
          conn ? Fetch(conn, kMembersSql) : Fetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_EQ(t->rows.size(), raw_before.rows.size());
      ++rounds;
      for (size_t r = 0; r < t->rows.size(); ++r) {
        for (size_t c = 0; c < t->names.size(); ++c) {
          const Cell& got = t->rows[r][c];
          const Cell& raw = raw_before.rows[r][c];
          if (!got || !raw) continue;
          ASSERT_TRUE(*got != *raw)
              << t->names[c] << " row " << r << " reached sales raw after the table was recreated";
        }
      }
      if (conn == nullptr) masked_again = t->rows == sales_before.rows;
    }
    if (!masked_again) std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_TRUE(masked_again) << "masking did not come back to the rules within 20 s (" << rounds
                            << " scans)";
}

// A new login's policy is looked up on pgveil's blocking pool, not on the worker that
// serves the session. pg_auth_members is locked so that the catalog connection's role
// membership query for an uncached login really waits; meanwhile sessions that are
// already connected must keep answering, and the new login must stay pending until the
// lock goes, then be masked as its policy says. pgveil runs two workers (the harness
// default) and hands accepted connections to them in turn, so the two sessions opened
// one after the other below cover both workers and the waiting login shares its worker
// with one of them. Were the lookup run on the worker's event loop, that session would
// answer only once the side connection gave up (its statement timeout, 30 s).
TEST_F(PolicyTest, PolicyLookupWaitingForTheCatalogStallsNoOtherSession) {
  // Names not used before in this pgveil's life: pgveil caches memberships by name
  // (--gtest_repeat keeps the same pgveil).
  static int run = 0;
  ++run;
  const std::string waiting_login = "policy_wait_login_" + std::to_string(run);
  const std::string peer_login = "policy_peer_login_" + std::to_string(run);
  constexpr char kQuickSql[] = "SELECT phone FROM crm.members LIMIT 5";
  constexpr int kRounds = 20;
  constexpr auto kBatchBound = milliseconds(3000);
  constexpr char kCatalogWaitsSql[] =
      "SELECT count(*) FROM pg_catalog.pg_stat_activity a"
      "  JOIN pg_catalog.pg_locks l ON l.pid = a.pid"
      " WHERE a.application_name = 'pgveil-catalog' AND NOT l.granted"
      "   AND l.relation = 'pg_catalog.pg_auth_members'::pg_catalog.regclass";

  // Both roles exist before any session below starts: creating a role makes every
  // backend re-read pg_auth_members at its next privilege check, which the lock would
  // stall on the server's side. The peer is new too, so that its cached membership cannot
  // expire during the test (a masked session asks for its policy again whenever the
  // catalog snapshot changes).
  std::string setup = "SET password_encryption = 'scram-sha-256';";
  for (const std::string& role : {waiting_login, peer_login}) {
    setup += "CREATE ROLE " + role + " LOGIN PASSWORD 'veil-demo'; GRANT sales TO " + role + ";";
  }
  Status created = Env().Exec(setup);
  ASSERT_TRUE(created.ok()) << created.ToString();
  Table sales = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  Table raw = MustFetch(Env().DirectConnInfo("postgres"), kMembersSql);
  ASSERT_EQ(sales.rows.size(), static_cast<size_t>(kMembers));
  ASSERT_EQ(raw.rows.size(), sales.rows.size());
  Table raw_quick = MustFetch(Env().DirectConnInfo("postgres"), kQuickSql);
  ASSERT_EQ(raw_quick.rows.size(), 5u);
  std::vector<std::vector<Cell>> sales_quick;
  for (const auto& row : raw_quick.rows) {
    sales_quick.push_back({row[0] ? Cell(ExpectedPartial(*row[0], 0, 4)) : Cell()});
  }

  // A masked and an unmasked session, accepted one right after the other.
  struct Running {
    std::string login;
    it::PgConn conn;
    std::vector<std::vector<Cell>> want;
  };
  std::vector<Running> running;
  for (const std::string& login : {peer_login, std::string("match_engine")}) {
    auto conn = it::Connect(Env().ProxyConnInfo(login));
    ASSERT_TRUE(conn.ok()) << login << ": " << conn.status().ToString();
    running.push_back(
        {login, std::move(*conn), login == peer_login ? sales_quick : raw_quick.rows});
  }
  for (Running& r : running) {
    auto t = Fetch(r.conn.get(), kQuickSql);
    ASSERT_TRUE(t.ok()) << r.login << ": " << t.status().ToString();
    ASSERT_EQ(DiffRows(t->rows, r.want), "") << r.login;
  }

  auto monitor = it::Connect(Env().DirectConnInfo("postgres"));
  ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
  auto catalog_waits = [&] {
    auto n = it::QueryValue(monitor->get(), kCatalogWaitsSql);
    return n.ok() && *n != "0";
  };
  // Declared before the lock's session: leaving early closes that session first, which
  // lets the waiting login finish, so the future's destructor does not wait long.
  std::future<StatusOr<it::PgConn>> waiting;
  auto locker = it::Connect(Env().DirectConnInfo("postgres"));
  ASSERT_TRUE(locker.ok()) << locker.status().ToString();
  // The timeouts bound the lock if this process hangs.
  it::PgResult locked =
      it::Exec(locker->get(),
               "SET statement_timeout = '10s'; SET idle_in_transaction_session_timeout = '60s';"
               "BEGIN; LOCK TABLE pg_catalog.pg_auth_members IN ACCESS EXCLUSIVE MODE");
  ASSERT_EQ(PQresultStatus(locked.get()), PGRES_COMMAND_OK) << PQresultErrorMessage(locked.get());

  const auto asked = std::chrono::steady_clock::now();
  waiting = std::async(std::launch::async,
                       [conninfo = Env().ProxyConnInfo(waiting_login, "connect_timeout=60")] {
                         return it::Connect(conninfo);
                       });
  const auto wait_deadline = asked + seconds(20);
  while (!catalog_waits() && std::chrono::steady_clock::now() < wait_deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(catalog_waits())
      << "the catalog connection never waited for pg_auth_members; the new login "
      << (waiting.wait_for(seconds(0)) == std::future_status::ready ? "finished" : "is pending");

  const auto start = std::chrono::steady_clock::now();
  auto slowest = std::chrono::steady_clock::duration::zero();
  for (int round = 0; round < kRounds; ++round) {
    for (Running& r : running) {
      const auto sent = std::chrono::steady_clock::now();
      auto t = Fetch(r.conn.get(), kQuickSql);
      slowest = std::max(slowest, std::chrono::steady_clock::now() - sent);
      ASSERT_TRUE(t.ok()) << r.login << ": " << t.status().ToString();
      ASSERT_EQ(DiffRows(t->rows, r.want), "") << r.login << ", round " << round;
    }
  }
  const auto batch = duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(batch.count(), kBatchBound.count())
      << running.size() * kRounds << " queries of connected sessions took " << batch.count()
      << " ms (the slowest " << duration_cast<milliseconds>(slowest).count()
      << " ms) while a new login waited for the catalog";
  EXPECT_TRUE(waiting.wait_for(seconds(0)) == std::future_status::timeout)
      << "the new login finished although its policy lookup could not";
  EXPECT_TRUE(catalog_waits()) << "the catalog connection stopped waiting for the lock";

  it::PgResult released = it::Exec(locker->get(), "ROLLBACK");
  ASSERT_EQ(PQresultStatus(released.get()), PGRES_COMMAND_OK)
      << PQresultErrorMessage(released.get());
  ASSERT_TRUE(waiting.wait_for(seconds(60)) == std::future_status::ready)
      << "the new login did not finish after the lock was released";
  auto login = waiting.get();
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  auto t = Fetch(login->get(), kMembersSql);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->types, sales.types);
  EXPECT_EQ(DiffRows(t->rows, sales.rows, sales.names), "")
      << "the login that waited must see what sales sees";
  EXPECT_TRUE(t->rows != raw.rows);
}

}  // namespace
}  // namespace pgveil::masking
