// upstream_reuse: a cleanly ended session leaves its upstream connection, reset with
// DISCARD ALL, to the next client with the same startup parameters, after the server
// has authenticated that client on a fresh connection. Each test uses its own
// application_name, so that connections kept by other tests never match.
#include <gtest/gtest.h>

#include <thread>

#include "harness/integration_env.h"
#include "harness/pq_util.h"

namespace pgveil::it {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const ExtraProxyArgs kArgs({"--upstream_reuse", "true", "--upstream_idle_seconds", "3"});

class ReuseTest : public RelayTest {
 protected:
  void SetUp() override {
    if (Env().direct_mode()) GTEST_SKIP() << "reuse is pgveil's";
  }
  static std::string App(const std::string& name) { return "application_name=reuse_" + name; }
  // A session's backend pid, after running `sql` (each statement on its own). With
  // `await_kept`, returns once the ended session's backend has been reset: the next
  // client's fresh connection could otherwise authenticate before the reset is done,
  // and that client would rightly keep its fresh backend.
  static std::string Session(const std::string& user, const std::string& app,
                             const std::vector<std::string>& sql = {},
                             const std::string& extra = "", bool await_kept = true) {
    std::string pid;
    {
      auto conn = Connect(Env().ProxyConnInfo(user, App(app) + " " + extra));
      EXPECT_TRUE(conn.ok()) << conn.status().ToString();
      if (!conn.ok()) return "";
      auto got = QueryValue(conn->get(), "SELECT pg_backend_pid()");
      for (const auto& s : sql) Exec(conn->get(), s);
      if (!got.ok()) return "";
      pid = *got;
    }
    if (await_kept) {
      EXPECT_TRUE(PollUntil(
          [&] {
            auto rows = Env().Query(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND "
                "query = 'DISCARD ALL' AND pid = " +
                pid);
            return rows.ok() && (*rows)[0][0] == "1";
          },
          seconds(10)))
          << "the backend of the ended session was not reset";
    }
    return pid;
  }
  // The value of a one-value query, or "(error: ...)".
  static std::string Value(PGconn* c, const std::string& sql) {
    auto v = QueryValue(c, sql);
    return v.ok() ? *v : "(error: " + v.status().message() + ")";
  }
  static bool BackendAlive(const std::string& pid) {
    auto rows = Env().Query("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid);
    return rows.ok() && (*rows)[0][0] == "1";
  }
};

TEST_F(ReuseTest, TheNextClientGetsTheKeptBackendWithNothingLeftOfTheLastSession) {
  const std::string first =
      Session(kTrustUser, "state",
              {"CREATE TEMP TABLE leftover (x int)", "SET work_mem = '7MB'",
               "PREPARE leftover_stmt AS SELECT 1", "LISTEN leftover_channel",
               "SELECT pg_advisory_lock(4242)", "BEGIN",
               "DECLARE leftover_cursor CURSOR WITH HOLD FOR SELECT 1", "COMMIT",
               "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"});
  ASSERT_FALSE(first.empty());
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser, App("state")));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  EXPECT_EQ(Value(c, "SELECT pg_backend_pid()"), first) << "not reused";
  EXPECT_EQ(Value(c, "SELECT count(*) FROM pg_class WHERE relname = 'leftover'"), "0");
  EXPECT_EQ(Value(c, "SHOW work_mem"), "4MB");
  EXPECT_EQ(Value(c, "SELECT count(*) FROM pg_prepared_statements"), "0");
  EXPECT_EQ(Value(c, "SELECT count(*) FROM pg_listening_channels()"), "0");
  EXPECT_EQ(Value(c, "SELECT count(*) FROM pg_cursors"), "0");
  EXPECT_EQ(Value(c, "SHOW transaction_read_only"), "off");
  EXPECT_EQ(Value(c,
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                  "pg_backend_pid()"),
            "0");
  EXPECT_EQ(Value(c, "SELECT current_user"), kTrustUser);
  // The fresh connection that authenticated this client is gone.
  EXPECT_TRUE(PollUntil(
      [] {
        auto rows = Env().Query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'reuse_state'");
        return rows.ok() && (*rows)[0][0] == "1";
      },
      seconds(5)));
}

TEST_F(ReuseTest, EveryClientIsAuthenticatedByTheServer) {
  const std::string good = std::string("password=") + kScramPassword;
  const std::string first = Session(kScramUser, "auth", {}, good);
  ASSERT_FALSE(first.empty());
  // A backend is kept for exactly these startup parameters, and a wrong password still
  // fails: the server checks it on a fresh connection before any reuse.
  std::string err = ConnectError(Env().ProxyConnInfo(kScramUser, App("auth") + " password=wrong"));
  EXPECT_NE(err.find("password authentication failed"), std::string::npos) << err;
  err = ConnectError(Env().ProxyConnInfo(kMd5User, App("auth") + " password=wrong"));
  EXPECT_NE(err.find("password authentication failed"), std::string::npos) << err;
  // Still kept for the right password.
  EXPECT_EQ(Session(kScramUser, "auth", {}, good), first);
}

TEST_F(ReuseTest, OtherStartupParametersGetTheirOwnBackend) {
  const std::string a = Session(kTrustUser, "params");
  ASSERT_FALSE(a.empty());
  EXPECT_NE(Session(kTrustUser, "params", {}, "options='-c work_mem=8MB'"), a);
  EXPECT_NE(Session(kMd5User, "params", {}, std::string("password=") + kMd5Password), a);
  EXPECT_EQ(Session(kTrustUser, "params"), a);
}

TEST_F(ReuseTest, ASessionThatEndsInATransactionClosesItsBackend) {
  const std::string a =
      Session(kTrustUser, "txn", {"BEGIN", "CREATE TEMP TABLE t (x int)"}, "", false);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(PollUntil([&] { return !BackendAlive(a); }, seconds(5)));
  EXPECT_NE(Session(kTrustUser, "txn"), a);
}

TEST_F(ReuseTest, ATerminatedKeptBackendIsNotHandedOut) {
  const std::string a = Session(kTrustUser, "killed");
  ASSERT_FALSE(a.empty());
  IT_ASSERT_OK(Env().Exec("SELECT pg_terminate_backend(" + a + ")"));
  EXPECT_TRUE(PollUntil([&] { return !BackendAlive(a); }, seconds(5)));
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser, App("killed")));
  IT_ASSERT_OK(conn);
  auto pid = QueryValue(conn->get(), "SELECT pg_backend_pid()");
  IT_ASSERT_OK(pid);
  EXPECT_NE(*pid, a);
}

TEST_F(ReuseTest, KeptBackendsCloseWhenIdleTooLong) {
  const std::string a = Session(kTrustUser, "idle");
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(BackendAlive(a));
  EXPECT_TRUE(PollUntil([&] { return !BackendAlive(a); }, seconds(10)))
      << "a kept backend outlived --upstream_idle_seconds";
}

TEST_F(ReuseTest, CancelReachesTheReusedBackend) {
  const std::string a = Session(kTrustUser, "cancel");
  ASSERT_FALSE(a.empty());
  auto conn = Connect(Env().ProxyConnInfo(kTrustUser, App("cancel")));
  IT_ASSERT_OK(conn);
  PGconn* c = conn->get();
  ASSERT_EQ(Value(c, "SELECT pg_backend_pid()"), a);
  ASSERT_EQ(PQsendQuery(c, "SELECT pg_sleep(30)"), 1);
  std::this_thread::sleep_for(milliseconds(300));
  PGcancel* cancel = PQgetCancel(c);
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  PQfreeCancel(cancel);
  auto start = std::chrono::steady_clock::now();
  std::string sqlstate;
  while (PGresult* r = PQgetResult(c)) {
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) sqlstate = s;
    PQclear(r);
  }
  EXPECT_EQ(sqlstate, "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

}  // namespace
}  // namespace pgveil::it
