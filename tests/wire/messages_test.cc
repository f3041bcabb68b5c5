#include "pgveil/wire/messages.h"

#include <gtest/gtest.h>

#include <functional>

#include "pgveil/wire/writer.h"
#include "wire/wire_test_util.h"

namespace pgveil::wire {
namespace {

using testing::I16;
using testing::I32;
using testing::Z;

template <typename F>
std::function<Status(std::string_view)> StatusOf(F parse) {
  return [parse](std::string_view b) { return parse(b).status(); };
}

struct Case {
  const char* name;
  std::string body;
  std::function<Status(std::string_view)> parse;
  bool open_ended = false;  // the last field takes the rest: longer/shorter bodies may parse
};

std::vector<Case> AllMessages() {
  std::string row_desc_field =
      Z("member_id") + I32(16384) + I16(1) + I32(20) + I16(8) + I32(0xFFFFFFFFu) + I16(1);
  return {
      {"StartupMessage", I32(196608) + Z("user") + Z("u") + Z("database") + Z("d") + Z(""),
       StatusOf(ParseStartupMessage)},
      {"CancelRequest", I32(kCancelRequestCode) + I32(42) + I32(7), StatusOf(ParseCancelRequest),
       true},
      {"Authentication", I32(5) + "salt", StatusOf(ParseAuthentication), true},
      {"BackendKeyData", I32(42) + I32(0x01020304), StatusOf(ParseBackendKeyData), true},
      {"ParameterStatus", Z("client_encoding") + Z("UTF8"), StatusOf(ParseParameterStatus)},
      {"ReadyForQuery", "I", StatusOf(ParseReadyForQuery)},
      {"NegotiateProtocolVersion", I32(0) + I32(1) + Z("_pq_.x"),
       StatusOf(ParseNegotiateProtocolVersion)},
      {"ErrorResponse",
       "SERROR" + std::string(1, '\0') + "C42501" + std::string(1, '\0') + "Mdenied" +
           std::string(1, '\0') + std::string(1, '\0'),
       StatusOf(ParseNoticeFields)},
      {"RowDescription", I16(2) + row_desc_field + row_desc_field, StatusOf(ParseRowDescription)},
      {"DataRow", I16(3) + I32(2) + "ab" + I32(0xFFFFFFFFu) + I32(0), StatusOf(ParseDataRow)},
      {"CommandComplete", Z("SELECT 3"), StatusOf(ParseCommandComplete)},
      {"NotificationResponse", I32(42) + Z("chan") + Z("payload"),
       StatusOf(ParseNotificationResponse)},
      {"CopyOutResponse", std::string(1, '\0') + I16(2) + I16(0) + I16(0),
       StatusOf(ParseCopyResponse)},
      {"ParameterDescription", I16(2) + I32(23) + I32(25), StatusOf(ParseParameterDescription)},
      {"Query", Z("select 1"), StatusOf(ParseQuery)},
      {"Parse", Z("s1") + Z("select $1") + I16(1) + I32(23), StatusOf(ParseParse)},
      {"Bind",
       Z("p1") + Z("s1") + I16(1) + I16(1) + I16(2) + I32(4) + I32(7) + I32(0xFFFFFFFFu) + I16(1) +
           I16(1),
       StatusOf(ParseBind)},
      {"Describe", "S" + Z("s1"), StatusOf(ParseTarget)},
      {"Execute", Z("p1") + I32(100), StatusOf(ParseExecute)},
      {"FunctionCall", I32(964) + I16(1) + I16(1) + I16(1) + I32(4) + I32(5) + I16(1),
       StatusOf(ParseFunctionCall)},
      {"CopyFail", Z("aborted by user"), StatusOf(ParseCopyFail)},
  };
}

class MessageTest : public ::testing::TestWithParam<Case> {};

TEST_P(MessageTest, ValidBodyParses) {
  const Case& c = GetParam();
  Status st = c.parse(c.body);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_P(MessageTest, EveryTruncationFailsCleanly) {
  const Case& c = GetParam();
  for (size_t n = 0; n < c.body.size(); ++n) {
    // Copy into an exact-size buffer so that AddressSanitizer sees any overread.
    std::string prefix = c.body.substr(0, n);
    Status st = c.parse(prefix);
    if (!c.open_ended) {
      EXPECT_FALSE(st.ok()) << c.name << " accepted a " << n << "-byte prefix";
    }
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kProtocol);
    }
  }
}

TEST_P(MessageTest, TrailingGarbageRejected) {
  const Case& c = GetParam();
  if (c.open_ended) GTEST_SKIP() << "last field takes the rest of the body";
  EXPECT_FALSE(c.parse(c.body + "Z").ok());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MessageTest, ::testing::ValuesIn(AllMessages()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DataRow, MinusOneIsNullOtherNegativesAreErrors) {
  std::string body = I16(2) + I32(0xFFFFFFFFu) + I32(1) + "x";
  auto row = ParseDataRow(body);
  ASSERT_TRUE(row.ok());
  ASSERT_EQ(row->columns.size(), 2u);
  EXPECT_FALSE(row->columns[0].has_value());
  EXPECT_EQ(row->columns[1].value(), "x");
  EXPECT_FALSE(ParseDataRow(I16(1) + I32(0xFFFFFFFEu)).ok());
  EXPECT_FALSE(ParseDataRow(I16(1) + I32(0x80000000u)).ok());
  EXPECT_FALSE(ParseDataRow(I16(0xFFFF)).ok());
}

TEST(DataRow, ColumnLengthBeyondBodyIsAnError) {
  EXPECT_FALSE(ParseDataRow(I16(1) + I32(5) + "abcd").ok());
  EXPECT_FALSE(ParseDataRow(I16(2) + I32(1) + "a").ok());
}

TEST(Bind, NullParameterAndFormats) {
  std::string body = Z("") + Z("st") + I16(0) + I16(1) + I32(0xFFFFFFFFu) + I16(0);
  auto b = ParseBind(body);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->statement, "st");
  ASSERT_EQ(b->params.size(), 1u);
  EXPECT_FALSE(b->params[0].has_value());
  EXPECT_TRUE(b->result_formats.empty());
  EXPECT_FALSE(ParseBind(Z("") + Z("st") + I16(0) + I16(1) + I32(0xFFFFFFF0u) + I16(0)).ok());
}

TEST(RowDescription, Fields) {
  // Views point into the body: it must outlive the parsed message.
  std::string body =
      I16(1) + Z("phone") + I32(16390) + I16(6) + I32(25) + I16(0xFFFF) + I32(0xFFFFFFFFu) + I16(0);
  auto d = ParseRowDescription(body);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->fields.size(), 1u);
  const auto& f = d->fields[0];
  EXPECT_EQ(f.name, "phone");
  EXPECT_EQ(f.table_oid, 16390u);
  EXPECT_EQ(f.attnum, 6);
  EXPECT_EQ(f.type_oid, 25u);
  EXPECT_EQ(f.type_len, -1);
  EXPECT_EQ(f.type_mod, -1);
  EXPECT_EQ(f.format, 0);
}

TEST(RowDescription, AbsurdFieldCountRejectedWithoutAllocating) {
  EXPECT_FALSE(ParseRowDescription(I16(0x7FFF)).ok());
}

TEST(StartupMessage, Parameters) {
  std::string body = I32(0x00030002) + Z("user") + Z("sales_li") + Z("_pq_.test") + Z("1") + Z("");
  auto m = ParseStartupMessage(body);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->major, 3);
  EXPECT_EQ(m->minor, 2);
  EXPECT_EQ(m->Get("user"), "sales_li");
  EXPECT_EQ(m->Get("_pq_.test"), "1");
  EXPECT_EQ(m->Get("database"), "");
  // A name without a value.
  EXPECT_FALSE(ParseStartupMessage(I32(196608) + Z("user") + Z("")).ok() &&
               ParseStartupMessage(I32(196608) + Z("user")).ok());
}

TEST(CancelRequest, LongKeysOfProtocol32) {
  std::string key(32, 'k');
  std::string body = I32(kCancelRequestCode) + I32(7) + key;
  auto c = ParseCancelRequest(body);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pid, 7);
  EXPECT_EQ(c->key, key);
  EXPECT_FALSE(ParseCancelRequest(I32(kCancelRequestCode) + I32(7) + std::string(257, 'k')).ok());
  EXPECT_FALSE(ParseCancelRequest(I32(kCancelRequestCode) + I32(7) + "abc").ok());
}

TEST(ReadyForQuery, UnknownStatusRejected) {
  EXPECT_TRUE(ParseReadyForQuery("T").ok());
  EXPECT_TRUE(ParseReadyForQuery("E").ok());
  EXPECT_FALSE(ParseReadyForQuery("Q").ok());
}

TEST(Writer, ErrorResponseRoundTrip) {
  std::string out;
  AppendError(&out, {.severity = "FATAL", .sqlstate = "08P01", .message = "bad", .hint = "h"});
  ASSERT_EQ(out[0], 'E');
  EXPECT_EQ(ReadU32(out.data() + 1), out.size() - 1);
  auto fields = ParseNoticeFields(std::string_view(out).substr(5));
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->Get('S'), "FATAL");
  EXPECT_EQ(fields->Get('C'), "08P01");
  EXPECT_EQ(fields->Get('M'), "bad");
  EXPECT_EQ(fields->Get('H'), "h");
  EXPECT_EQ(fields->Get('D'), "");
}

TEST(Writer, CStringDropsEmbeddedNul) {
  std::string out;
  Writer w(&out);
  w.Begin('Q').CString(std::string_view("ab\0cd", 5)).End();
  auto q = ParseQuery(std::string_view(out).substr(5));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->sql, "ab");
}

}  // namespace
}  // namespace pgveil::wire
