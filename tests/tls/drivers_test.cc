// Real clients over TLS on both legs: psql, psycopg 3 and node-postgres, each verifying
// pgveil's certificate against the test CA. The pgveil here presents the server's own
// certificate, so SCRAM channel binding works end to end as well.
#include <gtest/gtest.h>

#include <cstdlib>

#include "harness/subprocess.h"
#include "tls_env.h"

namespace pgveil::tls_test {
namespace {

class DriversTest : public TlsTest {
 protected:
  static void SetUpTestSuite() {
    auto p = TlsEnvironment().StartPgveil("drivers", R"({
      "tls": {"cert": "server.crt", "key": "server.key"},
      "upstream_tls": {"mode": "verify-full", "ca": "ca.crt", "server_name": "localhost"}})");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    proxy_ = std::move(*p);
  }
  static void TearDownTestSuite() { proxy_.reset(); }

  // Runs argv to completion; its output in *out.
  Status Run(const std::string& name, std::vector<std::string> argv, std::string* out) {
    const std::string log = env().File(name + ".out");
    Status st = it::RunToCompletion({.argv = std::move(argv), .output_path = log},
                                    std::chrono::seconds(120));
    *out = it::ReadFileOrEmpty(log);
    return st;
  }
  static std::unique_ptr<it::PgveilProcess> proxy_;
};
std::unique_ptr<it::PgveilProcess> DriversTest::proxy_;

TEST_F(DriversTest, Psql) {
  std::string out;
  Status st =
      Run("psql",
          {"psql", "-X", "-v", "ON_ERROR_STOP=1", "-At",
           "host=localhost hostaddr=127.0.0.1 port=" + std::to_string(proxy_->port()) +
               " dbname=pgveil_it user=it_scram password=" + it::kScramPassword +
               " sslmode=verify-full channel_binding=require sslrootcert=" + env().File("ca.crt"),
           "-c", "SELECT 'upstream ssl=' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
           "-c", "\\conninfo"},
          &out);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << out;
  EXPECT_NE(out.find("upstream ssl=true"), std::string::npos) << out;
  EXPECT_NE(out.find("SSL connection (protocol: TLSv1.3"), std::string::npos) << out;
}

TEST_F(DriversTest, Psycopg) {
  const char* python = PGVEIL_TLS_PYTHON;
  if (python[0] == '\0') GTEST_SKIP() << "no python3 with psycopg";
  std::string out;
  Status st = Run("psycopg",
                  {python, PGVEIL_TLS_SOURCE_DIR "/tls_psycopg.py", std::to_string(proxy_->port()),
                   env().File("ca.crt"), env().File("other-ca.crt"), it::kScramPassword},
                  &out);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << out;
  EXPECT_NE(out.find("psycopg verify-full: ok"), std::string::npos) << out;
  EXPECT_NE(out.find("wrong host name: refused as expected"), std::string::npos) << out;
}

TEST_F(DriversTest, NodePostgres) {
  const std::string dir = PGVEIL_TLS_SOURCE_DIR "/node";
  std::string out;
  if (it::ReadFileOrEmpty(dir + "/node_modules/pg/package.json").empty()) {
    Status st = Run("npm-ci", {"npm", "ci", "--prefix", dir, "--no-audit", "--no-fund"}, &out);
    ASSERT_TRUE(st.ok()) << "npm ci failed (scripts/install-deps.sh runs it): " << out;
  }
  setenv("PGVEIL_PORT", std::to_string(proxy_->port()).c_str(), 1);
  setenv("TLS_CA", env().File("ca.crt").c_str(), 1);
  setenv("OTHER_CA", env().File("other-ca.crt").c_str(), 1);
  setenv("SCRAM_PASSWORD", it::kScramPassword, 1);
  Status st = Run("node", {"node", dir + "/tls.mjs"}, &out);
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << out;
  EXPECT_NE(out.find("scram: ok"), std::string::npos) << out;
  EXPECT_NE(out.find("scram-sha-256-plus: ok"), std::string::npos) << out;
  EXPECT_NE(out.find("untrusted CA: refused as expected"), std::string::npos) << out;
}

}  // namespace
}  // namespace pgveil::tls_test
