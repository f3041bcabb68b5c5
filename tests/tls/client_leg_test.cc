// TLS between clients and pgveil: libpq's sslmode and channel_binding settings, direct
// TLS with ALPN, the refusals (plaintext, bytes after SSLRequest, untrusted or expired
// certificates, wrong host names, missing client certificates), cancels over either
// kind of connection, and certificate reload on SIGHUP.
#include <libpq-fe.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "harness/pq_util.h"
#include "harness/raw_client.h"
#include "tls_client.h"
#include "tls_env.h"

namespace pgveil::tls_test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr char kSslQuery[] = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

std::string FieldOf(const std::vector<it::BackendMessage>& msgs, char type, char field) {
  for (const auto& m : msgs) {
    if (m.type == type) return it::be::Fields(m.body)[field];
  }
  return "";
}

// One pgveil per suite, started on first use.
class ClientLegTest : public TlsTest {
 protected:
  static void SetUpTestSuite() {
    auto p = TlsEnvironment().StartPgveil("main", R"({
      "tls": {"cert": "server.crt", "key": "server.key"},
      "upstream_tls": {"mode": "verify-full", "ca": "ca.crt"}})");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    proxy_ = std::move(*p);
  }
  static void TearDownTestSuite() { proxy_.reset(); }
  void TearDown() override {
    EXPECT_TRUE(proxy_ && proxy_->Running()) << it::FileTail(proxy_->log_path());
  }
  int port() { return proxy_->port(); }
  std::string Info(const std::string& user, const std::string& extra) {
    return ConnInfo(port(), user, extra);
  }
  static std::unique_ptr<it::PgveilProcess> proxy_;
};
std::unique_ptr<it::PgveilProcess> ClientLegTest::proxy_;

TEST_F(ClientLegTest, LibpqSslmodeRequireIsTlsOnBothLegs) {
  for (const char* user : {it::kTrustUser, it::kMd5User, it::kScramUser}) {
    auto conn = it::Connect(Info(user, "sslmode=require"));
    ASSERT_TRUE(conn.ok()) << user << ": " << conn.status().ToString();
    EXPECT_EQ(PQsslInUse(conn->get()), 1) << user;
    // pg_stat_ssl describes the server's side: pgveil's upstream connection.
    auto ssl = it::QueryValue(conn->get(), kSslQuery);
    ASSERT_TRUE(ssl.ok()) << ssl.status().ToString();
    EXPECT_EQ(*ssl, "true") << user;
  }
}

TEST_F(ClientLegTest, LibpqVerifyFullChecksChainAndName) {
  const std::string ca = "sslmode=verify-full sslrootcert=" + env().File("ca.crt");
  auto by_name = it::Connect(Info(it::kTrustUser, ca + " host=localhost hostaddr=127.0.0.1"));
  EXPECT_TRUE(by_name.ok()) << by_name.status().ToString();
  auto by_ip = it::Connect(Info(it::kTrustUser, ca));  // IP SAN 127.0.0.1
  EXPECT_TRUE(by_ip.ok()) << by_ip.status().ToString();

  std::string wrong_host =
      it::ConnectError(Info(it::kTrustUser, ca + " host=db.example hostaddr=127.0.0.1"));
  EXPECT_NE(wrong_host.find("does not match host name"), std::string::npos) << wrong_host;

  std::string untrusted = it::ConnectError(
      Info(it::kTrustUser, "sslmode=verify-full sslrootcert=" + env().File("other-ca.crt")));
  EXPECT_NE(untrusted.find("certificate verify failed"), std::string::npos) << untrusted;
}

TEST_F(ClientLegTest, PlaintextIsRefusedWithWhatToDo) {
  std::string err = it::ConnectError(Info(it::kTrustUser, "sslmode=disable"));
  EXPECT_NE(err.find("pgveil accepts only TLS connections"), std::string::npos) << err;
  EXPECT_NE(err.find("sslmode=require"), std::string::npos) << err;
  EXPECT_TRUE(FileContains(proxy_->log_path(), "event=plaintext_refused"));
  // sslmode=prefer (libpq's default) simply gets TLS.
  auto conn = it::Connect(Info(it::kTrustUser, "sslmode=prefer"));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(PQsslInUse(conn->get()), 1);
}

TEST_F(ClientLegTest, BytesAfterSslRequestAreRejected) {
  auto c = it::RawClient::Connect(port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(it::fe::SslRequest() +
                         it::fe::Startup({{"user", "it_trust"}, {"database", "pgveil_it"}}))
                  .ok());
  auto m = (*c)->ReadMessage(seconds(5));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, 'E');  // never 'S'
  EXPECT_EQ(it::be::Fields(m->body)['C'], "08P01");
  EXPECT_TRUE((*c)->WaitForClose(seconds(5)));
}

TEST_F(ClientLegTest, DirectTlsWithAlpnPostgresql) {
  auto c = TlsClient::Connect(port(),
                              {.direct = true, .alpn = "postgresql", .ca = env().File("ca.crt")});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->Alpn(), "postgresql");
  ASSERT_TRUE((*c)->StartupTrust(it::kTrustUser).ok());
  ASSERT_TRUE((*c)->Send(it::fe::Query(kSslQuery)).ok());
  auto msgs = (*c)->ReadUntil('Z', seconds(10));
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  EXPECT_EQ(it::be::Types(*msgs), "TDCZ");
  EXPECT_EQ(it::be::DataRowValues((*msgs)[1].body), std::vector<std::string>{"true"});
}

TEST_F(ClientLegTest, DirectTlsWithoutAlpnIsRefused) {
  auto c = TlsClient::Connect(port(), {.direct = true});
  ASSERT_TRUE(c.ok()) << c.status().ToString();  // the handshake itself completes
  auto m = (*c)->ReadMessage(seconds(5));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, 'E');
  EXPECT_NE(it::be::Fields(m->body)['M'].find("ALPN"), std::string::npos);
  EXPECT_FALSE((*c)->ReadMessage(seconds(5)).ok());  // closed
}

TEST_F(ClientLegTest, AlpnOfAnotherProtocolFailsTheHandshake) {
  for (bool direct : {true, false}) {
    auto c = TlsClient::Connect(port(), {.direct = direct, .alpn = "http/1.1"});
    EXPECT_FALSE(c.ok()) << "direct=" << direct;
  }
  // SSLRequest with ALPN postgresql (what libpq 17 sends) is fine.
  auto ok = TlsClient::Connect(port(), {.alpn = "postgresql"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE((*ok)->StartupTrust(it::kTrustUser).ok());
}

TEST_F(ClientLegTest, NegotiationInsideTlsIsRefused) {
  auto c = TlsClient::Connect(port(), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Send(it::fe::SslRequest()).ok());
  auto m = (*c)->ReadMessage(seconds(5));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, 'E');
  EXPECT_EQ(it::be::Fields(m->body)['C'], "08P01");
}

TEST_F(ClientLegTest, CancelRequestOverTlsReachesTheServerOverTls) {
  auto session = TlsClient::Connect(port(), {});
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto startup = (*session)->StartupTrust(it::kTrustUser);
  ASSERT_TRUE(startup.ok()) << startup.status().ToString();
  uint32_t pid = 0, key = 0;
  for (const auto& m : *startup) {
    if (m.type == 'K') {
      pid = it::be::Int32At(m.body, 0);
      key = it::be::Int32At(m.body, 4);
    }
  }
  ASSERT_NE(pid, 0u);
  ASSERT_TRUE((*session)->Send(it::fe::Query("SELECT pg_sleep(30)")).ok());
  auto start = std::chrono::steady_clock::now();
  StatusOr<std::vector<it::BackendMessage>> result = Unavailable("no answer");
  // A cancel that lands before the query starts is lost: try again each second.
  for (int attempt = 0; attempt < 8 && !result.ok(); ++attempt) {
    std::this_thread::sleep_for(milliseconds(200));
    auto canceller = TlsClient::Connect(port(), {});
    ASSERT_TRUE(canceller.ok()) << canceller.status().ToString();
    ASSERT_TRUE((*canceller)->Send(it::fe::CancelRequest(pid, key)).ok());
    EXPECT_FALSE((*canceller)->ReadMessage(seconds(5)).ok());  // no reply, just closed
    result = (*session)->ReadUntil('Z', seconds(1));
  }
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(FieldOf(*result, 'E', 'C'), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(15));
}

TEST_F(ClientLegTest, LibpqCancelInPlaintextIsAcceptedWhileTlsIsRequired) {
  // libpq before 17 sends CancelRequest unencrypted even for a TLS session; pgveil
  // forwards it to the server over TLS.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(CancelSleepingQuery(Info(it::kScramUser, "sslmode=require")), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(15));
}

TEST_F(ClientLegTest, ChannelBindingWorksEndToEndWithTheServersOwnCertificate) {
  // Precondition: the server itself offers SCRAM-SHA-256-PLUS over TLS.
  auto direct = it::Connect(
      env().cluster().ConnInfo(it::kScramUser, 0, "sslmode=require channel_binding=require"));
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  // "main" presents server.crt, the server's own certificate: tls-server-end-point binds
  // to the certificate alone, so the offer is relayed and binding holds end to end.
  for (const char* mode : {"require", "prefer", "disable"}) {
    auto conn =
        it::Connect(Info(it::kScramUser, std::string("sslmode=require channel_binding=") + mode));
    ASSERT_TRUE(conn.ok()) << mode << ": " << conn.status().ToString();
    EXPECT_EQ(*it::QueryValue(conn->get(), "SELECT current_user"), it::kScramUser);
  }
  EXPECT_TRUE(FileContains(proxy_->log_path(), "event=channel_binding_end_to_end"));
  std::string wrong =
      it::ConnectError(ConnInfo(port(), it::kScramUser, "sslmode=require password=wrong"));
  EXPECT_NE(wrong.find("password authentication failed"), std::string::npos) << wrong;
}

class ChannelBindingTest : public TlsTest {};

TEST_F(ChannelBindingTest, WithAnotherCertificateRequireFailsFastAndPreferIsExplained) {
  auto p = env().StartPgveil("othercert", R"({
    "tls": {"cert": "reloaded.crt", "key": "reloaded.key"},
    "upstream_tls": {"mode": "verify-full", "ca": "ca.crt"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const int port = (*p)->port();
  auto start = std::chrono::steady_clock::now();
  std::string err =
      it::ConnectError(ConnInfo(port, it::kScramUser, "sslmode=require channel_binding=require"));
  EXPECT_NE(err.find("channel binding is required"), std::string::npos) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_TRUE(FileContains((*p)->log_path(), "event=channel_binding_unavailable"));

  // libpq's default (prefer) over TLS announces that it supports binding ('y'); the
  // server refuses that as a downgrade, and pgveil cannot rewrite it: it explains.
  start = std::chrono::steady_clock::now();
  err = it::ConnectError(ConnInfo(port, it::kScramUser, "sslmode=require channel_binding=prefer"));
  EXPECT_NE(err.find("channel_binding=disable"), std::string::npos) << err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_TRUE(FileContains((*p)->log_path(), "event=channel_binding_refused"));

  auto conn =
      it::Connect(ConnInfo(port, it::kScramUser, "sslmode=require channel_binding=disable"));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(*it::QueryValue(conn->get(), "SELECT current_user"), it::kScramUser);
  // Logins without SCRAM are unaffected by channel_binding=prefer.
  for (const char* user : {it::kMd5User, it::kTrustUser}) {
    auto c = it::Connect(ConnInfo(port, user, "sslmode=require channel_binding=prefer"));
    EXPECT_TRUE(c.ok()) << user << ": " << c.status().ToString();
  }
  EXPECT_TRUE((*p)->Running());
}

class ExpiredCertificateTest : public TlsTest {};

TEST_F(ExpiredCertificateTest, ClientsRefuseAnExpiredCertificate) {
  auto p =
      env().StartPgveil("expired", R"({"tls": {"cert": "expired.crt", "key": "expired.key"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto raw = TlsClient::Connect((*p)->port(), {.ca = env().File("ca.crt")});
  ASSERT_FALSE(raw.ok());
  EXPECT_NE(raw.status().message().find("certificate has expired"), std::string::npos)
      << raw.status().message();
  std::string err = it::ConnectError(ConnInfo(
      (*p)->port(), it::kTrustUser, "sslmode=verify-full sslrootcert=" + env().File("ca.crt")));
  EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
  EXPECT_TRUE((*p)->Running());
}

class ClientCertificateTest : public TlsTest {};

TEST_F(ClientCertificateTest, ConfiguredCaRequiresASignedClientCertificate) {
  auto p = env().StartPgveil("mtls", R"({
    "tls": {"cert": "server.crt", "key": "server.key", "ca": "ca.crt"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const int port = (*p)->port();
  auto with = it::Connect(ConnInfo(port, it::kTrustUser,
                                   "sslmode=require sslcert=" + env().File("client.crt") +
                                       " sslkey=" + env().File("client.key")));
  EXPECT_TRUE(with.ok()) << with.status().ToString();
  // No certificate (libpq looks in ~/.postgresql otherwise: point it at nothing).
  std::string without = it::ConnectError(
      ConnInfo(port, it::kTrustUser, "sslmode=require sslcert=/nonexistent sslkey=/nonexistent"));
  EXPECT_FALSE(without.empty());
  std::string stranger =
      it::ConnectError(ConnInfo(port, it::kTrustUser,
                                "sslmode=require sslcert=" + env().File("stranger.crt") +
                                    " sslkey=" + env().File("stranger.key")));
  EXPECT_FALSE(stranger.empty());
  EXPECT_TRUE(FileContains((*p)->log_path(), "event=tls_refused"));
}

class OptionalTlsTest : public TlsTest {};

TEST_F(OptionalTlsTest, RequireFalseAcceptsPlaintextAndSaysSo) {
  auto p = env().StartPgveil("optional", R"({
    "tls": {"cert": "server.crt", "key": "server.key", "require": false}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(FileContains((*p)->log_path(), "event=tls_optional"));
  auto plain = it::Connect(ConnInfo((*p)->port(), it::kMd5User, "sslmode=disable"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(PQsslInUse(plain->get()), 0);
  auto tls = it::Connect(ConnInfo((*p)->port(), it::kMd5User, "sslmode=require"));
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_EQ(PQsslInUse(tls->get()), 1);
  // upstream_tls defaults to disable.
  EXPECT_EQ(*it::QueryValue(tls->get(), kSslQuery), "false");
}

class ReloadTest : public TlsTest {};

TEST_F(ReloadTest, SighupLoadsNewCertificatesAndKeepsThemWhenTheNewOnesAreBroken) {
  const std::string cert = env().File("live.crt"), key = env().File("live.key");
  auto copy = [](const std::string& from, const std::string& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    chmod(to.c_str(), 0600);
  };
  copy(env().File("server.crt"), cert);
  copy(env().File("server.key"), key);
  auto p = env().StartPgveil("reload", R"({"tls": {"cert": "live.crt", "key": "live.key"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const int port = (*p)->port();
  auto cn = [port]() -> std::string {
    auto c = TlsClient::Connect(port, {});
    return c.ok() ? (*c)->PeerCommonName() : "error: " + c.status().message();
  };
  ASSERT_EQ(cn(), "localhost");
  auto before = TlsClient::Connect(port, {});
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE((*before)->StartupTrust(it::kTrustUser).ok());

  copy(env().File("reloaded.crt"), cert);
  copy(env().File("reloaded.key"), key);
  (*p)->Signal(SIGHUP);
  ASSERT_TRUE(FileContains((*p)->log_path(), "event=tls_reloaded", 5000));
  EXPECT_EQ(cn(), "pgveil-reloaded");
  // The session opened before the reload goes on.
  ASSERT_TRUE((*before)->Send(it::fe::Query("SELECT 1")).ok());
  auto msgs = (*before)->ReadUntil('Z', seconds(5));
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  EXPECT_EQ(it::be::Types(*msgs), "TDCZ");

  // A key that does not match: the reload fails and the working pair stays.
  copy(env().File("server.key"), key);
  (*p)->Signal(SIGHUP);
  ASSERT_TRUE(FileContains((*p)->log_path(), "event=tls_reload_failed", 5000));
  EXPECT_EQ(cn(), "pgveil-reloaded");
  EXPECT_TRUE((*p)->Running());
}

class StartupErrorTest : public TlsTest {};

TEST_F(StartupErrorTest, BadCertificatesStopPgveilWithAClearMessage) {
  std::string out = env().RunPgveilExpectingFailure(
      "mismatch", R"({"tls": {"cert": "server.crt", "key": "reloaded.key"}})");
  EXPECT_NE(out.find("does not match tls.cert"), std::string::npos) << out;
  out = env().RunPgveilExpectingFailure(
      "missing", R"({"tls": {"cert": "nonexistent.crt", "key": "server.key"}})");
  EXPECT_NE(out.find("tls.cert: cannot load the certificate chain"), std::string::npos) << out;
  fs::copy_file(env().File("server.key"), env().File("open.key"),
                fs::copy_options::overwrite_existing);
  chmod(env().File("open.key").c_str(), 0644);
  out = env().RunPgveilExpectingFailure("open",
                                        R"({"tls": {"cert": "server.crt", "key": "open.key"}})");
  EXPECT_NE(out.find("chmod 600"), std::string::npos) << out;
  out = env().RunPgveilExpectingFailure(
      "badca", R"({"upstream_tls": {"mode": "verify-full", "ca": "nonexistent.crt"}})");
  EXPECT_NE(out.find("upstream_tls.ca"), std::string::npos) << out;
  // Nothing secret in any of it.
  EXPECT_EQ(out.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace pgveil::tls_test
