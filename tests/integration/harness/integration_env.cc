#include "harness/integration_env.h"

#include <sys/wait.h>

#include <cstdlib>
#include <iostream>

namespace pgveil::it {
namespace {
IntegrationEnv* g_env = nullptr;
}  // namespace

IntegrationEnv& Env() { return *g_env; }

std::vector<std::string>& ExtraProxyArgs::All() {
  static std::vector<std::string> args;
  return args;
}

ExtraProxyArgs::ExtraProxyArgs(std::vector<std::string> args) {
  All().insert(All().end(), args.begin(), args.end());
}

void IntegrationEnv::SetUp() {
  const char* direct = std::getenv("PGVEIL_IT_DIRECT");
  direct_ = direct != nullptr && std::string(direct) == "1";
  auto cluster = PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(*cluster);
  if (direct_) {
    std::cerr << "[integration] PGVEIL_IT_DIRECT=1: clients connect straight to PostgreSQL\n";
    return;
  }
  PgveilProcess::Options options;
  options.upstream_port = cluster_->port();
  options.log_path = cluster_->dir() + "/pgveil.log";
  options.extra_args = ExtraProxyArgs::All();
  auto proxy = PgveilProcess::Start(options);
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  proxy_ = std::move(*proxy);
}

void IntegrationEnv::TearDown() {
  const bool failed = ::testing::UnitTest::GetInstance()->failed_test_count() > 0 ||
                      ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  if (failed && cluster_) {
    std::cerr << "---- pgveil log (tail) ----\n" << ProxyLogTail() << "\n";
    std::cerr << "---- PostgreSQL log (tail) ----\n" << ServerLogTail() << "\n";
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

std::string IntegrationEnv::ProxyLogTail() const {
  return proxy_ ? FileTail(proxy_->log_path()) : "(direct mode: no pgveil)";
}

std::string IntegrationEnv::ServerLogTail() const { return FileTail(cluster_->log_path()); }

void RelayTest::TearDown() {
  EXPECT_TRUE(Env().ProxyAlive()) << "pgveil exited during the test; log:\n"
                                  << Env().ProxyLogTail();
}

}  // namespace pgveil::it

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pgveil::it::g_env = new pgveil::it::IntegrationEnv();
  ::testing::AddGlobalTestEnvironment(pgveil::it::g_env);  // gtest owns it
  return RUN_ALL_TESTS();
}
