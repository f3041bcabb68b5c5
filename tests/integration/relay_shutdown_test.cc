// SIGTERM: pgveil stops accepting at once, lets the running sessions finish, and exits
// cleanly once they are gone. Its own executable, since it ends the shared pgveil.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "harness/integration_env.h"
#include "harness/pq_util.h"

namespace pgveil::it {
namespace {

using std::chrono::seconds;

class ShutdownTest : public ::testing::Test {};

TEST_F(ShutdownTest, SigtermStopsAcceptingDrainsSessionsThenExitsCleanly) {
  if (Env().direct_mode()) GTEST_SKIP() << "about pgveil itself";
  auto busy = Connect(Env().ProxyConnInfo(kScramUser, "application_name=draining"));
  IT_ASSERT_OK(busy);
  ASSERT_EQ(PQsendQuery(busy->get(), "SELECT pg_sleep(1), 'finished'"), 1);
  ASSERT_TRUE(PollUntil(
      [] {
        auto rows = Env().Query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'draining' "
            "AND state = 'active'");
        return rows.ok() && (*rows)[0][0] == "1";
      },
      seconds(10)));

  Env().proxy()->Signal(SIGTERM);
  const int port = Env().proxy_port();
  EXPECT_TRUE(PollUntil([&] { return !PortAccepts(port); }, seconds(5)))
      << "still accepting connections after SIGTERM";

  // The query in flight completes, and the session may go on during the grace period.
  PgResult done(PQgetResult(busy->get()));
  ASSERT_EQ(PQresultStatus(done.get()), PGRES_TUPLES_OK) << PQerrorMessage(busy->get());
  EXPECT_STREQ(PQgetvalue(done.get(), 0, 1), "finished");
  while (PGresult* extra = PQgetResult(busy->get())) PQclear(extra);
  auto again = QueryValue(busy->get(), "SELECT 'during grace'");
  IT_ASSERT_OK(again);
  EXPECT_TRUE(Env().proxy()->Running());

  // Once the last client leaves, pgveil exits with status 0 (well before the grace ends).
  busy->reset();
  auto status = Env().proxy()->Wait(std::chrono::milliseconds(10000));
  ASSERT_TRUE(status.has_value()) << "pgveil still running after its last session ended";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status;
}

}  // namespace
}  // namespace pgveil::it
