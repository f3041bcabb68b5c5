// The shared world of one integration test executable: one throwaway PostgreSQL cluster
// and one pgveil in front of it, started before the first test and torn down after the
// last (also when tests fail). The harness provides main(); test files only use Env().
//
// Environment variables:
//   PGVEIL_BIN          the pgveil executable (ctest sets it)
//   PGVEIL_IT_DIRECT=1  run every "proxied" connection straight to PostgreSQL instead;
//                       this checks the tests themselves against the real server
//   PGVEIL_IT_KEEP=1    keep the temporary directory (server and pgveil logs)
//
// Thread-safety: the conninfo and port accessors may be called from any thread once
// SetUp has run; Query/Exec open their own connections and are thread-safe too.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/pg_cluster.h"
#include "harness/pgveil_process.h"

namespace pgveil::it {

class IntegrationEnv : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  PgCluster& cluster() { return *cluster_; }
  int server_port() const { return cluster_->port(); }
  // The port clients use: pgveil's, or the server's in direct mode.
  int proxy_port() const { return proxy_ ? proxy_->port() : cluster_->port(); }
  bool direct_mode() const { return direct_; }
  // The pgveil process (nullptr in direct mode), for tests that signal it.
  PgveilProcess* proxy() { return proxy_.get(); }

  std::string DirectConnInfo(const std::string& user, const std::string& extra = "") const {
    return cluster_->ConnInfo(user, cluster_->port(), extra);
  }
  std::string ProxyConnInfo(const std::string& user, const std::string& extra = "") const {
    return cluster_->ConnInfo(user, proxy_port(), extra);
  }

  // SQL as the superuser, straight to the server (never through pgveil).
  StatusOr<Rows> Query(const std::string& sql) const { return cluster_->Query(sql); }
  Status Exec(const std::string& sql) const { return cluster_->Exec(sql); }

  // False when pgveil has exited; tests check this after each case.
  bool ProxyAlive() { return direct_ || (proxy_ && proxy_->Running()); }
  std::string ProxyLogTail() const;
  std::string ServerLogTail() const;

 private:
  bool direct_ = false;
  std::unique_ptr<PgCluster> cluster_;
  std::unique_ptr<PgveilProcess> proxy_;
};

IntegrationEnv& Env();

// Extra `pgveil serve` arguments for this executable; register at namespace scope:
//   static const ExtraProxyArgs kArgs({"--max_message_bytes", "1048576"});
struct ExtraProxyArgs {
  explicit ExtraProxyArgs(std::vector<std::string> args);
  static std::vector<std::string>& All();
};

// Base fixture: after every test, pgveil must still be running.
class RelayTest : public ::testing::Test {
 protected:
  void TearDown() override;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
template <typename F>
bool PollUntil(F condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const StatusOr<T>& s) {
  return s.status();
}

// Fails the current test with the status message unless `expr` (a Status or a
// StatusOr) is ok.
#define IT_ASSERT_OK(expr)                                                            \
  do {                                                                                \
    const auto& it_status_ = (expr);                                                  \
    ASSERT_TRUE(it_status_.ok()) << #expr << ": " << StatusOf(it_status_).ToString(); \
  } while (0)

}  // namespace pgveil::it
