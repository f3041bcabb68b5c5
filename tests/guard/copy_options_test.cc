// COPY options read as the server reads them. pgveil parses the rows of COPY TO STDOUT
// (and COPY FROM STDIN into pseudonym columns) with the statement's FORMAT, DELIMITER,
// NULL, QUOTE, ESCAPE and HEADER: an argument read differently from the server — a
// number (`DELIMITER 9` is the delimiter "9"), a list (`HEADER (false)` is false) — made
// pgveil split rows at other places than the server, or pass the first row on unmasked
// as a header line.
#include <gtest/gtest.h>

#include "demo_policy.h"
#include "pgveil/guard/analyzer.h"
#include "pgveil/guard/copy_inspect.h"

namespace pgveil::guard {
namespace {

CopyStatement Only(const std::string& sql) {
  auto s = InspectStatements(sql);
  EXPECT_TRUE(s.ok()) << sql;
  if (!s.ok() || s->copies.size() != 1) {
    ADD_FAILURE() << "expected one COPY in " << sql;
    return {};
  }
  return s->copies[0];
}

TEST(CopyOptionsTest, NumbersAreReadAsTheirText) {
  CopyStatement c = Only("COPY crm.members TO STDOUT (FORMAT csv, DELIMITER 9)");
  EXPECT_EQ(c.format, CopyFormat::kCsv);
  EXPECT_EQ(c.delimiter, '9');
  EXPECT_EQ(c.unreadable_option, "");
  c = Only("COPY crm.members TO STDOUT (FORMAT csv, DELIMITER 0, QUOTE 7, ESCAPE 5, NULL 0)");
  EXPECT_EQ(c.delimiter, '0');
  EXPECT_EQ(c.quote, '7');
  EXPECT_EQ(c.escape, '5');
  EXPECT_EQ(c.null_string, "0");
  c = Only("COPY crm.members TO STDOUT (FORMAT csv, NULL 1.5)");
  EXPECT_EQ(c.null_string, "1.5");
}

TEST(CopyOptionsTest, HeaderTakesTheServersSpellings) {
  struct Case {
    const char* options;
    bool header;
  } cases[] = {
      {"HEADER", true},        {"HEADER true", true},  {"HEADER on", true}, {"HEADER 1", true},
      {"HEADER false", false}, {"HEADER off", false},  {"HEADER 0", false}, {"HEADER 'OFF'", false},
      {"HEADER 'True'", true}, {"HEADER match", true},
  };
  for (const auto& k : cases) {
    const std::string sql =
        std::string("COPY crm.members TO STDOUT (FORMAT csv, ") + k.options + ")";
    CopyStatement c = Only(sql);
    EXPECT_EQ(c.header, k.header) << sql;
    EXPECT_EQ(c.unreadable_option, "") << sql;
  }
  // The old syntax.
  EXPECT_TRUE(Only("COPY crm.members TO STDOUT WITH CSV HEADER").header);
  EXPECT_FALSE(Only("COPY crm.members TO STDOUT WITH CSV").header);
}

TEST(CopyOptionsTest, ListsAndStarsAreNotRead) {
  for (const char* options :
       {"FORMAT csv, HEADER (false)", "FORMAT (csv)", "FORMAT csv, DELIMITER *",
        "FORMAT csv, QUOTE ('|')", "FORMAT csv, NULL (x)", "FORMAT csv, HEADER 2"}) {
    const std::string sql = std::string("COPY crm.members TO STDOUT (") + options + ")";
    EXPECT_NE(Only(sql).unreadable_option, "") << sql;
  }
}

class CopyOptionsGuardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { policy_ = new auto(testing::DemoPolicy("sales")); }
  static void TearDownTestSuite() { delete policy_; }
  std::shared_ptr<const Verdict> Check(const std::string& sql) {
    return Analyzer::For(*policy_)->AnalyzeUncached(sql);
  }
  static std::shared_ptr<const policy::Policy>* policy_;
};
std::shared_ptr<const policy::Policy>* CopyOptionsGuardTest::policy_ = nullptr;

TEST_F(CopyOptionsGuardTest, UnreadableOptionsAreRefused) {
  for (const char* sql :
       {"COPY crm.members (phone) TO STDOUT (FORMAT csv, HEADER (false))",
        "COPY (SELECT phone FROM crm.members) TO STDOUT (FORMAT csv, HEADER (off))",
        "COPY crm.members TO STDOUT (FORMAT (csv), DELIMITER E'\\t')",
        "COPY crm.members TO STDOUT (FORMAT csv, DELIMITER *)",
        "COPY crm.contact_log (staff_id, member_id, channel) FROM STDIN (FORMAT csv, "
        "DELIMITER ('|'))"}) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "0A000") << sql;
  }
}

TEST_F(CopyOptionsGuardTest, NumericOptionsAreServedAsTheServerReadsThem) {
  auto v = Check(
      "COPY (SELECT 'x' AS a, phone, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
      "(FORMAT csv, DELIMITER 9)");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->copies.size(), 1u);
  EXPECT_EQ(v->copies[0].delimiter, '9');
  v = Check(
      "COPY crm.contact_log (staff_id, member_id, channel) FROM STDIN (FORMAT csv, "
      "DELIMITER 7)");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->copy_ins.size(), 1u);
  EXPECT_EQ(v->copy_ins[0].copy.delimiter, '7');
}

}  // namespace
}  // namespace pgveil::guard
