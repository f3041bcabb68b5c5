// MaskedStream without sockets: client and server messages as byte literals, checking
// what goes to the server (injected Describes, refusals) and what reaches the client.
#include "proxy/masked_stream.h"

#include <gtest/gtest.h>

#include "pgveil/guard/analyzer.h"
#include "pgveil/mask/transforms.h"
#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"
#include "wire/wire_test_util.h"

namespace pgveil::proxy {
namespace {

using wire::testing::I16;
using wire::testing::I32;
using wire::testing::Msg;
using wire::testing::Z;

constexpr uint32_t kMembers = 16400;
constexpr uint32_t kText = 25;
constexpr uint32_t kInt4 = 23;

// A snapshot of one relation, crm.members, with these columns.
std::shared_ptr<const catalog::Snapshot> Members(std::vector<catalog::Column> columns) {
  catalog::Relation members;
  members.oid = kMembers;
  members.schema = "crm";
  members.name = "members";
  members.columns = std::move(columns);
  return std::make_shared<catalog::Snapshot>(std::vector<catalog::Relation>{members}, 1);
}

std::shared_ptr<const policy::Policy> TestPolicy() {
  auto snap = Members({{"id", 1, kInt4, kInt4, -1, "integer"},
                       {"phone", 2, kText, kText, -1, "text"},
                       {"secret", 3, kText, kText, -1, "text"}});
  mask::PartialOptions po;
  po.keep_last = 4;
  auto partial = mask::MakePartial(po);
  EXPECT_TRUE(partial.ok());
  mask::TransformPtr t = *partial;
  return policy::Policy::Masked("sales", snap, [t](const auto&, const catalog::Column& c) {
    if (c.name == "id") return policy::ColumnMask{policy::Action::kPass, nullptr};
    if (c.name == "phone") return policy::ColumnMask{policy::Action::kTransform, t};
    return policy::ColumnMask{policy::Action::kNull, nullptr};
  });
}

std::string Field(const std::string& name, uint32_t table, int16_t attnum, uint32_t type,
                  int16_t format = 0) {
  return Z(name) + I32(table) + I16(static_cast<uint16_t>(attnum)) + I32(type) + I16(0xFFFF) +
         I32(0xFFFFFFFFu) + I16(static_cast<uint16_t>(format));
}
std::string RowDesc(std::initializer_list<std::string> fields) {
  std::string b = I16(static_cast<uint16_t>(fields.size()));
  for (const auto& f : fields) b += f;
  return b;
}
std::string DataRow(std::initializer_list<const char*> values) {
  std::string b = I16(static_cast<uint16_t>(values.size()));
  for (const char* v : values) {
    if (v == nullptr) {
      b += I32(0xFFFFFFFFu);
    } else {
      b += I32(static_cast<uint32_t>(strlen(v))) + v;
    }
  }
  return b;
}

// Splits a byte stream into (type, body) pairs.
std::vector<std::pair<char, std::string>> Split(const std::string& bytes) {
  std::vector<std::pair<char, std::string>> out;
  size_t i = 0;
  while (i + 5 <= bytes.size()) {
    uint32_t len = wire::ReadU32(bytes.data() + i + 1);
    out.emplace_back(bytes[i], bytes.substr(i + 5, len - 4));
    i += 1 + len;
  }
  EXPECT_EQ(i, bytes.size());
  return out;
}

// A MaskedStream under `policy`, fed messages as byte literals.
class StreamTest : public ::testing::Test {
 protected:
  explicit StreamTest(std::shared_ptr<const policy::Policy> policy)
      : stream_(std::move(policy), nullptr) {}
  MaskedStream stream_;

  std::string Client(char type, const std::string& body) {
    std::string out;
    EXPECT_TRUE(stream_.OnClient(type, body, &out).ok());
    return out;
  }
  std::string Server(char type, const std::string& body) {
    std::string out;
    Status st = stream_.OnServer(type, body, &out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
};

class MaskedStreamTest : public StreamTest {
 protected:
  MaskedStreamTest() : StreamTest(TestPolicy()) {}
};

TEST_F(MaskedStreamTest, SimpleQueryRowsMaskedByTheirRowDescription) {
  Client('Q', Z("select id, phone, secret from crm.members"));
  std::string t =
      Server('T', RowDesc({Field("id", kMembers, 1, kInt4), Field("phone", kMembers, 2, kText),
                           Field("secret", kMembers, 3, kText)}));
  auto t_msgs = Split(t);  // parsed views point into these bodies
  auto desc = wire::ParseRowDescription(t_msgs[0].second);
  ASSERT_TRUE(desc.ok());
  EXPECT_EQ(desc->fields[1].type_oid, kText);
  auto d_msgs = Split(Server('D', DataRow({"7", "13812345678", "top secret"})));
  auto row = wire::ParseDataRow(d_msgs[0].second);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->columns[0].value(), "7");
  EXPECT_EQ(row->columns[1].value(), "*******5678");
  EXPECT_FALSE(row->columns[2].has_value());
  Server('C', Z("SELECT 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, GuardRefusalNeverReachesTheServer) {
  std::string to_server = Client('Q', Z("select phone || '' from crm.members"));
  EXPECT_EQ(to_server.find("phone"), std::string::npos);
  EXPECT_NE(to_server.find("pgveil refused this statement"), std::string::npos);
  // The server's error for the failing stand-in is replaced by the guard's reason.
  auto msgs = Split(Server('E', "SERROR" + std::string(1, '\0') + "C42601" + std::string(1, '\0') +
                                    "Msyntax error" + std::string(2, '\0')));
  ASSERT_EQ(msgs.size(), 1u);
  auto fields = wire::ParseNoticeFields(msgs[0].second);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->Get('C'), "42501");
  EXPECT_NE(fields->Get('M').find("crm.members.phone"), std::string::npos);
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, ExpressionOfUnprotectedColumnsPasses) {
  Client('Q', Z("select upper(id::text) from crm.members"));
  Server('T', RowDesc({Field("upper", 0, 0, kText)}));
  auto d_msgs = Split(Server('D', DataRow({"7"})));
  auto row = wire::ParseDataRow(d_msgs[0].second);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->columns[0].value(), "7");
}

TEST_F(MaskedStreamTest, RowsWithoutLineageFallBackToProvenance) {
  // A cursor pgveil never saw declared: no lineage; an unknown relation is NULL.
  Client('Q', Z("fetch 1 from c"));
  Server('T', RowDesc({Field("x", 99999, 1, kText)}));
  auto d_msgs = Split(Server('D', DataRow({"13812345678"})));
  auto row = wire::ParseDataRow(d_msgs[0].second);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->columns[0].has_value());
}

TEST_F(MaskedStreamTest, LineageThatContradictsProvenanceEndsTheSession) {
  Client('Q', Z("select id from crm.members"));
  std::string out;
  Status st = stream_.OnServer('T', RowDesc({Field("id", kMembers, 2, kText)}), &out);
  EXPECT_FALSE(st.ok());
}

TEST_F(MaskedStreamTest, ExecuteWithoutDescribeGetsAnInjectedDescribe) {
  Client('P', Z("s1") + Z("select phone from crm.members") + I16(0));
  Client('B', Z("") + Z("s1") + I16(0) + I16(0) + I16(1) + I16(1));
  std::string to_server = Client('E', Z("") + I32(0));
  auto msgs = Split(to_server);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].first, 'D');  // pgveil's Describe of the portal
  EXPECT_EQ(msgs[0].second, "P" + Z(""));
  EXPECT_EQ(msgs[1].first, 'E');
  Client('S', "");

  EXPECT_EQ(Server('1', "").size(), 5u);
  EXPECT_EQ(Server('2', "").size(), 5u);
  // The reply to the injected Describe is consumed, not forwarded; it carries the binary
  // format the Bind asked for.
  EXPECT_TRUE(Server('T', RowDesc({Field("phone", kMembers, 2, kText, 1)})).empty());
  auto d_msgs = Split(Server('D', DataRow({"13812345678"})));
  auto row = wire::ParseDataRow(d_msgs[0].second);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->columns[0].value(), "*******5678");
  Server('C', Z("SELECT 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, PortalsEndWithTheirTransactionOrClose) {
  // A client that names every cursor anew must not grow the session's portal table.
  for (int i = 0; i < 3; ++i) {
    std::string c = "c" + std::to_string(i);
    Client('Q', Z("begin; declare " + c + " cursor for select phone from crm.members"));
    Server('C', Z("BEGIN"));
    Server('C', Z("DECLARE CURSOR"));
    Server('Z', "T");
    EXPECT_EQ(stream_.portals(), 1u);
    Client('Q', Z("commit"));
    Server('C', Z("COMMIT"));
    Server('Z', "I");
    EXPECT_EQ(stream_.portals(), 0u);
  }
  // Protocol portals end with the implicit transaction of their Sync.
  Client('P', Z("s1") + Z("select phone from crm.members") + I16(0));
  Client('B', Z("p1") + Z("s1") + I16(0) + I16(0) + I16(0));
  Client('S', "");
  Server('1', "");
  Server('2', "");
  EXPECT_EQ(stream_.portals(), 1u);
  Server('Z', "I");
  EXPECT_EQ(stream_.portals(), 0u);
  // WITH HOLD cursors stay until CLOSE.
  Client('Q', Z("declare h cursor with hold for select phone from crm.members"));
  Server('C', Z("DECLARE CURSOR"));
  Server('Z', "I");
  EXPECT_EQ(stream_.portals(), 1u);
  Client('Q', Z("close h"));
  Server('C', Z("CLOSE CURSOR"));
  Server('Z', "I");
  EXPECT_EQ(stream_.portals(), 0u);
  Client('Q', Z("declare h1 cursor with hold for select phone from crm.members; "
                "declare h2 cursor with hold for select id from crm.members"));
  Server('C', Z("DECLARE CURSOR"));
  Server('C', Z("DECLARE CURSOR"));
  Server('Z', "I");
  EXPECT_EQ(stream_.portals(), 2u);
  Client('Q', Z("close all"));
  Server('C', Z("CLOSE CURSOR ALL"));
  Server('Z', "I");
  EXPECT_EQ(stream_.portals(), 0u);
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, BindAfterAnUnansweredUnnamedParseAcrossASyncIsRefused) {
  Client('P', Z("") + Z("select id from crm.members") + I16(0));
  Client('S', "");
  Server('1', "");
  Server('Z', "I");
  // Pipelined: if the Execute fails, the server skips the Parse, and the Bind after the
  // Sync would run the earlier unnamed statement with what pgveil made for this one.
  Client('E', Z("nope") + I32(0));
  Client('P', Z("") + Z("select phone from crm.members") + I16(0));
  Client('S', "");
  std::string to_server = Client('B', Z("") + Z("") + I16(0) + I16(0) + I16(0));
  auto msgs = Split(to_server);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].first, 'B');
  EXPECT_NE(msgs[0].second.substr(0, 2), Z("") + Z(""));  // not a Bind of the unnamed statement
  // In the same Sync group as its Parse, a Bind is certain: a skipped Parse skips it too.
  Client('P', Z("") + Z("select phone from crm.members") + I16(0));
  to_server = Client('B', Z("") + Z("") + I16(0) + I16(0) + I16(0));
  EXPECT_EQ(to_server, Msg('B', Z("") + Z("") + I16(0) + I16(0) + I16(0)));
}

TEST_F(MaskedStreamTest, RowWithoutPlanEndsTheSession) {
  std::string out;
  Status st = stream_.OnServer('D', DataRow({"13812345678"}), &out);
  EXPECT_FALSE(st.ok());
  auto msgs = Split(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].first, 'E');
  EXPECT_EQ(out.find("13812345678"), std::string::npos);
}

TEST_F(MaskedStreamTest, ErrorInPipelineSkipsToSync) {
  Client('P', Z("") + Z("select phone from crm.members") + I16(0));
  Client('B', Z("") + Z("") + I16(0) + I16(0) + I16(0));
  Client('E', Z("") + I32(0));
  Client('S', "");
  Server('1', "");
  std::string e = Server('E', "SERROR" + std::string(1, '\0') + "C22P02" + std::string(1, '\0') +
                                  "Minvalid input syntax for type integer: \"13812345678\"" +
                                  std::string(1, '\0') + std::string(1, '\0'));
  EXPECT_EQ(e.find("13812345678"), std::string::npos);
  EXPECT_NE(e.find("22P02"), std::string::npos);
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

std::string Error(const std::string& sqlstate) {
  const std::string z(1, '\0');
  return "SERROR" + z + "C" + sqlstate + z + "Mfailed" + z + "Rroutine" + z + z;
}

TEST_F(MaskedStreamTest, QueryAndFunctionCallAfterAnExtendedErrorAreSkippedUntilSync) {
  // PostgreSQL skips every message up to Sync after an extended-protocol error, simple
  // queries and function calls included: the ReadyForQuery that follows is the Sync's.
  Client('D', "S" + Z("nope"));
  Client('Q', Z("select id from crm.members"));
  Client('F', I32(1234) + I16(0) + I16(0) + I16(0));
  Client('S', "");
  Server('E', Error("26000"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
  // In step again: the next query's rows are masked by its own RowDescription.
  Client('Q', Z("select phone from crm.members"));
  Server('T', RowDesc({Field("phone", kMembers, 2, kText)}));
  auto msgs = Split(Server('D', DataRow({"13812345678"})));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].second, DataRow({"*******5678"}));
  Server('C', Z("SELECT 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, MessagesSentAfterTheErrorArrivedAreSkippedUntilSync) {
  // The error came before the client sent the rest of its pipeline: the server skips
  // that too.
  Client('D', "S" + Z("nope"));
  Server('E', Error("26000"));
  Client('Q', Z("select id from crm.members"));
  Client('P', Z("") + Z("select id from crm.members") + I16(0));
  Client('S', "");
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
  Client('Q', Z("select phone from crm.members"));
  Server('T', RowDesc({Field("phone", kMembers, 2, kText)}));
  auto msgs = Split(Server('D', DataRow({"13812345678"})));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].second, DataRow({"*******5678"}));
  Server('C', Z("SELECT 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, MalformedDescribeAndCloseGetAnErrorNotTheEndOfTheSession) {
  // PostgreSQL answers an unknown Describe or Close kind with an ERROR and skips to Sync.
  for (char type : {'D', 'C'}) {
    auto msgs = Split(Client(type, "X" + Z("p")));
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].first, 'B');  // the stand-in that fails at the server
    Client('S', "");
    auto e = Split(Server('E', Error("26000")));  // the parsed fields point into it
    ASSERT_EQ(e.size(), 1u);
    auto fields = wire::ParseNoticeFields(e[0].second);
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ(fields->Get('C'), "08P01");
    Server('Z', "I");
    EXPECT_EQ(stream_.pending(), 0u);
  }
}

TEST_F(MaskedStreamTest, CopyQueryToIsMaskedByLineage) {
  Client('Q', Z("copy (select id, phone from crm.members m where m.id > 0) to stdout"));
  Server('H', std::string(1, '\0') + I16(2) + I16(0) + I16(0));
  auto msgs = Split(Server('d', "7\t13812345678\n"));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].second, "7\t*******5678\n");
  Server('c', "");
  Server('C', Z("COPY 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, CopyOfAComputedProtectedValueNeverReachesTheServer) {
  std::string to_server = Client('Q', Z("copy (select phone || '' from crm.members) to stdout"));
  auto msgs = Split(to_server);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].first, 'Q');
  EXPECT_EQ(msgs[0].second.find("phone"), std::string::npos);
  std::string e = Server('E', "SERROR" + std::string(1, '\0') + "C42601" + std::string(1, '\0') +
                                  "Msyntax error" + std::string(1, '\0') + std::string(1, '\0'));
  auto e_msgs = Split(e);  // the parsed fields point into these bodies
  auto fields = wire::ParseNoticeFields(e_msgs[0].second);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->Get('C'), "42501");
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, CopyTableToStdoutIsMasked) {
  Client('Q', Z("copy crm.members (id, phone, secret) to stdout"));
  Server('H', std::string(1, '\0') + I16(3) + I16(0) + I16(0) + I16(0));
  std::string d = Server('d', "7\t13812345678\ttop secret\n");
  auto msgs = Split(d);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].second, "7\t*******5678\t\\N\n");
  Server('c', "");
  Server('C', Z("COPY 1"));
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, ReadyForQueryThatAnswersNoRequestEndsTheSession) {
  // Two queries sent; a ReadyForQuery before any answer to the first cannot be placed:
  // the rows after it would be masked with the wrong statement's lineage.
  Client('Q', Z("select phone from crm.members"));
  Client('Q', Z("select id from crm.members"));
  std::string out;
  EXPECT_FALSE(stream_.OnServer('Z', "I", &out).ok());
  auto msgs = Split(out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].first, 'E');
}

TEST_F(MaskedStreamTest, ReadyForQueryWhileAParseIsUnansweredEndsTheSession) {
  Client('P', Z("") + Z("select id from crm.members") + I16(0));
  Client('S', "");
  std::string out;
  EXPECT_FALSE(stream_.OnServer('Z', "I", &out).ok());
}

TEST_F(MaskedStreamTest, SyncBetweenCopyDataIsNotPassedOn) {
  std::string to_server = Client('Q', Z("copy crm.members (id) from stdin"));
  ASSERT_EQ(to_server.find("pgveil refused"), std::string::npos) << to_server;
  EXPECT_EQ(Split(Client('S', "")).size(), 1u);  // before any data: read by the COPY
  Server('G', std::string(1, '\0') + I16(1) + I16(0));
  EXPECT_EQ(Split(Client('d', "1\n")).size(), 1u);
  EXPECT_EQ(Client('S', ""), "");  // between data: the server may or may not answer it
  EXPECT_EQ(Client('H', ""), std::string("H") + I32(4));
  EXPECT_EQ(Split(Client('d', "2\n")).size(), 1u);
  EXPECT_EQ(Split(Client('c', "")).size(), 1u);
  EXPECT_EQ(Split(Client('S', "")).size(), 1u);  // after the CopyDone: answered
  Server('C', Z("COPY 2"));
  Server('Z', "I");
  Server('Z', "I");
  EXPECT_EQ(stream_.pending(), 0u);
}

TEST_F(MaskedStreamTest, FunctionCallIsRefused) {
  std::string to_server = Client('F', I32(1234) + I16(0) + I16(0) + I16(0));
  auto msgs = Split(to_server);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].first, 'Q');
}

}  // namespace
}  // namespace pgveil::proxy

namespace pgveil::proxy {
namespace {

constexpr uint32_t kDate = 1082;

// crm.members with an age-banded birth date; the bands are those of 2025-12-01.
std::shared_ptr<const policy::Policy> DatedPolicy() {
  auto snap =
      Members({{"id", 1, kInt4, kInt4, -1, "integer"}, {"birth", 2, kDate, kDate, -1, "date"}});
  mask::AgeBandOptions ao;
  ao.today = [] { return int32_t{9466}; };  // 2025-12-01
  auto band = mask::MakeAgeBand(ao);
  EXPECT_TRUE(band.ok());
  mask::TransformPtr t = *band;
  return policy::Policy::Masked("sales", snap, [t](const auto&, const catalog::Column& c) {
    if (c.name == "birth") {
      return policy::ColumnMask{policy::Action::kTransform, t, policy::FilterUse::kAligned};
    }
    return policy::ColumnMask{policy::Action::kPass, nullptr};
  });
}

class DatedStreamTest : public StreamTest {
 protected:
  DatedStreamTest() : StreamTest(DatedPolicy()) {}
  void TearDown() override { guard::ShiftUtcDayForTesting(0); }
  // What went to the server is pgveil's failing statement in place of the client's.
  static bool Refused(const std::string& to_server) {
    return to_server.find("pgveil refused this statement") != std::string::npos &&
           to_server.find("1995") == std::string::npos;
  }
  // The error the client gets for a refusal, once the server has failed the stand-in.
  std::string Refusal() { return Server('E', Error("42601")); }
};

constexpr const char* kOnBoundary = "select id from crm.members where birth <= '1995-12-01'";

// A statement whose birth-date literal was on an age band's boundary is checked for that
// day only: a cursor, portal or prepared statement that outlives the day is refused.
TEST_F(DatedStreamTest, CursorDeclaredOnAnEarlierDayIsRefused) {
  std::string out = Client('Q', Z(std::string("declare c cursor with hold for ") + kOnBoundary));
  ASSERT_NE(out.find("declare c"), std::string::npos) << "refused";
  Server('C', Z("DECLARE CURSOR"));
  Server('Z', "I");
  out = Client('Q', Z("fetch 10 from c"));
  EXPECT_FALSE(Refused(out));
  Server('T', RowDesc({Field("id", kMembers, 1, kInt4)}));
  Server('C', Z("FETCH 0"));
  Server('Z', "I");
  guard::ShiftUtcDayForTesting(1);
  EXPECT_TRUE(Refused(Client('Q', Z("fetch 10 from c"))));
  std::string error = Refusal();
  EXPECT_NE(error.find("0A000"), std::string::npos);
  EXPECT_NE(error.find("cursor \"c\" was checked against the age bands of an earlier day"),
            std::string::npos);
  Server('Z', "I");
  EXPECT_TRUE(Refused(Client('Q', Z("move forward all in c"))));
  Refusal();
  Server('Z', "I");
  // A cursor without such a literal is not affected.
  guard::ShiftUtcDayForTesting(0);
  Client('Q', Z("declare d cursor with hold for select id from crm.members"));
  Server('C', Z("DECLARE CURSOR"));
  Server('Z', "I");
  guard::ShiftUtcDayForTesting(1);
  EXPECT_FALSE(Refused(Client('Q', Z("fetch 10 from d"))));
}

TEST_F(DatedStreamTest, PortalAndPreparedStatementsOfAnEarlierDayAreRefused) {
  Client('P', Z("s") + Z(kOnBoundary) + I16(0));
  Client('B', Z("p") + Z("s") + I16(0) + I16(0) + I16(0));
  Client('H', "");
  Server('1', "");
  Server('2', "");
  Client('Q', Z(std::string("prepare q as ") + kOnBoundary));
  Server('C', Z("PREPARE"));
  Server('Z', "T");
  guard::ShiftUtcDayForTesting(1);
  EXPECT_TRUE(Refused(Client('E', Z("p") + I32(5))));
  EXPECT_TRUE(Refused(Client('B', Z("p2") + Z("s") + I16(0) + I16(0) + I16(0))));
  EXPECT_TRUE(Refused(Client('Q', Z("execute q"))));
}

TEST_F(DatedStreamTest, PortalBoundWithABirthDateParameterOnAnEarlierDayIsRefused) {
  // The parameter is on a boundary of the day it is bound on; a day later the portal's
  // rows would split a band by one day.
  const std::string value = "1995-12-01";
  Client('P', Z("s") + Z("select id from crm.members where birth <= $1") + I16(0));
  std::string out =
      Client('B', Z("p") + Z("s") + I16(0) + I16(1) + I32(value.size()) + value + I16(0));
  ASSERT_FALSE(Refused(out));
  Client('H', "");
  Server('1', "");
  Server('2', "");
  EXPECT_FALSE(Refused(Client('E', Z("p") + I32(5))));
  guard::ShiftUtcDayForTesting(1);
  EXPECT_TRUE(Refused(Client('E', Z("p") + I32(5))));
}

TEST_F(DatedStreamTest, ExecuteOfAPortalBoundAgainIsServed) {
  // The unnamed portal of yesterday, bound again today in the same pipeline.
  Client('P', Z("") + Z(kOnBoundary) + I16(0));
  Client('B', Z("") + Z("") + I16(0) + I16(0) + I16(0));
  Client('S', "");
  Server('1', "");
  Server('2', "");
  Server('Z', "T");
  guard::ShiftUtcDayForTesting(1);
  Client('P', Z("") + Z("select id from crm.members") + I16(0));
  Client('B', Z("") + Z("") + I16(0) + I16(0) + I16(0));
  std::string out = Client('E', Z("") + I32(0));
  EXPECT_FALSE(Refused(out));
  EXPECT_EQ(out.substr(0, 1), "D");  // pgveil's own Describe of the portal
}

}  // namespace
}  // namespace pgveil::proxy
