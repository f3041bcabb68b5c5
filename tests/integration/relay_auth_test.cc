// Authentication through pgveil: the server stays the only judge of passwords, and
// every method (trust, md5, SCRAM-SHA-256) works exactly as on a direct connection.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "harness/integration_env.h"
#include "harness/pq_util.h"

namespace pgveil::it {
namespace {

struct Method {
  const char* user;
  bool needs_password;
};

class AuthMethodTest : public RelayTest, public ::testing::WithParamInterface<Method> {};

TEST_P(AuthMethodTest, LoginThroughProxyWithLibpq) {
  const Method m = GetParam();
  auto conn = Connect(Env().ProxyConnInfo(m.user, "application_name=auth-libpq"));
  IT_ASSERT_OK(conn);
  // The server asked for a password exactly when its method requires one.
  EXPECT_EQ(PQconnectionUsedPassword(conn->get()), m.needs_password ? 1 : 0);
  auto who = QueryValue(conn->get(), "SELECT current_user || '/' || session_user");
  IT_ASSERT_OK(who);
  EXPECT_EQ(*who, std::string(m.user) + "/" + m.user);
}

TEST_P(AuthMethodTest, LoginThroughProxyWithLibpqxx) {
  const Method m = GetParam();
  pqxx::connection conn(Env().ProxyConnInfo(m.user));
  pqxx::work tx(conn);
  pqxx::row row = tx.exec1("SELECT current_user, 6 * 7");
  EXPECT_EQ(row[0].as<std::string>(), m.user);
  EXPECT_EQ(row[1].as<int>(), 42);
  tx.commit();
}

INSTANTIATE_TEST_SUITE_P(Methods, AuthMethodTest,
                         ::testing::Values(Method{kTrustUser, false}, Method{kMd5User, true},
                                           Method{kScramUser, true}),
                         [](const auto& info) { return std::string(info.param.user); });

class PasswordAuthTest : public AuthMethodTest {};

TEST_P(PasswordAuthTest, WrongPasswordFailsLikeDirect) {
  const Method m = GetParam();
  const std::string bad = "password=not-the-password";
  std::string direct = ConnectError(Env().DirectConnInfo(m.user, bad));
  std::string proxied = ConnectError(Env().ProxyConnInfo(m.user, bad));
  ASSERT_NE(direct, "");
  EXPECT_NE(direct.find("password authentication failed for user \"" + std::string(m.user)),
            std::string::npos)
      << direct;
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
  // A failed login leaves the proxy serving the right password.
  auto conn = Connect(Env().ProxyConnInfo(m.user));
  IT_ASSERT_OK(conn);
  EXPECT_EQ(*QueryValue(conn->get(), "SELECT 1"), "1");
}

TEST_P(PasswordAuthTest, MissingPasswordFailsLikeDirect) {
  const Method m = GetParam();
  // libpq gives up in the middle of the exchange: it closes after the server's
  // password request. pgveil must end the upstream session too.
  auto no_password = [&](int port) {
    return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + kDatabase +
           " user=" + m.user + " passfile=/nonexistent application_name=auth-nopass";
  };
  std::string direct = ConnectError(no_password(Env().server_port()));
  std::string proxied = ConnectError(no_password(Env().proxy_port()));
  EXPECT_NE(direct.find("no password supplied"), std::string::npos) << direct;
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
  const std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = '" +
                          std::string(m.user) + "' AND backend_type = 'client backend'";
  EXPECT_TRUE(PollUntil(
      [&] {
        auto rows = Env().Query(sql);
        return rows.ok() && (*rows)[0][0] == "0";
      },
      std::chrono::seconds(10)))
      << "an abandoned login left a backend behind";
}

INSTANTIATE_TEST_SUITE_P(Methods, PasswordAuthTest,
                         ::testing::Values(Method{kMd5User, true}, Method{kScramUser, true}),
                         [](const auto& info) { return std::string(info.param.user); });

class AuthTest : public RelayTest {};

TEST_F(AuthTest, UnknownUserFailsLikeDirect) {
  const std::string extra = "password=whatever";
  std::string direct = ConnectError(Env().DirectConnInfo("it_nobody", extra));
  std::string proxied = ConnectError(Env().ProxyConnInfo("it_nobody", extra));
  ASSERT_NE(direct, "");
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
}

TEST_F(AuthTest, UnknownDatabaseFailsLikeDirect) {
  const std::string extra = "dbname=no_such_db";
  std::string direct = ConnectError(Env().DirectConnInfo(kTrustUser, extra));
  std::string proxied = ConnectError(Env().ProxyConnInfo(kTrustUser, extra));
  EXPECT_NE(direct.find("database \"no_such_db\" does not exist"), std::string::npos) << direct;
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
}

TEST_F(AuthTest, ScramWithoutChannelBindingIsWhatTheClientSees) {
  // pgveil does not terminate TLS here, so SCRAM-SHA-256-PLUS must not be offered: a
  // client that prefers channel binding falls back to plain SCRAM and succeeds.
  auto conn = Connect(Env().ProxyConnInfo(kScramUser, "channel_binding=prefer"));
  IT_ASSERT_OK(conn);
  std::string direct = ConnectError(Env().DirectConnInfo(kScramUser, "channel_binding=require"));
  std::string proxied = ConnectError(Env().ProxyConnInfo(kScramUser, "channel_binding=require"));
  ASSERT_NE(direct, "");
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
}

TEST_F(AuthTest, ManySequentialLoginsAllSucceed) {
  for (int i = 0; i < 30; ++i) {
    const char* user = i % 3 == 0 ? kTrustUser : i % 3 == 1 ? kMd5User : kScramUser;
    auto conn = Connect(Env().ProxyConnInfo(user));
    IT_ASSERT_OK(conn);
    EXPECT_EQ(*QueryValue(conn->get(), "SELECT " + std::to_string(i)), std::to_string(i));
  }
}

}  // namespace
}  // namespace pgveil::it
