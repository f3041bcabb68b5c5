// Session life through pgveil: asynchronous messages while idle, cancel routing,
// clients and servers that vanish, Terminate, and many sessions at once.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <iostream>
#include <thread>

#include "harness/integration_env.h"
#include "harness/pq_util.h"
#include "harness/raw_client.h"

namespace pgveil::it {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Backends (client backends only) whose application_name is `app`, and in `state` if given.
int CountBackends(const std::string& app, const std::string& state = "") {
  std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app +
                    "' AND backend_type = 'client backend'";
  if (!state.empty()) sql += " AND state = '" + state + "'";
  auto rows = Env().Query(sql);
  if (!rows.ok() || rows->empty() || !(*rows)[0][0]) return -1;
  return std::stoi(*(*rows)[0][0]);
}

bool WaitReadable(int fd, milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, static_cast<int>(timeout.count())) == 1;
}

class SessionTest : public RelayTest {};

TEST_F(SessionTest, NotifyReachesIdleListenerPromptly) {
  auto listener = Connect(Env().ProxyConnInfo(kTrustUser));
  auto notifier = Connect(Env().ProxyConnInfo(kMd5User));
  IT_ASSERT_OK(listener);
  IT_ASSERT_OK(notifier);
  PgResult r = Exec(listener->get(), "LISTEN it_channel");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  auto notifier_pid = QueryValue(notifier->get(), "SELECT pg_backend_pid()");
  IT_ASSERT_OK(notifier_pid);
  for (int i = 0; i < 5; ++i) {
    const std::string payload = "payload-" + std::to_string(i);
    PgResult n = Exec(notifier->get(), "NOTIFY it_channel, '" + payload + "'");
    ASSERT_EQ(PQresultStatus(n.get()), PGRES_COMMAND_OK);
    auto sent = Clock::now();
    // The listener sends nothing: the notification must be pushed to it.
    PGnotify* note = nullptr;
    while (note == nullptr && Clock::now() - sent < seconds(5)) {
      if (!WaitReadable(PQsocket(listener->get()), milliseconds(100))) continue;
      ASSERT_EQ(PQconsumeInput(listener->get()), 1) << PQerrorMessage(listener->get());
      note = PQnotifies(listener->get());
    }
    auto latency = Clock::now() - sent;
    ASSERT_NE(note, nullptr) << "no notification within 5 s";
    EXPECT_STREQ(note->relname, "it_channel");
    EXPECT_EQ(std::string(note->extra), payload);
    EXPECT_EQ(std::to_string(note->be_pid), *notifier_pid);
    EXPECT_LT(latency, seconds(1)) << "notification took too long";
    PQfreemem(note);
  }
}

TEST_F(SessionTest, CancelStopsOnlyItsOwnQueryWithinASecond) {
  auto victim = Connect(Env().ProxyConnInfo(kScramUser, "application_name=cancel-victim"));
  auto bystander = Connect(Env().ProxyConnInfo(kTrustUser, "application_name=cancel-bystander"));
  IT_ASSERT_OK(victim);
  IT_ASSERT_OK(bystander);
  auto bystander_start = Clock::now();
  ASSERT_EQ(PQsendQuery(bystander->get(), "SELECT pg_sleep(4), 'bystander done'"), 1);
  ASSERT_EQ(PQsendQuery(victim->get(), "SELECT pg_sleep(30)"), 1);
  ASSERT_TRUE(PollUntil(
      [] {
        return CountBackends("cancel-victim", "active") == 1 &&
               CountBackends("cancel-bystander", "active") == 1;
      },
      seconds(10)));

  // A CancelRequest with a wrong key must not cancel anything.
  {
    auto raw = RawClient::Connect(Env().proxy_port());
    IT_ASSERT_OK(raw);
    IT_ASSERT_OK((*raw)->Send(
        fe::CancelRequest(static_cast<uint32_t>(PQbackendPID(victim->get())), 0x12345678)));
    EXPECT_TRUE((*raw)->WaitForClose(seconds(5)));
  }

  PGcancel* cancel = PQgetCancel(victim->get());
  ASSERT_NE(cancel, nullptr);
  char err[256];
  auto start = Clock::now();
  ASSERT_EQ(PQcancel(cancel, err, sizeof(err)), 1) << err;
  PQfreeCancel(cancel);
  PgResult res(PQgetResult(victim->get()));
  auto took = Clock::now() - start;
  EXPECT_EQ(PQresultStatus(res.get()), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(res.get(), PG_DIAG_SQLSTATE), "57014");
  EXPECT_LT(took, milliseconds(1000))
      << "cancel took " << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
  while (PGresult* extra = PQgetResult(victim->get())) PQclear(extra);

  // The other session's query was not cancelled: it runs to its end and succeeds.
  PgResult done(PQgetResult(bystander->get()));
  auto bystander_took = Clock::now() - bystander_start;
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_TUPLES_OK) << PQerrorMessage(bystander->get());
  EXPECT_STREQ(PQgetvalue(done.get(), 0, 1), "bystander done");
  EXPECT_GE(bystander_took, milliseconds(3900));
  // And the cancelled session goes on.
  EXPECT_EQ(*QueryValue(victim->get(), "SELECT 'still here'"), "still here");
}

TEST_F(SessionTest, ClientResetMidResultLeavesNoBusyBackend) {
  auto client = RawClient::Connect(Env().proxy_port());
  IT_ASSERT_OK(client);
  IT_ASSERT_OK(
      (*client)->StartupTrust(kTrustUser, kDatabase, {{"application_name", "reset-mid-result"}}));
  IT_ASSERT_OK((*client)->Send(
      // A set-returning function in the target list streams (in FROM it would be
      // materialized first).
      fe::Query("SELECT generate_series(1, 100000000), repeat('x', 200)")));
  for (int i = 0; i < 100; ++i) {
    auto m = (*client)->ReadMessage(seconds(10));
    IT_ASSERT_OK(m);
  }
  EXPECT_EQ(CountBackends("reset-mid-result"), 1);
  (*client)->Reset();
  EXPECT_TRUE(PollUntil([] { return CountBackends("reset-mid-result") == 0; }, seconds(10)))
      << "the backend of a vanished client is still there";
}

TEST_F(SessionTest, ClientProcessKilledMidResultLeavesNoBusyBackend) {
  const int port = Env().proxy_port();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A client that starts a huge result and reads it slowly until it is killed.
    auto c = RawClient::Connect(port);
    if (!c.ok()) _exit(2);
    if (!(*c)->StartupTrust(kTrustUser, kDatabase, {{"application_name", "killed-client"}}).ok()) {
      _exit(3);
    }
    if (!(*c)->Send(fe::Query("SELECT generate_series(1, 100000000), repeat('y', 500)")).ok()) {
      _exit(4);
    }
    for (;;) {
      if (!(*c)->ReadMessage(seconds(30)).ok()) _exit(5);
      usleep(1000);
    }
  }
  bool started =
      PollUntil([] { return CountBackends("killed-client", "active") == 1; }, seconds(10));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(started) << "the client never got its query running";
  EXPECT_TRUE(PollUntil([] { return CountBackends("killed-client") == 0; }, seconds(10)))
      << "the backend of a killed client is still there";
}

// A client gone during a long query that sends nothing: pgveil must end the query
// (the server alone would sleep on, since it only notices when it next writes).
TEST_F(SessionTest, ClientGoneDuringSilentQueryEndsIt) {
  if (Env().direct_mode()) GTEST_SKIP() << "a property of the proxy, not of the server";
  auto client = RawClient::Connect(Env().proxy_port());
  IT_ASSERT_OK(client);
  IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase,
                                       {{"application_name", "gone-while-sleeping"}}));
  IT_ASSERT_OK((*client)->Send(fe::Query("SELECT pg_sleep(30)")));
  ASSERT_TRUE(
      PollUntil([] { return CountBackends("gone-while-sleeping", "active") == 1; }, seconds(10)));
  (*client)->Reset();
  EXPECT_TRUE(
      PollUntil([] { return CountBackends("gone-while-sleeping", "active") == 0; }, seconds(5)))
      << "pg_sleep(30) of a vanished client is still running";
}

TEST_F(SessionTest, ServerTerminatingBackendReachesClientAndClosesOnlyThatSession) {
  auto other = Connect(Env().ProxyConnInfo(kTrustUser));
  IT_ASSERT_OK(other);
  auto client = RawClient::Connect(Env().proxy_port());
  IT_ASSERT_OK(client);
  IT_ASSERT_OK(
      (*client)->StartupTrust(kTrustUser, kDatabase, {{"application_name", "to-be-terminated"}}));
  IT_ASSERT_OK(
      Env().Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'to-be-terminated'"));
  // The client is idle: the server's FATAL must be pushed to it, then the connection ends.
  std::vector<BackendMessage> got;
  EXPECT_TRUE((*client)->WaitForClose(seconds(5), &got)) << "connection not closed";
  ASSERT_EQ(be::Types(got), "E");
  auto fields = be::Fields(got[0].body);
  EXPECT_EQ(fields['S'], "FATAL");
  EXPECT_EQ(fields['C'], "57P01");
  EXPECT_EQ(fields['M'], "terminating connection due to administrator command");

  // With libpq: the next query fails cleanly with the server's message.
  auto victim = Connect(Env().ProxyConnInfo(kMd5User));
  IT_ASSERT_OK(victim);
  auto pid = QueryValue(victim->get(), "SELECT pg_backend_pid()");
  IT_ASSERT_OK(pid);
  IT_ASSERT_OK(Env().Exec("SELECT pg_terminate_backend(" + *pid + ")"));
  ASSERT_TRUE(PollUntil(
      [&] {
        auto rows = Env().Query("SELECT count(*) FROM pg_stat_activity WHERE pid = " + *pid);
        return rows.ok() && (*rows)[0][0] == "0";
      },
      seconds(5)));
  PgResult res = Exec(victim->get(), "SELECT 1");
  EXPECT_NE(PQresultStatus(res.get()), PGRES_TUPLES_OK);
  EXPECT_NE(std::string(PQerrorMessage(victim->get())).find("terminating connection"),
            std::string::npos)
      << PQerrorMessage(victim->get());
  EXPECT_EQ(PQstatus(victim->get()), CONNECTION_BAD);

  EXPECT_EQ(*QueryValue(other->get(), "SELECT 'unaffected'"), "unaffected");
}

TEST_F(SessionTest, TerminateClosesConnectionAndBackend) {
  auto client = RawClient::Connect(Env().proxy_port());
  IT_ASSERT_OK(client);
  IT_ASSERT_OK(
      (*client)->StartupTrust(kTrustUser, kDatabase, {{"application_name", "terminate-msg"}}));
  EXPECT_EQ(CountBackends("terminate-msg"), 1);
  IT_ASSERT_OK((*client)->Send(fe::Terminate()));
  std::vector<BackendMessage> got;
  EXPECT_TRUE((*client)->WaitForClose(seconds(5), &got));
  EXPECT_EQ(be::Types(got), "");
  EXPECT_TRUE(PollUntil([] { return CountBackends("terminate-msg") == 0; }, seconds(5)));
}

TEST_F(SessionTest, TwoHundredConcurrentSessions) {
  constexpr int kSessions = 200;
  std::barrier all_connected(kSessions + 1);
  std::barrier all_checked(kSessions + 1);
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kSessions);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] {
      const char* user = i % 10 == 0 ? kScramUser : i % 10 == 1 ? kMd5User : kTrustUser;
      // A generous timeout: 200 logins at once (a tenth of them SCRAM) on a loaded 2-core
      // machine can take many seconds; this test is about concurrency, not latency.
      auto conn =
          Connect(Env().ProxyConnInfo(user, "application_name=concurrent-200 connect_timeout=60"));
      all_connected.arrive_and_wait();
      all_checked.arrive_and_wait();
      if (!conn.ok()) {
        errors[i] = conn.status().ToString();
        ++failures;
        return;
      }
      for (int q = 0; q < 20; ++q) {
        const std::string want = std::to_string(i * 1000 + q);
        auto got = QueryValue(conn->get(), "SELECT " + want + " FROM pg_sleep(0.001)");
        if (!got.ok() || *got != want) {
          errors[i] = got.ok() ? "wrong value " + *got : got.status().ToString();
          ++failures;
          return;
        }
      }
    });
  }
  all_connected.arrive_and_wait();
  std::cerr << "[ info ] 200 sessions connected in "
            << std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() << " ms\n";
  int open = CountBackends("concurrent-200");
  all_checked.arrive_and_wait();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(open, kSessions) << "sessions open at the same time";
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kSessions; ++i) {
    if (!errors[i].empty()) {
      ADD_FAILURE() << "session " << i << ": " << errors[i];
      break;
    }
  }
  EXPECT_TRUE(PollUntil([] { return CountBackends("concurrent-200") == 0; }, seconds(10)));
}

}  // namespace
}  // namespace pgveil::it
