// Statement summaries never carry a literal: statements full of personal values go in,
// and neither the summary nor the whole JSON record holds any of those values.
#include "pgveil/audit/statement_summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgveil/audit/audit_record.h"

namespace pgveil::audit {
namespace {

struct Case {
  std::string sql;
  std::vector<std::string> secrets;  // none may appear in the record
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"SELECT * FROM crm.members WHERE phone = '13812345678'", {"13812345678", "1234"}},
      {"SELECT * FROM crm.members WHERE real_name = '王小明' OR nickname LIKE '%小红%'",
       {"王小明", "小红"}},
      {"SELECT member_id FROM crm.members WHERE id_card_no = '11010519491231002X'",
       {"11010519491231002X", "110105"}},
      {"SELECT 1 FROM crm.members WHERE about_me = E'加我微信 wx_abc123\\n电话 139 1234 5678'",
       {"wx_abc123", "139", "5678"}},
      {"SELECT $body$ call me at 13700001111 $body$ AS x, $$李四$$ AS y", {"13700001111", "李四"}},
      {"SELECT * FROM crm.members WHERE monthly_income > 25000 AND height_cm = 183 "
       "AND member_id IN (4411, 9876543210) LIMIT 77 OFFSET 31",
       {"25000", "183", "4411", "9876543210", "77", "31"}},
      {"SELECT 3.14159, 1e10, 2.5E-3, -42.5::numeric, B'1011', X'BEEF'",
       {"3.14159", "1e10", "2.5E", "42.5", "1011", "BEEF"}},
      {"SELECT * FROM crm.members /* looking up 13812340000 for 张伟 */ WHERE gender = 'F' "
       "-- email zhang.wei@example.com\n",
       {"13812340000", "张伟", "zhang.wei@example.com", "example"}},
      {"SELECT nickname AS \"王芳\", phone AS \"13655556666\" FROM crm.members",
       {"王芳", "13655556666"}},
      {"SELECT date '1990-05-17', interval '3 days', '2024-01-01'::timestamptz",
       {"1990", "05-17", "3 days", "2024"}},
      {"INSERT INTO crm.contact_log (staff_id, member_id, channel, note) "
       "VALUES (3, 12345, 'call', '客户说手机 186-0000-1234 QQ 987654321')",
       {"12345", "186", "1234", "987654321", "客户"}},
      {"UPDATE crm.members SET email = 'li.na@qq.com', weight_kg = 58 WHERE member_id = 77",
       {"li.na@qq.com", "58", "77"}},
      {"SELECT format('%s', 'secret-token-xyz'), ARRAY['a-very-private', 'value-two']",
       {"secret-token-xyz", "a-very-private", "value-two"}},
      {"SET application_name = 'for 刘洋 13512345678'", {"刘洋", "13512345678"}},
      {"SELECT 'it''s Zhang San''s phone: 15900001111'", {"Zhang San", "15900001111"}},
  };
  return cases;
}

TEST(StatementSummaryTest, NoLiteralSurvivesIntoTheRecord) {
  for (const Case& c : Cases()) {
    AuditRecord r;
    r.statement = SummarizeStatement(c.sql);
    // Every field but the time and the fingerprint (hex digits, which short numeric
    // secrets could match by chance; both are checked for their form instead).
    nlohmann::json j = nlohmann::json::parse(ToJson(r));
    EXPECT_EQ(j["fingerprint"].get<std::string>().find_first_not_of("0123456789abcdef"),
              std::string::npos);
    j.erase("fingerprint");
    j.erase("time");
    const std::string line = j.dump(-1, ' ', false);
    for (const std::string& secret : c.secrets) {
      EXPECT_EQ(line.find(secret), std::string::npos)
          << "secret #" << (&secret - c.secrets.data()) << " leaked for: " << c.sql
          << "\nrecord: " << line;
    }
    EXPECT_TRUE(r.statement.parsed) << c.sql;
    // Not trivially safe: the shape of the statement is kept.
    EXPECT_FALSE(r.statement.text.empty()) << c.sql << " withheld: " << r.statement.withheld;
    EXPECT_EQ(r.statement.fingerprint.size(), 16u) << c.sql;
  }
}

TEST(StatementSummaryTest, KeepsTheShapeOfTheStatement) {
  StatementSummary s = SummarizeStatement(
      "SELECT nickname, city FROM crm.members WHERE member_id = 123 ORDER BY nickname LIMIT 5");
  EXPECT_EQ(s.text,
            "SELECT nickname, city FROM crm.members WHERE member_id = $1 ORDER BY "
            "nickname LIMIT $2");
  EXPECT_TRUE(s.withheld.empty());
}

TEST(StatementSummaryTest, SameFingerprintForDifferentConstants) {
  StatementSummary a = SummarizeStatement("SELECT * FROM crm.members WHERE phone = '138'");
  StatementSummary b = SummarizeStatement("select *  from crm.members where phone='139'");
  StatementSummary c = SummarizeStatement("SELECT * FROM crm.members WHERE email = '138'");
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_NE(a.fingerprint, c.fingerprint);
}

TEST(StatementSummaryTest, UnparsableStatementsKeepNoText) {
  for (const char* sql : {"SELECT * FROM crm.members WHERE phone = '13812345678",
                          "SELEKT 13812345678 FROM members", "SELECT 'a' 'b' 13812345678 ("}) {
    StatementSummary s = SummarizeStatement(sql);
    EXPECT_FALSE(s.parsed) << sql;
    EXPECT_TRUE(s.text.empty()) << sql;
    EXPECT_TRUE(s.fingerprint.empty()) << sql;
    EXPECT_EQ(s.withheld, "unparsed");
    AuditRecord r;
    r.statement = s;
    EXPECT_EQ(ToJson(r).find("1381234"), std::string::npos);
  }
  EXPECT_FALSE(SummarizeStatement(std::string("SELECT 1\0 13812345678", 22)).parsed);
}

TEST(StatementSummaryTest, ScrubReplacesWhatTheNormaliserLeft) {
  std::string out;
  ASSERT_TRUE(
      ScrubNormalized("SELECT a,  'x' , 12.5e+3 , E'y\\'z', $q$w$q$ -- c\n FROM t "
                      "/* a /* nested */ 42 */ WHERE b = $1",
                      &out));
  EXPECT_EQ(out, "SELECT a, ? , ? , ?, ? FROM t WHERE b = $1");
  ASSERT_TRUE(ScrubNormalized("SELECT \"Col\" AS \"王\", t1.x9, \"x12345\"", &out));
  EXPECT_EQ(out, "SELECT \"Col\" AS \"?\", t1.x9, \"?\"");
}

TEST(StatementSummaryTest, ScrubRefusesWhatItCannotLex) {
  std::string out;
  for (const char* s : {"SELECT 'unterminated", "SELECT 'a\\' 13812345678 '", "SELECT $x$ open",
                        "SELECT /* open", "SELECT U&'\\0041'", "SELECT \"open"}) {
    EXPECT_FALSE(ScrubNormalized(s, &out)) << s;
  }
}

}  // namespace
}  // namespace pgveil::audit
