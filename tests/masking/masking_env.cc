#include "masking_env.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "harness/subprocess.h"

namespace pgveil::masking {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

MaskingEnv* g_env = nullptr;

// Logins the raw-protocol client uses: trust, before the catch-all SCRAM line.
constexpr char kTrustHbaLines[] =
    "host all raw_sales 127.0.0.1/32 trust\n"
    "host all raw_matcher 127.0.0.1/32 trust\n";

constexpr char kExtraRoles[] =
    "SET client_min_messages = warning;"
    "DROP ROLE IF EXISTS raw_sales; DROP ROLE IF EXISTS raw_matcher;"
    "DROP ROLE IF EXISTS dual_login;"
    "CREATE ROLE raw_sales LOGIN; GRANT sales TO raw_sales;"
    "CREATE ROLE raw_matcher LOGIN; GRANT matcher TO raw_matcher;"
    "SET password_encryption = 'scram-sha-256';"
    "CREATE ROLE dual_login LOGIN PASSWORD 'veil-demo'; GRANT sales, matcher TO dual_login;";

Status PrependToFile(const std::string& path, const std::string& text) {
  std::string old = it::ReadFileOrEmpty(path);
  if (old.empty()) return Unavailable("cannot read " + path);
  std::ofstream out(path, std::ios::trunc);  // keeps the file's owner and mode
  out << text << old;
  out.close();
  if (!out) return Unavailable("cannot write " + path);
  return Status::Ok();
}

}  // namespace

MaskingEnv& Env() { return *g_env; }

std::string MaskingEnv::SourceDir() { return PGVEIL_MASKING_SOURCE_DIR; }

std::string MaskingEnv::DirectConnInfo(const std::string& user, const std::string& extra) const {
  return cluster_->ConnInfo(user, cluster_->port(),
                            std::string("password=") + kPassword + " " + extra);
}

std::string MaskingEnv::ProxyConnInfo(const std::string& user, const std::string& extra) const {
  return cluster_->ConnInfo(user, proxy_->port(),
                            std::string("password=") + kPassword + " " + extra);
}

std::string MaskingEnv::ProxyLogTail() const {
  return proxy_ ? it::FileTail(proxy_->log_path()) : "(no pgveil)";
}

Status MaskingEnv::Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::string& output_path, milliseconds timeout) const {
  std::vector<std::string> full = {"/usr/bin/env"};
  full.insert(full.end(), env.begin(), env.end());
  full.insert(full.end(), argv.begin(), argv.end());
  return it::RunToCompletion({.argv = full, .output_path = output_path}, timeout);
}

Status MaskingEnv::LoadDemo() {
  auto bin = it::FindPgBinDir();
  if (!bin.ok()) return bin.status();
  const std::string psql = *bin + "/psql";
  const std::string demo = SourceDir() + "/demo/";
  const std::vector<std::string> base = {psql,
                                         "-X",
                                         "-q",
                                         "-v",
                                         "ON_ERROR_STOP=1",
                                         "-h",
                                         "127.0.0.1",
                                         "-p",
                                         std::to_string(server_port()),
                                         "-U",
                                         "postgres",
                                         "-d",
                                         it::kDatabase};
  const std::string log = dir() + "/demo-load.log";
  auto schema = base;
  schema.insert(schema.end(), {"-f", demo + "schema.sql"});
  if (Status st =
          Run(schema, {"PGOPTIONS=--client-min-messages=warning"}, log, milliseconds(120000));
      !st.ok()) {
    return Internal("demo/schema.sql failed: " + it::FileTail(log));
  }
  auto generate = base;
  generate.insert(generate.end(), {"-v", "members=" + std::to_string(kMembers), "-v", "seed=42",
                                   "-f", demo + "generate.sql"});
  if (Status st = Run(generate, {}, log, milliseconds(300000)); !st.ok()) {
    return Internal("demo/generate.sql failed: " + it::FileTail(log));
  }
  if (Status st = Exec(kExtraRoles); !st.ok()) return st;
  const std::string hba = dir() + "/data/pg_hba.conf";
  if (Status st = PrependToFile(hba, kTrustHbaLines); !st.ok()) return st;
  return Exec("SELECT pg_reload_conf()");
}

Status MaskingEnv::StartProxy() {
  // pgveil refuses a key file that group or others can read.
  const std::string keys = dir() + "/keys.json";
  std::error_code ec;
  fs::copy_file(SourceDir() + "/demo/keys.json", keys, fs::copy_options::overwrite_existing, ec);
  if (ec) return Unavailable("copy demo/keys.json: " + ec.message());
  if (chmod(keys.c_str(), 0600) != 0) return Unavailable("chmod keys.json");
  // The audit log of masked sessions, for the audit test.
  const std::string config = dir() + "/pgveil.json";
  {
    std::ofstream out(config);
    out << "{\"audit\": {\"path\": \"" << audit_path() << "\"}}\n";
  }
  it::PgveilProcess::Options options;
  options.upstream_port = server_port();
  options.log_path = dir() + "/pgveil.log";
  options.extra_args = {"--config",
                        config,
                        "--rules",
                        SourceDir() + "/masking-rules/crm.json",
                        "--keys",
                        keys,
                        "--catalog",
                        "host=127.0.0.1 port=" + std::to_string(server_port()) +
                            " user=pgveil_catalog password=veil-demo dbname=" + it::kDatabase};
  auto proxy = it::PgveilProcess::Start(options);
  if (!proxy.ok()) return proxy.status();
  proxy_ = std::move(*proxy);
  return Status::Ok();
}

void MaskingEnv::SetUp() {
  auto cluster = it::PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(*cluster);
  Status st = LoadDemo();
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = StartProxy();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

void MaskingEnv::TearDown() {
  const bool failed = ::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
                      ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  if (failed && cluster_) {
    std::cerr << "---- pgveil log (tail) ----\n" << ProxyLogTail() << "\n";
    std::cerr << "---- PostgreSQL log (tail) ----\n" << it::FileTail(cluster_->log_path()) << "\n";
  }
  if (proxy_) {
    int status = proxy_->Stop();
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      ADD_FAILURE() << "pgveil did not exit cleanly on SIGTERM (waitpid status " << status << ")";
    }
  }
  proxy_.reset();
  cluster_.reset();
}

void MaskingTest::TearDown() {
  EXPECT_TRUE(Env().ProxyAlive()) << "pgveil exited during the test; log:\n"
                                  << Env().ProxyLogTail();
}

}  // namespace pgveil::masking

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pgveil::masking::g_env = new pgveil::masking::MaskingEnv();
  ::testing::AddGlobalTestEnvironment(pgveil::masking::g_env);  // gtest owns it
  return RUN_ALL_TESTS();
}
