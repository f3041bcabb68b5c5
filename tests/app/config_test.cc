#include "app/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace pgveil::app {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    char tmpl[] = "/tmp/pgveil-config-XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(tmpl) << text;
    paths_.push_back(tmpl);
    return tmpl;
  }
  void TearDown() override {
    for (auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(ConfigTest, DefaultsWithoutFile) {
  auto cfg = LoadServeConfig("", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server.listen.ToString(), "127.0.0.1:6432");
  EXPECT_EQ(cfg->server.upstream.ToString(), "127.0.0.1:5432");
  EXPECT_EQ(cfg->server.workers, 0u);
  EXPECT_EQ(cfg->log_level, "info");
}

TEST_F(ConfigTest, FileValuesAndCommentsAndFlagOverrides) {
  std::string path = Write(R"({
    // comments are allowed
    "listen": "0.0.0.0:7000",
    "upstream": "db.internal:5433",
    "workers": 3,
    "max_message_bytes": 1048576,
    "log_level": "debug"
  })");
  auto cfg = LoadServeConfig(path, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server.listen.ToString(), "0.0.0.0:7000");
  EXPECT_EQ(cfg->server.upstream.host, "db.internal");
  EXPECT_EQ(cfg->server.upstream.port, 5433);
  EXPECT_EQ(cfg->server.workers, 3u);
  EXPECT_EQ(cfg->server.limits.max_message_bytes, 1048576u);
  EXPECT_EQ(cfg->log_level, "debug");

  ServeFlags flags;
  flags.listen = ":7100";
  flags.workers = 1;
  flags.log_level = "warn";
  cfg = LoadServeConfig(path, flags);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server.listen.ToString(), "127.0.0.1:7100");
  EXPECT_EQ(cfg->server.workers, 1u);
  EXPECT_EQ(cfg->log_level, "warn");
  EXPECT_EQ(cfg->server.upstream.port, 5433);
}

TEST_F(ConfigTest, UpstreamReuseIsOffByDefaultAndValidated) {
  auto cfg = LoadServeConfig("", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->server.upstream_reuse);
  EXPECT_EQ(cfg->server.upstream_idle_timeout, std::chrono::seconds(60));

  cfg = LoadServeConfig(Write(R"({"upstream_reuse": true, "upstream_idle_seconds": 5})"), {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->server.upstream_reuse);
  EXPECT_EQ(cfg->server.upstream_idle_timeout, std::chrono::seconds(5));

  ServeFlags flags;
  flags.upstream_reuse = false;
  flags.upstream_idle_seconds = 9;
  cfg = LoadServeConfig(Write(R"({"upstream_reuse": true})"), flags);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->server.upstream_reuse);
  EXPECT_EQ(cfg->server.upstream_idle_timeout, std::chrono::seconds(9));

  cfg = LoadServeConfig(Write(R"({"upstream_reuse": "yes", "upstream_idle_seconds": 0})"), {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("/upstream_reuse: must be true or false"),
            std::string::npos)
      << cfg.status().message();
  EXPECT_NE(cfg.status().message().find("/upstream_idle_seconds"), std::string::npos);
  flags = {};
  flags.upstream_idle_seconds = 0;
  EXPECT_FALSE(LoadServeConfig("", flags).ok());
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorWithSuggestion) {
  std::string path = Write(R"({"upstrem": "x:1"})");
  auto cfg = LoadServeConfig(path, {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("/upstrem: unknown key"), std::string::npos);
  EXPECT_NE(cfg.status().message().find("did you mean \"upstream\""), std::string::npos);
}

TEST_F(ConfigTest, EveryErrorReportedOnce) {
  std::string path = Write(R"({"workers": -1, "log_level": "loud", "listen": 5, "bogus": true})");
  auto cfg = LoadServeConfig(path, {});
  ASSERT_FALSE(cfg.ok());
  const std::string& m = cfg.status().message();
  for (const char* key : {"/workers", "/log_level", "/listen", "/bogus"}) {
    EXPECT_NE(m.find(key), std::string::npos) << key << " missing from: " << m;
  }
}

TEST_F(ConfigTest, BadJsonAndMissingFile) {
  EXPECT_FALSE(LoadServeConfig(Write("{\"listen\": "), {}).ok());
  EXPECT_FALSE(LoadServeConfig(Write("[1,2]"), {}).ok());
  EXPECT_FALSE(LoadServeConfig("/nonexistent/pgveil.json", {}).ok());
}

TEST_F(ConfigTest, TlsUpstreamTlsAndAuditWithPathsRelativeToTheFile) {
  std::string path = Write(R"({
    "tls": {"cert": "certs/server.crt", "key": "/etc/pgveil/server.key", "ca": "clients.crt",
            "require": false},
    "upstream_tls": {"mode": "verify-full", "ca": "root.crt", "server_name": "db.internal"},
    "audit": {"path": "audit.jsonl", "max_bytes": 1048576, "keep": 2, "unmasked": true}
  })");
  auto cfg = LoadServeConfig(path, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server.tls.cert, "/tmp/certs/server.crt");
  EXPECT_EQ(cfg->server.tls.key, "/etc/pgveil/server.key");
  EXPECT_EQ(cfg->server.tls.ca, "/tmp/clients.crt");
  EXPECT_FALSE(cfg->server.tls.require);
  EXPECT_TRUE(cfg->server.tls.enabled());
  EXPECT_EQ(cfg->server.upstream_tls.mode, proxy::UpstreamTlsMode::kVerifyFull);
  EXPECT_EQ(cfg->server.upstream_tls.ca, "/tmp/root.crt");
  EXPECT_EQ(cfg->server.upstream_tls.server_name, "db.internal");
  EXPECT_EQ(cfg->audit.path, "/tmp/audit.jsonl");
  EXPECT_EQ(cfg->audit.max_bytes, 1048576u);
  EXPECT_EQ(cfg->audit.keep, 2u);
  EXPECT_TRUE(cfg->audit.unmasked);
  EXPECT_TRUE(cfg->audit.enabled());
}

TEST_F(ConfigTest, TlsDefaultsAndShorthands) {
  auto none = LoadServeConfig("", {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->server.tls.enabled());
  EXPECT_TRUE(none->server.tls.require);  // the default once a certificate is set
  EXPECT_EQ(none->server.upstream_tls.mode, proxy::UpstreamTlsMode::kDisable);
  EXPECT_FALSE(none->audit.enabled());
  EXPECT_EQ(none->audit.max_bytes, 64u << 20);
  EXPECT_EQ(none->audit.keep, 5u);
  EXPECT_FALSE(none->audit.unmasked);

  auto cfg = LoadServeConfig(Write(R"({"tls": {"cert": "a.crt", "key": "a.key"},
                                      "upstream_tls": "require", "audit": {"path": "/a"}})"),
                             {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->server.tls.require);
  EXPECT_EQ(cfg->server.upstream_tls.mode, proxy::UpstreamTlsMode::kRequire);
  EXPECT_EQ(cfg->audit.path, "/a");
  EXPECT_EQ(cfg->audit.keep, 5u);
  cfg = LoadServeConfig(Write(R"({"upstream_tls": {"mode": "disable"}})"), {});
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_FALSE(cfg->server.upstream_tls.enabled());
}

TEST_F(ConfigTest, TlsAndAuditMistakesAreErrorsNamingTheKey) {
  struct Case {
    const char* json;
    const char* expected;  // substring of the error
  };
  const Case cases[] = {
      {R"({"tls": {"cert": "a.crt"}})", "/tls: \"cert\" and \"key\" go together"},
      {R"({"tls": {"key": "a.key"}})", "/tls: \"cert\" and \"key\" go together"},
      {R"({"tls": {"cert": "a", "key": "b", "requre": true}})",
       "/tls/requre: unknown key (did you mean \"require\"?)"},
      {R"({"tls": {"require": true}})", "\"require\": true needs \"cert\" and \"key\""},
      {R"({"tls": {"ca": "c.crt"}})", "\"ca\" (client certificates) needs"},
      {R"({"tls": {"cert": "", "key": "b"}})", "/tls/cert: must be a non-empty string"},
      {R"({"tls": {"cert": "a", "key": "b", "require": "yes"}})",
       "/tls/require: must be true or false"},
      {R"({"tls": "server.crt"})", "/tls: must be an object"},
      {R"({"upstream_tls": "verify-ca"})", "invalid upstream TLS mode \"verify-ca\""},
      {R"({"upstream_tls": "verify-full"})", "verify-full needs \"ca\""},
      {R"({"upstream_tls": {"mode": "require", "ca": "r.crt"}})", "used only by verify-full"},
      {R"({"upstream_tls": {"ca": "r.crt"}})", "/upstream_tls: \"mode\" is required"},
      {R"({"upstream_tls": {"mode": "require", "sni": "x"}})", "/upstream_tls/sni: unknown key"},
      {R"({"upstream_tls": true})", "/upstream_tls: must be a mode"},
      {R"({"audit": {"max_bytes": 100000}})", "/audit: \"path\" is required"},
      {R"({"audit": {"path": "a", "max_byte": 100000}})",
       "/audit/max_byte: unknown key (did you mean \"max_bytes\"?)"},
      {R"({"audit": {"path": "a", "max_bytes": 10}})", "/audit/max_bytes: must be a whole number"},
      {R"({"audit": {"path": "a", "max_bytes": -1}})", "/audit/max_bytes: must be a whole number"},
      {R"({"audit": {"path": "a", "keep": 1001}})", "/audit/keep: must be a whole number"},
      {R"({"audit": {"path": "a", "unmasked": 1}})", "/audit/unmasked: must be true or false"},
      {R"({"audit": "audit.jsonl"})", "/audit: must be an object"},
  };
  for (const Case& c : cases) {
    auto cfg = LoadServeConfig(Write(c.json), {});
    ASSERT_FALSE(cfg.ok()) << c.json;
    EXPECT_NE(cfg.status().message().find(c.expected), std::string::npos)
        << c.json << " gave: " << cfg.status().message();
  }
}

TEST(HostPort, Parsing) {
  auto hp = proxy::ParseHostPort("[::1]:5432", "127.0.0.1");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 5432);
  EXPECT_EQ(hp->ToString(), "[::1]:5432");
  EXPECT_TRUE(proxy::ParseHostPort("6432", "127.0.0.1").ok());
  for (const char* bad : {"host:", "host:99999", "host:12x", "::1:5432", "[::1]5432", ""}) {
    EXPECT_FALSE(proxy::ParseHostPort(bad, "127.0.0.1").ok()) << bad;
  }
}

}  // namespace
}  // namespace pgveil::app
