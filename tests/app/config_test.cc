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
