// The startup phase and hostile input through pgveil: split and coalesced startup
// packets, SSLRequest/GSSENCRequest, newer protocol versions, malformed frames. A bad
// client loses its own session only; pgveil keeps serving everyone else.
#include <gtest/gtest.h>

#include "harness/integration_env.h"
#include "harness/pq_util.h"
#include "harness/raw_exchange.h"

namespace pgveil::it {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint32_t kMaxMessage = 1 << 20;
const ExtraProxyArgs kArgs({"--max_message_bytes", std::to_string(kMaxMessage)});

std::string Int32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

int CountBackends(const std::string& app) {
  auto rows =
      Env().Query("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'");
  return rows.ok() && (*rows)[0][0] ? std::stoi(*(*rows)[0][0]) : -1;
}

// A query that proves a raw session is usable after startup.
void ExpectQueryWorks(RawClient& client) {
  ASSERT_TRUE(client.Send(fe::Query("SELECT 'usable'")).ok());
  auto got = client.ReadUntil('Z', seconds(10));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(be::Types(*got), "TDCZ");
  EXPECT_EQ(be::DataRowValues((*got)[1].body), std::vector<std::string>{"usable"});
}

class StartupTest : public RelayTest {
 protected:
  // A session that stays open across the hostile cases and must keep working.
  static void SetUpTestSuite() {
    auto conn = Connect(Env().ProxyConnInfo(kTrustUser, "application_name=bystander"));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    bystander_ = new PgConn(std::move(*conn));
  }
  static void TearDownTestSuite() {
    delete bystander_;
    bystander_ = nullptr;
  }

  static StatusOr<std::unique_ptr<RawClient>> Open() {
    return RawClient::Connect(Env().proxy_port());
  }

  // After a hostile client: the bystander still works, and so does a new session.
  static void ExpectOthersUnaffected() {
    ASSERT_NE(bystander_, nullptr);
    auto v = QueryValue(bystander_->get(), "SELECT 'bystander ok'");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, "bystander ok");
    auto fresh = Connect(Env().ProxyConnInfo(kScramUser));
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    EXPECT_EQ(*QueryValue(fresh->get(), "SELECT 1"), "1");
  }

  // The connection must end (an ErrorResponse first is fine) without ever having
  // authenticated anyone.
  static void ExpectClosedWithoutLogin(RawClient& client) {
    std::vector<BackendMessage> got;
    EXPECT_TRUE(client.WaitForClose(seconds(5), &got)) << "still open after " << be::Types(got);
    for (const BackendMessage& m : got) {
      EXPECT_NE(m.type, 'R') << "authentication went ahead";
      EXPECT_NE(m.type, 'Z') << "session became ready";
    }
  }

  static PgConn* bystander_;
};

PgConn* StartupTest::bystander_ = nullptr;

TEST_F(StartupTest, StartupSplitByteByByte) {
  auto client = Open();
  IT_ASSERT_OK(client);
  std::string startup = fe::Startup({{"user", kTrustUser}, {"database", kDatabase}});
  IT_ASSERT_OK((*client)->SendByteByByte(startup, milliseconds(2)));
  auto got = (*client)->ReadUntil('Z', seconds(10));
  IT_ASSERT_OK(got);
  EXPECT_EQ((*got)[0].type, 'R');
  EXPECT_EQ(be::Int32At((*got)[0].body, 0), 0u);  // AuthenticationOk
  ExpectQueryWorks(**client);
}

// A user or database name is anybody's input before authentication: it must not be
// able to write a log record of its own.
TEST_F(StartupTest, NamesCannotForgeLogRecords) {
  if (Env().proxy() == nullptr) GTEST_SKIP() << "direct mode: no pgveil log";
  auto client = Open();
  IT_ASSERT_OK(client);
  const std::string forged = "x\n2026-01-01T00:00:00.000+00:00 info event=forged user=\"root\"";
  IT_ASSERT_OK(
      (*client)->Send(fe::Startup({{"user", forged}, {"database", "db\r\nevent=forged"}})));
  auto got = (*client)->ReadUntil('R', seconds(10));  // the server asks for a password
  IT_ASSERT_OK(got);
  const std::string log = FileTail(Env().proxy()->log_path(), 1 << 20);
  EXPECT_EQ(log.find("\nevent=forged"), std::string::npos);
  EXPECT_EQ(log.find("\n2026-01-01T00:00:00.000"), std::string::npos);
  EXPECT_NE(log.find("x\\x0a2026-01-01"), std::string::npos)
      << log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
}

// Everything the server sends until it closes, without BackendKeyData (keys differ).
std::string RunUntilClosed(int port, const std::string& bytes) {
  std::vector<BackendMessage> all;
  auto client = RawClient::Connect(port);
  if (!client.ok()) return "connect failed";
  if (!(*client)->Send(bytes).ok()) return "send failed";
  if (!(*client)->WaitForClose(seconds(10), &all)) return "not closed: " + Dump(all);
  std::string out;
  for (const BackendMessage& m : all) {
    if (m.type != 'K') out += Dump({m});
  }
  return out;
}

TEST_F(StartupTest, StartupAndFirstQueryInOneWriteLikeDirect) {
  auto run = [](int port) {
    auto client = RawClient::Connect(port);
    if (!client.ok()) return std::string("connect failed");
    std::string bytes = fe::Startup({{"user", kTrustUser}, {"database", kDatabase}}) +
                        fe::Query("SELECT 'together'");
    if (!(*client)->Send(bytes).ok()) return std::string("send failed");
    auto got = (*client)->ReadUntil('Z', seconds(10));
    if (!got.ok()) return got.status().ToString();
    auto more = (*client)->ReadUntil('Z', seconds(10));
    if (!more.ok()) return more.status().ToString() + " after startup " + be::Types(*got);
    return Dump(*more);
  };
  std::string want = run(Env().server_port());
  EXPECT_NE(want.find("D \\x00\\x01\\x00\\x00\\x00\\x08together"), std::string::npos) << want;
  EXPECT_EQ(run(Env().proxy_port()), want);
}

TEST_F(StartupTest, StartupQueryAndTerminateInOneWriteLikeDirect) {
  const std::string bytes = fe::Startup({{"user", kTrustUser}, {"database", kDatabase}}) +
                            fe::Query("SELECT 'together'") + fe::Terminate();
  std::string want = RunUntilClosed(Env().server_port(), bytes);
  EXPECT_NE(want.find("together"), std::string::npos) << want;
  EXPECT_EQ(RunUntilClosed(Env().proxy_port(), bytes), want);
}

TEST_F(StartupTest, QueryAndTerminateInOneWriteAfterLoginLikeDirect) {
  auto run = [](int port) {
    auto client = RawClient::Connect(port);
    if (!client.ok()) return std::string("connect failed");
    if (!(*client)->StartupTrust(kTrustUser, kDatabase).ok()) return std::string("no login");
    if (!(*client)->Send(fe::Query("SELECT 'last words'") + fe::Terminate()).ok()) {
      return std::string("send failed");
    }
    std::vector<BackendMessage> got;
    if (!(*client)->WaitForClose(seconds(10), &got)) return "not closed: " + Dump(got);
    return Dump(got);
  };
  std::string want = run(Env().server_port());
  EXPECT_NE(want.find("last words"), std::string::npos) << want;
  EXPECT_EQ(run(Env().proxy_port()), want);
}

TEST_F(StartupTest, SslRequestAnsweredNThenPlainStartup) {
  auto client = Open();
  IT_ASSERT_OK(client);
  IT_ASSERT_OK((*client)->Send(fe::SslRequest()));
  auto answer = (*client)->ReadByte(seconds(5));
  IT_ASSERT_OK(answer);
  EXPECT_EQ(*answer, 'N');
  IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase));
  ExpectQueryWorks(**client);
}

TEST_F(StartupTest, GssEncRequestThenSslRequestBothAnsweredN) {
  // libpq's order when it holds Kerberos credentials: GSSENC first, then SSL.
  // (A server built with GSSAPI answers 'G'; pgveil offers no GSS encryption.)
  if (Env().direct_mode()) GTEST_SKIP() << "the server itself answers 'G'";
  auto client = Open();
  IT_ASSERT_OK(client);
  IT_ASSERT_OK((*client)->Send(fe::GssEncRequest()));
  auto gss = (*client)->ReadByte(seconds(5));
  IT_ASSERT_OK(gss);
  EXPECT_EQ(*gss, 'N');
  IT_ASSERT_OK((*client)->Send(fe::SslRequest()));
  auto ssl = (*client)->ReadByte(seconds(5));
  IT_ASSERT_OK(ssl);
  EXPECT_EQ(*ssl, 'N');
  IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase));
  ExpectQueryWorks(**client);
}

TEST_F(StartupTest, LibpqWithSslAndGssPreferredConnects) {
  auto conn = Connect(Env().ProxyConnInfo(kScramUser, "sslmode=prefer gssencmode=prefer"));
  IT_ASSERT_OK(conn);
  EXPECT_EQ(PQsslInUse(conn->get()), 0);
  auto disabled = Connect(Env().ProxyConnInfo(kMd5User, "sslmode=disable gssencmode=disable"));
  IT_ASSERT_OK(disabled);
  std::string direct = ConnectError(Env().DirectConnInfo(kTrustUser, "sslmode=require"));
  std::string proxied = ConnectError(Env().ProxyConnInfo(kTrustUser, "sslmode=require"));
  EXPECT_NE(direct, "");
  EXPECT_EQ(WithoutPort(proxied), WithoutPort(direct));
}

TEST_F(StartupTest, BytesAfterSslRequestBeforeAnswerAreRejected) {
  // CVE-2021-3935 class: plaintext sent before the 'N' could be injected by a
  // man in the middle; the session must not go ahead.
  auto client = Open();
  IT_ASSERT_OK(client);
  IT_ASSERT_OK(
      (*client)->Send(fe::SslRequest() + fe::Startup({{"user", kTrustUser},
                                                      {"database", kDatabase},
                                                      {"application_name", "ssl-injection"}})));
  // The server answers 'N' and then refuses; refusing at once ('E') is as good.
  auto first = (*client)->ReadByte(seconds(5));
  if (first.ok()) {
    EXPECT_TRUE(*first == 'N' || *first == 'E') << "answer byte " << *first;
  }
  ExpectClosedWithoutLogin(**client);
  EXPECT_EQ(CountBackends("ssl-injection"), 0);
  ExpectOthersUnaffected();
}

TEST_F(StartupTest, Protocol32WithPqOptionsGetsNegotiateProtocolVersionOnce) {
  auto run = [](int port, std::vector<BackendMessage>* out) {
    auto client = RawClient::Connect(port);
    if (!client.ok()) return client.status();
    auto got = (*client)->StartupTrust(
        kTrustUser, kDatabase, {{"_pq_.pgveil_test_option", "on"}, {"application_name", "proto32"}},
        fe::kProtocol32);
    if (!got.ok()) return got.status();
    *out = *got;
    if (Status st = (*client)->Send(fe::Query("SELECT 32")); !st.ok()) return st;
    auto q = (*client)->ReadUntil('Z', seconds(10));
    if (!q.ok()) return q.status();
    out->insert(out->end(), q->begin(), q->end());
    return Status::Ok();
  };
  std::vector<BackendMessage> direct, proxied;
  IT_ASSERT_OK(run(Env().server_port(), &direct));
  IT_ASSERT_OK(run(Env().proxy_port(), &proxied));
  // The server (3.0 only) answers with NegotiateProtocolVersion, exactly once.
  ASSERT_FALSE(direct.empty());
  EXPECT_EQ(direct[0].type, 'v');
  std::string types = be::Types(proxied);
  EXPECT_EQ(std::count(types.begin(), types.end(), 'v'), 1) << types;
  EXPECT_EQ(types, be::Types(direct));
  ASSERT_EQ(proxied[0].type, 'v');
  EXPECT_EQ(Dump({proxied[0]}), Dump({direct[0]}));
  EXPECT_EQ(be::Int32At(proxied[0].body, 0), fe::kProtocol30);  // newest version supported
  EXPECT_EQ(be::Int32At(proxied[0].body, 4), 1u);               // one unrecognized option
  EXPECT_EQ(be::DataRowValues(proxied[proxied.size() - 3].body), std::vector<std::string>{"32"});
}

TEST_F(StartupTest, UnsupportedMajorVersionFailsCleanly) {
  // The server's own FATAL, or an equivalent one from pgveil: same severity and
  // SQLSTATE, a message naming the version, then the connection closes.
  for (int port : {Env().server_port(), Env().proxy_port()}) {
    auto client = RawClient::Connect(port);
    IT_ASSERT_OK(client);
    IT_ASSERT_OK((*client)->Send(fe::Startup({{"user", kTrustUser}}, 0x00040000)));
    std::vector<BackendMessage> got;
    EXPECT_TRUE((*client)->WaitForClose(seconds(5), &got));
    ASSERT_EQ(be::Types(got), "E") << "port " << port;
    auto fields = be::Fields(got[0].body);
    EXPECT_EQ(fields['S'], "FATAL");
    EXPECT_EQ(fields['C'], "0A000");
    EXPECT_NE(fields['M'].find("unsupported frontend protocol 4.0"), std::string::npos)
        << fields['M'];
  }
  ExpectOthersUnaffected();
}

struct Hostile {
  const char* name;
  bool after_login;   // sent once the session is ready, or as the very first bytes
  std::string bytes;  // sent in one write
};

class HostileInputTest : public StartupTest, public ::testing::WithParamInterface<Hostile> {};

TEST_P(HostileInputTest, ClosesThatSessionOnly) {
  const Hostile& h = GetParam();
  const std::string app = std::string("hostile-") + h.name;
  auto client = Open();
  IT_ASSERT_OK(client);
  if (h.after_login) {
    IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase, {{"application_name", app}}));
    EXPECT_EQ(CountBackends(app), 1);
    IT_ASSERT_OK((*client)->Send(h.bytes));
    std::vector<BackendMessage> got;
    EXPECT_TRUE((*client)->WaitForClose(seconds(5), &got))
        << "session still open after " << be::Types(got);
    for (const BackendMessage& m : got) EXPECT_NE(m.type, 'Z') << "the frame was accepted";
  } else {
    IT_ASSERT_OK((*client)->Send(h.bytes));
    ExpectClosedWithoutLogin(**client);
  }
  EXPECT_TRUE(PollUntil([&] { return CountBackends(app) == 0; }, seconds(5)))
      << "the upstream session of the closed client is still there";
  ExpectOthersUnaffected();
}

INSTANTIATE_TEST_SUITE_P(
    Frames, HostileInputTest,
    ::testing::Values(Hostile{"startup_len_2", false, Int32(2)},
                      Hostile{"startup_len_0", false, Int32(0) + Int32(196608)},
                      Hostile{"startup_oversize", false, Int32(100000) + Int32(196608)},
                      Hostile{"startup_negative", false, Int32(0xFFFFFFF0) + Int32(196608)},
                      Hostile{"startup_junk_version", false, Int32(8) + Int32(0x12345678)},
                      Hostile{"startup_http", false, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
                      Hostile{"startup_unterminated", false,
                              Int32(24) + Int32(196608) + std::string("user\0it_trust\0xx", 16)},
                      Hostile{"query_len_3", true, std::string("Q") + Int32(3) + "SELECT 1"},
                      Hostile{"query_len_0", true, std::string("Q") + Int32(0)},
                      Hostile{"query_len_huge", true,
                              std::string("Q") + Int32(0x7FFFFFF0) + "SELECT"},
                      Hostile{"query_len_negative", true, std::string("Q") + Int32(0xFFFFFFFF)},
                      Hostile{"unknown_type", true, fe::Frame('?', "junk")}),
    [](const auto& info) { return std::string(info.param.name); });

// A frame over pgveil's --max_message_bytes (but far below the server's own limit)
// is refused by pgveil without waiting for its body.
TEST_F(StartupTest, FrameOverConfiguredLimitClosesSession) {
  if (Env().direct_mode()) GTEST_SKIP() << "pgveil's own limit";
  auto client = Open();
  IT_ASSERT_OK(client);
  IT_ASSERT_OK(
      (*client)->StartupTrust(kTrustUser, kDatabase, {{"application_name", "over-limit"}}));
  IT_ASSERT_OK((*client)->Send(std::string("Q") + Int32(kMaxMessage + 5) + "SELECT"));
  std::vector<BackendMessage> got;
  EXPECT_TRUE((*client)->WaitForClose(seconds(5), &got));
  EXPECT_TRUE(PollUntil([] { return CountBackends("over-limit") == 0; }, seconds(5)));
  ExpectOthersUnaffected();
}

TEST_F(StartupTest, FrameJustUnderConfiguredLimitWorks) {
  auto client = Open();
  IT_ASSERT_OK(client);
  IT_ASSERT_OK((*client)->StartupTrust(kTrustUser, kDatabase));
  // 'Q' body = text + NUL; the length word counts itself: 4 + body == kMaxMessage - 4.
  std::string literal(kMaxMessage - 64, 'a');
  std::string sql = "SELECT length('" + literal + "')";
  IT_ASSERT_OK((*client)->Send(fe::Query(sql)));
  auto got = (*client)->ReadUntil('Z', seconds(10));
  IT_ASSERT_OK(got);
  ASSERT_EQ(be::Types(*got), "TDCZ");
  EXPECT_EQ(be::DataRowValues((*got)[1].body)[0], std::to_string(literal.size()));
}

}  // namespace
}  // namespace pgveil::it
