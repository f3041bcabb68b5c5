// The shared world of one masking test executable: a throwaway PostgreSQL cluster (the
// integration harness's PgCluster) loaded with the dating-CRM demo (demo/schema.sql, then
// demo/generate.sql with kMembers members and seed 42), and one pgveil in front of it that
// masks with masking-rules/crm.json, the demo key file (copied with mode 0600) and a
// catalog side connection as pgveil_catalog. The environment provides main(); test files
// use Env() and derive their fixtures from MaskingTest.
//
// Besides the demo logins (password kPassword, SCRAM) the environment creates:
//   raw_sales    member of sales, trust authentication: for the raw-protocol client,
//                which only speaks trust
//   raw_matcher  member of matcher, trust authentication (same reason)
//   dual_login   member of sales and of matcher (password kPassword)
//
// Environment variables: PGVEIL_BIN (set by ctest), PGVEIL_IT_KEEP=1 keeps the
// temporary directory (server.log, pgveil.log).
//
// Thread-safety: accessors are immutable after SetUp; Query/Exec open their own
// connections.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/pg_cluster.h"
#include "harness/pgveil_process.h"

namespace pgveil::masking {

using it::Row;
using it::Rows;

inline constexpr int kMembers = 2000;
inline constexpr char kPassword[] = "veil-demo";
inline constexpr char kRawSales[] = "raw_sales";
inline constexpr char kRawMatcher[] = "raw_matcher";
inline constexpr char kDualLogin[] = "dual_login";

class MaskingEnv : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  int server_port() const { return cluster_->port(); }
  int proxy_port() const { return proxy_->port(); }
  const std::string& dir() const { return cluster_->dir(); }
  // pgveil's audit log (JSON lines, one per statement of a masked session).
  std::string audit_path() const { return cluster_->dir() + "/audit.jsonl"; }
  // The source tree (for demo/, masking-rules/, tests/masking/).
  static std::string SourceDir();

  // libpq conninfo for a demo login (password kPassword) straight to PostgreSQL or
  // through pgveil. `extra` is appended verbatim.
  std::string DirectConnInfo(const std::string& user, const std::string& extra = "") const;
  std::string ProxyConnInfo(const std::string& user, const std::string& extra = "") const;

  // SQL as the superuser, straight to the server.
  StatusOr<Rows> Query(const std::string& sql) const { return cluster_->Query(sql); }
  Status Exec(const std::string& sql) const { return cluster_->Exec(sql); }

  bool ProxyAlive() { return proxy_ && proxy_->Running(); }
  std::string ProxyLogTail() const;

  // Runs a program to completion; stdout and stderr go to `output_path` (appended).
  // `env` entries are NAME=VALUE, added to the inherited environment.
  Status Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& output_path, std::chrono::milliseconds timeout) const;

 private:
  Status LoadDemo();
  Status StartProxy();

  std::unique_ptr<it::PgCluster> cluster_;
  std::unique_ptr<it::PgveilProcess> proxy_;
};

MaskingEnv& Env();

// Base fixture: after every test, pgveil must still be running.
class MaskingTest : public ::testing::Test {
 protected:
  void TearDown() override;
};

}  // namespace pgveil::masking
