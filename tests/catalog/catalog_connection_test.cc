// The side connection under failure: a failed Load keeps the previous snapshot, a broken
// connection is reopened, the conninfo's password never shows in an error, and
// RefreshIfStale() is rate-limited.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "catalog/catalog_env.h"
#include "catalog/catalog_test_util.h"
#include "harness/pg_cluster.h"
#include "pgveil/catalog/catalog.h"

namespace pgveil::catalog::testing {
namespace {

using std::chrono::milliseconds;

std::string UnusedPortConnInfo(const std::string& password) {
  auto port = it::PickFreePort();
  EXPECT_TRUE(port.ok());
  return "host=127.0.0.1 port=" + std::to_string(port.ok() ? *port : 1) +
         " user=pgveil_cat dbname=pgveil_it connect_timeout=5 password=" + password;
}

TEST(CatalogConnection, FailedLoadKeepsThePreviousSnapshot) {
  CAT_EXEC("CREATE ROLE cat_flaky LOGIN PASSWORD 'flaky-pw-1'");
  CatalogOptions options;
  options.conninfo = Env().ConnInfo("application_name=cat_flaky", "cat_flaky", "flaky-pw-1");
  options.min_refresh_interval = milliseconds(0);
  Catalog catalog(options);
  CAT_ASSERT_OK(catalog.Load());
  auto before = catalog.current();
  ASSERT_NE(before->FindRelation("crm", "members"), nullptr);

  // The server stops accepting the catalog login and drops its connection.
  CAT_EXEC("CREATE TABLE crm.flaky_new (a int); ALTER ROLE cat_flaky NOLOGIN");
  ASSERT_TRUE(TerminateBackends("cat_flaky"));

  Status st = catalog.Load();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("not permitted to log in"), std::string::npos) << st.ToString();
  EXPECT_EQ(catalog.current(), before);
  EXPECT_EQ(catalog.current()->version(), 1);
  EXPECT_FALSE(catalog.RefreshIfStale());
  EXPECT_EQ(catalog.current(), before);
  EXPECT_EQ(catalog.current()->FindRelation("crm", "flaky_new"), nullptr);
  auto roles = catalog.RolesOf("login_alone");
  ASSERT_FALSE(roles.ok());
  EXPECT_EQ(roles.status().code(), StatusCode::kUnavailable);

  // Back to normal: the next call opens a new connection.
  CAT_EXEC("ALTER ROLE cat_flaky LOGIN");
  CAT_ASSERT_OK(catalog.Load());
  EXPECT_EQ(catalog.current()->version(), 2);
  EXPECT_NE(catalog.current()->FindRelation("crm", "flaky_new"), nullptr);
  CAT_EXEC("DROP TABLE crm.flaky_new");
}

TEST(CatalogConnection, ReopensAConnectionTheServerClosed) {
  Catalog catalog(Options("application_name=cat_reopen"));
  CAT_ASSERT_OK(catalog.Load());
  ASSERT_TRUE(TerminateBackends("cat_reopen"));
  // One call, no error: the broken idle connection is replaced at once.
  CAT_ASSERT_OK(catalog.Load());
  EXPECT_EQ(catalog.current()->version(), 2);

  ASSERT_TRUE(TerminateBackends("cat_reopen"));
  auto roles = catalog.RolesOf("login_alone");
  ASSERT_TRUE(roles.ok()) << roles.status().ToString();
  EXPECT_EQ(*roles, std::vector<std::string>{"login_alone"});
}

TEST(CatalogConnection, UnreachableServerFailsClosed) {
  CatalogOptions options;
  options.conninfo = UnusedPortConnInfo("unreach-pw-2");
  Catalog catalog(options);
  Status st = catalog.Load();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  auto snap = catalog.current();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->version(), 0);
  EXPECT_TRUE(snap->relations().empty());

  // Membership cannot be answered either; never "no roles".
  auto roles = catalog.RolesOf("login_alone");
  ASSERT_FALSE(roles.ok());
  EXPECT_EQ(roles.status().code(), StatusCode::kUnavailable);
}

TEST(CatalogConnection, ErrorsNeverContainThePassword) {
  const int port = Env().cluster().port();
  const std::string base = "host=127.0.0.1 port=" + std::to_string(port) + " connect_timeout=5";
  struct Case {
    const char* what;
    std::string conninfo;
    std::vector<std::string> secrets;  // none may appear in the message
    StatusCode code;
  };
  const Case cases[] = {
      {"wrong password",
       base + " dbname=pgveil_it user=pgveil_cat password=Wrong-pw-93k",
       {"Wrong-pw-93k"},
       StatusCode::kUnavailable},
      {"URI with a wrong password",
       "postgresql://pgveil_cat:Uri-pw-5521@127.0.0.1:" + std::to_string(port) + "/pgveil_it",
       {"Uri-pw-5521"},
       StatusCode::kUnavailable},
      // Unquoted space: libpq's own message would quote the second half.
      {"malformed conninfo",
       base + " user=pgveil_cat password=Spaced pw-4410",
       {"Spaced", "pw-4410"},
       StatusCode::kInvalidArgument},
      {"unterminated quote",
       base + " user=pgveil_cat password='Quoted-pw-17",
       {"Quoted-pw-17"},
       StatusCode::kInvalidArgument},
      // The server echoes the database name, which here equals the password.
      {"server echoes the password",
       base + " user=pgveil_cat password=" + kCatalogPassword + " dbname=" + kCatalogPassword,
       {kCatalogPassword},
       StatusCode::kUnavailable},
      {"no server",
       UnusedPortConnInfo("Refused-pw-88"),
       {"Refused-pw-88"},
       StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    CatalogOptions options;
    options.conninfo = c.conninfo;
    Catalog catalog(options);
    Status load = catalog.Load();
    auto roles = catalog.RolesOf("login_alone");
    ASSERT_FALSE(load.ok());
    ASSERT_FALSE(roles.ok());
    EXPECT_EQ(load.code(), c.code) << load.ToString();
    for (const std::string& text : {load.ToString(), roles.status().ToString()}) {
      EXPECT_FALSE(text.empty());
      for (const std::string& secret : c.secrets) {
        EXPECT_EQ(text.find(secret), std::string::npos) << text;
      }
    }
  }
}

TEST(CatalogConnection, ScrubbedEchoKeepsTheRestOfTheMessage) {
  CatalogOptions options;
  options.conninfo = Env().ConnInfo(std::string("dbname=") + kCatalogPassword);
  Catalog catalog(options);
  Status st = catalog.Load();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("database \"***\" does not exist"), std::string::npos)
      << st.ToString();
}

TEST(CatalogConnection, PasswordWithRunsOfBlanksIsScrubbedToo) {
  // Error messages are folded onto one line; the password must go before that.
  CAT_EXEC("CREATE ROLE cat_blanks LOGIN PASSWORD 'Two  blanks-pw'");
  CatalogOptions options;
  options.conninfo = "host=127.0.0.1 port=" + std::to_string(Env().cluster().port()) +
                     " user=cat_blanks password='Two  blanks-pw' dbname='Two  blanks-pw'";
  Catalog catalog(options);
  Status st = catalog.Load();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("database \"***\" does not exist"), std::string::npos)
      << st.ToString();
  EXPECT_EQ(st.message().find("blanks-pw"), std::string::npos) << st.ToString();
}

TEST(CatalogConnection, RefreshIfStaleIsRateLimited) {
  CatalogOptions slow = Options();
  slow.min_refresh_interval = std::chrono::hours(1);
  Catalog catalog(slow);
  EXPECT_TRUE(catalog.RefreshIfStale());  // nothing loaded yet
  EXPECT_EQ(catalog.current()->version(), 1);
  EXPECT_FALSE(catalog.RefreshIfStale());
  EXPECT_EQ(catalog.current()->version(), 1);
  CAT_ASSERT_OK(catalog.Load());  // an explicit Load is never limited
  EXPECT_EQ(catalog.current()->version(), 2);
  EXPECT_FALSE(catalog.RefreshIfStale());

  CatalogOptions fast = Options();
  fast.min_refresh_interval = milliseconds(100);
  Catalog quick(fast);
  EXPECT_TRUE(quick.RefreshIfStale());
  EXPECT_FALSE(quick.RefreshIfStale());
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_TRUE(quick.RefreshIfStale());
  EXPECT_EQ(quick.current()->version(), 2);
}

TEST(CatalogConnection, FailedRefreshesCountForTheRateLimit) {
  CatalogOptions options;
  options.conninfo = UnusedPortConnInfo("limit-pw-3");
  options.min_refresh_interval = std::chrono::hours(1);
  Catalog catalog(options);
  EXPECT_FALSE(catalog.RefreshIfStale());  // tried, failed
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(catalog.RefreshIfStale());
  // Refused at once, without another connection attempt.
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));
}

TEST(CatalogConnection, ConcurrentReadersLoadsAndMembershipQueries) {
  CatalogOptions options = Options();
  options.membership_ttl = milliseconds(0);
  Catalog catalog(options);
  CAT_ASSERT_OK(catalog.Load());
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!done.load()) {
        auto snap = catalog.current();
        if (snap->version() < last || snap->FindRelation("crm", "members") == nullptr) ++errors;
        last = snap->version();
      }
    });
  }
  std::thread roles([&] {
    for (int i = 0; i < 20; ++i) {
      auto r = catalog.RolesOf("login_chain");
      if (!r.ok() || r->size() != 4) ++errors;
    }
  });
  for (int i = 0; i < 10; ++i) {
    Status st = catalog.Load();  // no ASSERT here: the threads must be joined
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  roles.join();
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(catalog.current()->version(), 11);
}

}  // namespace
}  // namespace pgveil::catalog::testing
