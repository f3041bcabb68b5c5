// TLS between pgveil and PostgreSQL: upstream_tls require and verify-full (chain and
// name), the refusals (wrong name, untrusted CA, a server that answers N: never a
// plaintext fallback), and cancels carried over TLS.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness/pq_util.h"
#include "tls_env.h"

namespace pgveil::tls_test {
namespace {

using std::chrono::seconds;

constexpr char kSslQuery[] = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

class UpstreamTest : public TlsTest {};

TEST_F(UpstreamTest, RequireEncryptsForAPlaintextClient) {
  auto p = env().StartPgveil("up-require", R"({"upstream_tls": "require"})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // SCRAM too: the server's -PLUS offer is removed (libpq refuses one over plaintext).
  for (const char* user : {it::kTrustUser, it::kMd5User, it::kScramUser}) {
    auto conn = it::Connect(ConnInfo((*p)->port(), user, "sslmode=disable"));
    ASSERT_TRUE(conn.ok()) << user << ": " << conn.status().ToString();
    EXPECT_EQ(PQsslInUse(conn->get()), 0);
    EXPECT_EQ(*it::QueryValue(conn->get(), kSslQuery), "true") << user;
  }
  EXPECT_TRUE(FileContains((*p)->log_path(), "event=channel_binding_unavailable"));
  EXPECT_EQ(CancelSleepingQuery(ConnInfo((*p)->port(), it::kMd5User, "sslmode=disable")), "57014");
}

TEST_F(UpstreamTest, ReuseKeepsTlsUpstreamsOnTheirWorker) {
  auto p = env().StartPgveil("up-reuse", R"({"upstream_tls": "require", "upstream_reuse": true})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::string info = ConnInfo(
      (*p)->port(), it::kScramUser,
      std::string("sslmode=disable application_name=tls_reuse password=") + it::kScramPassword);
  auto session = [&](const char* sql) {
    auto conn = it::Connect(info);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return std::string();
    EXPECT_EQ(*it::QueryValue(conn->get(), kSslQuery), "true");
    EXPECT_EQ(*it::QueryValue(conn->get(), "SHOW work_mem"), "4MB");
    std::string pid = *it::QueryValue(conn->get(), "SELECT pg_backend_pid()");
    it::Exec(conn->get(), sql);
    return pid;
  };
  // Clients take turns on the workers; a TLS upstream is reused on its own worker, so
  // the third client gets the first one's backend (reset: work_mem is back to 4MB).
  const std::string first = session("SET work_mem = '9MB'");
  const std::string second = session("SET work_mem = '9MB'");
  const std::string third = session("SELECT 1");
  EXPECT_NE(first, second);
  EXPECT_EQ(third, first) << "not reused";
  EXPECT_TRUE(FileContains((*p)->log_path(), "upstream=kept"));
  EXPECT_EQ(CancelSleepingQuery(info), "57014");
}

TEST_F(UpstreamTest, DisableIsPlaintext) {
  auto p = env().StartPgveil("up-disable", R"({"upstream_tls": "disable"})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto conn = it::Connect(ConnInfo((*p)->port(), it::kTrustUser, ""));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(*it::QueryValue(conn->get(), kSslQuery), "false");
}

TEST_F(UpstreamTest, VerifyFullByHostNameAndByAddress) {
  for (const char* name : {"localhost", ""}) {
    std::string cfg = std::string(R"({"upstream_tls": {"mode": "verify-full", "ca": "ca.crt")") +
                      (*name ? std::string(R"(, "server_name": ")") + name + "\"" : "") + "}}";
    auto p = env().StartPgveil(std::string("up-verify-") + (*name ? name : "ip"), cfg);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto conn = it::Connect(ConnInfo((*p)->port(), it::kScramUser, ""));
    ASSERT_TRUE(conn.ok()) << name << ": " << conn.status().ToString();
    EXPECT_EQ(*it::QueryValue(conn->get(), kSslQuery), "true");
  }
}

TEST_F(UpstreamTest, VerifyFullRefusesWrongNameAndUnknownCa) {
  struct Case {
    const char* name;
    const char* config;
    const char* log;  // the verification error in pgveil's log
  };
  const Case cases[] = {
      {"up-wrongname",
       R"({"upstream_tls": {"mode": "verify-full", "ca": "ca.crt", "server_name": "db.example"}})",
       "hostname mismatch"},
      {"up-otherca", R"({"upstream_tls": {"mode": "verify-full", "ca": "other-ca.crt"}})",
       "unable to get local issuer certificate"},
  };
  for (const Case& c : cases) {
    auto p = env().StartPgveil(c.name, c.config);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::string err = it::ConnectError(ConnInfo((*p)->port(), it::kTrustUser, ""));
    EXPECT_NE(err.find("pgveil could not establish a secure connection to the database server"),
              std::string::npos)
        << c.name << ": " << err;
    EXPECT_TRUE(FileContains((*p)->log_path(), c.log)) << c.name << "\n"
                                                       << it::FileTail((*p)->log_path());
    EXPECT_TRUE((*p)->Running());
  }
}

// A server (or a man in the middle) that answers N to SSLRequest: pgveil must end the
// session, never go on in plaintext. Records every byte it receives.
class RefusingServer {
 public:
  RefusingServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 4);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RefusingServer() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  // Bytes received, once the connection has closed (joins the thread).
  std::string Received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  void Serve() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20000) <= 0) return;
    int c = accept(fd_, nullptr, nullptr);
    char buf[4096];
    bool answered = false;
    for (;;) {
      pollfd q{c, POLLIN, 0};
      if (poll(&q, 1, 5000) <= 0) break;
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      received_.append(buf, static_cast<size_t>(n));
      if (!answered && received_.size() >= 8) {
        answered = write(c, "N", 1) == 1;
      }
    }
    close(c);
  }
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string received_;
};

TEST_F(UpstreamTest, ServerAnsweringNIsNeverADowngrade) {
  RefusingServer fake;
  auto p = env().StartPgveil("up-refused", R"({"upstream_tls": "require"})", fake.port());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::string err = it::ConnectError(ConnInfo((*p)->port(), it::kMd5User, ""));
  EXPECT_NE(err.find("could not establish a secure connection"), std::string::npos) << err;
  // Only the SSLRequest reached the "server": no startup packet, no password.
  EXPECT_EQ(fake.Received(), it::fe::SslRequest());
  EXPECT_TRUE(FileContains((*p)->log_path(), "does not accept TLS connections"));
}

}  // namespace
}  // namespace pgveil::tls_test
