// CopyInTranslator (proxy/copy_in.h) over the demo's rules and schema, without a server:
// rows of COPY ... FROM STDIN in text, CSV and binary, cut into pieces anywhere, with the
// pseudonyms of crm.contact_log.member_id turned back and every row written canonically.
#include "proxy/copy_in.h"

#include <gtest/gtest.h>

#include "guard/demo_policy.h"
#include "pgveil/guard/analyzer.h"

namespace pgveil::proxy {
namespace {

class CopyInTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    policy_ = new std::shared_ptr<const policy::Policy>(guard::testing::DemoPolicy("sales"));
    analyzer_ = new guard::Analyzer(*policy_);
  }

  static std::string Pseudonym(int64_t id) {
    const catalog::Relation* rel = (*policy_)->snapshot()->FindRelation("crm", "members");
    const auto& m = (*policy_)->ForColumn(rel->oid, 1);
    std::string out;
    bool is_null = false;
    EXPECT_TRUE(
        m.transform->Apply(20, mask::Format::kText, std::to_string(id), &out, &is_null).ok());
    return out;
  }

  static std::shared_ptr<const guard::Verdict> Copy(const std::string& sql) {
    auto v = analyzer_->Analyze(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
    EXPECT_EQ(v->copy_ins.size(), 1u) << sql;
    return v;
  }

  // The translation of `data` fed in pieces of `piece` bytes (0: all at once).
  static StatusOr<std::string> Translate(const std::string& sql, const std::string& data,
                                         size_t piece = 0) {
    auto v = Copy(sql);
    if (v->copy_ins.empty()) return Internal("no COPY");
    CopyInTranslator t(v, &v->copy_ins[0]);
    std::string out;
    if (piece == 0) piece = data.size() + 1;
    for (size_t i = 0; i < data.size(); i += piece) {
      if (Status st = t.Feed(std::string_view(data).substr(i, piece), &out); !st.ok()) return st;
    }
    if (Status st = t.Finish(&out); !st.ok()) return st;
    return out;
  }

  // Every way of cutting `data` gives `want`.
  static void ExpectEverywhere(const std::string& sql, const std::string& data,
                               const std::string& want) {
    for (size_t piece : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
      auto got = Translate(sql, data, piece);
      ASSERT_TRUE(got.ok()) << "pieces of " << piece << ": " << got.status().ToString();
      EXPECT_EQ(*got, want) << "pieces of " << piece;
    }
  }

  static std::shared_ptr<const policy::Policy>* policy_;
  static guard::Analyzer* analyzer_;
};

std::shared_ptr<const policy::Policy>* CopyInTest::policy_ = nullptr;
guard::Analyzer* CopyInTest::analyzer_ = nullptr;

constexpr char kText[] = "COPY crm.contact_log (staff_id, member_id, channel, note) FROM STDIN";

TEST_F(CopyInTest, TextRowsHaveTheirPseudonymsTurnedBack) {
  const std::string a = Pseudonym(1000001), b = Pseudonym(7);
  ExpectEverywhere(
      kText, "3001\t" + a + "\tcall\ttab\\there\n3002\t" + b + "\tsms\t\\N\r\n3003\t\\N\twechat\tx",
      "3001\t1000001\tcall\ttab\\there\n3002\t7\tsms\t\\N\n3003\t\\N\twechat\tx\n");
  // Escaped bytes are read as the server reads them and written canonically: here the
  // pseudonym's first digit as an octal escape.
  const auto d = static_cast<unsigned char>(a[0]);
  const std::string octal =
      "\\" + std::to_string(d >> 6) + std::to_string((d >> 3) & 7) + std::to_string(d & 7);
  ExpectEverywhere(kText, "3001\t" + octal + a.substr(1) + "\tca\\l\\l\t\\x41\\102\n",
                   "3001\t1000001\tcall\tAB\n");
}

TEST_F(CopyInTest, EndOfDataMarkerEndsTheRows) {
  const std::string a = Pseudonym(5);
  ExpectEverywhere(kText, "3001\t" + a + "\tcall\tn\n\\.\n3002\t12345\tsms\tignored\n",
                   "3001\t5\tcall\tn\n\\.\n");
  // Inside a line (PostgreSQL 15 reads it as the end there too).
  ExpectEverywhere(kText, "3001\t" + a + "\tcall\tn\\.\nrest", "3001\t5\tcall\tn\n\\.\n");
}

TEST_F(CopyInTest, NotAPseudonymFailsTheCopyWithoutEchoingIt) {
  for (const std::string& row : std::vector<std::string>{
           std::string("3001\t-5\tcall\tn\n"), std::string("3001\tabc\tcall\tn\n"),
           "3001\t" + Pseudonym(1) + "x\tcall\tn\n"}) {
    auto got = Translate(kText, row);
    ASSERT_FALSE(got.ok()) << row;
    EXPECT_NE(got.status().message().find("crm.contact_log.member_id"), std::string::npos);
    EXPECT_EQ(got.status().message().find("abc"), std::string::npos);
  }
  EXPECT_FALSE(Translate(kText, "3001\t" + Pseudonym(1) + "\tcall\n").ok());  // a field short
  EXPECT_FALSE(Translate(kText, "3001\t" + Pseudonym(1) + "\tcall\tn\textra\n").ok());
}

TEST_F(CopyInTest, AValueSpelledLikeTheNullMarkerStaysAValue) {
  // With NULL 'x', a field written \x78 is the string "x": written back as \170.
  ExpectEverywhere(std::string(kText) + " WITH (NULL 'x')",
                   "3001\t" + Pseudonym(9) + "\tcall\t\\x78\n3001\tx\tsms\tx\n",
                   "3001\t9\tcall\t\\170\n3001\tx\tsms\tx\n");
}

TEST_F(CopyInTest, CsvQuotesHeadersAndLineBreaksInsideFields) {
  const std::string sql = std::string(kText) + " WITH (FORMAT csv, HEADER true)";
  const std::string a = Pseudonym(1000042);
  ExpectEverywhere(
      sql,
      "staff_id,member_id,channel,note\n3001,\"" + a +
          "\",call,\"two\nlines, \"\"quoted\"\"\"\r\n3002," + a +
          ",sms,\n3003,,sms,mid\"dle, q\"uote\n",
      "staff_id,member_id,channel,note\n3001,1000042,call,\"two\nlines, \"\"quoted\"\"\"\n"
      "3002,1000042,sms,\n3003,,sms,\"middle, quote\"\n");
  // \. alone on a line ends the data; not inside quotes.
  ExpectEverywhere(sql, "h\n3001," + a + ",call,\"\n\\.\n\"\n\\.\nafter\n",
                   "h\n3001,1000042,call,\"\n\\.\n\"\n\\.\n");
  EXPECT_FALSE(Translate(sql, "h\n3001," + a + ",call,\"open").ok());
  // A one-field row whose value is \. is quoted, or the server would take it for the end.
  ExpectEverywhere("COPY crm.contact_log (note) FROM STDIN WITH (FORMAT csv)", "\"\\.\"\nx\n",
                   "\"\\.\"\nx\n");
}

TEST_F(CopyInTest, BinaryRowsInAnyPieces) {
  auto be = [](uint64_t x, int bytes) {
    std::string s;
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(x >> (8 * i)));
    return s;
  };
  const std::string header = std::string("PGCOPY\n\377\r\n\0", 11) + be(0, 4) + be(0, 4);
  const uint64_t pseudo = std::stoull(Pseudonym(77));
  auto row = [&](uint64_t member) {
    return be(4, 2) + be(4, 4) + be(3001, 4) + be(8, 4) + be(member, 8) + be(4, 4) + "call" +
           be(0xFFFFFFFFu, 4);
  };
  const std::string sql = std::string(kText) + " WITH (FORMAT binary)";
  ExpectEverywhere(sql, header + row(pseudo) + row(pseudo) + be(0xFFFF, 2),
                   header + row(77) + row(77) + be(0xFFFF, 2));
  EXPECT_FALSE(Translate(sql, header + row(pseudo).substr(0, 12)).ok());  // cut short
  std::string three_fields =
      be(3, 2) + be(4, 4) + be(3001, 4) + be(8, 4) + be(pseudo, 8) + be(0xFFFFFFFFu, 4);
  EXPECT_FALSE(Translate(sql, header + three_fields).ok());
  EXPECT_FALSE(Translate(sql, "PGCOPY\n").ok());
}

TEST_F(CopyInTest, ARowThatNeverEndsIsNotKeptForever) {
  auto v = Copy(kText);
  CopyInTranslator t(v, &v->copy_ins[0]);
  std::string out;
  const std::string piece(1 << 20, 'a');
  Status st = Status::Ok();
  for (int i = 0; i < 70 && st.ok(); ++i) st = t.Feed(piece, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(CopyInTest, ColumnsLeftOutAreTheTablesOwn) {
  auto v = Copy("COPY crm.contact_log FROM STDIN");
  ASSERT_EQ(v->copy_ins[0].fields.size(), 7u);
  EXPECT_TRUE(v->copy_ins[0].translates);
  EXPECT_TRUE(v->copy_ins[0].fields[2].transform != nullptr);
  auto plain = Copy("COPY crm.contact_log (staff_id, channel) FROM STDIN");
  EXPECT_FALSE(plain->copy_ins[0].translates);
}

}  // namespace
}  // namespace pgveil::proxy
