// The checks of `pgveil diff` over hand-made results, with the shipped CRM rules and the
// demo key: leaks (kept values, values found elsewhere, detector hits kept in redacted
// text), consistency of pseudonyms, shape, pairing, and no false alarm on short values.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pgveil/rules/rule_set.h"
#include "tools/diff_model.h"

namespace pgveil::tools {
namespace {

constexpr uint32_t kInt8 = 20, kText = 25, kBpchar = 1042;

class DiffChecksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream in(std::string(PGVEIL_SOURCE_DIR) + "/demo/keys.json");
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<rules::Diagnostic> errors;
    auto keys = rules::KeyRing::Parse(ss.str(), "keys.json", &errors);
    ASSERT_TRUE(keys);
    auto r = rules::LoadRules({std::string(PGVEIL_SOURCE_DIR) + "/masking-rules/crm.json"},
                              {.keys = keys});
    ASSERT_TRUE(r.ok());
    rules_ = r.rules;
  }

  static DiffColumn Col(const std::string& table, const std::string& column, uint32_t type) {
    DiffColumn c;
    c.name = column;
    c.raw_type = type;
    c.source = "crm." + table + "." + column;
    c.rule = rules_->FindPolicy("sales")->Lookup("crm", table, column);
    c.transform = std::string(c.rule->transform->Name());
    c.is_protected = c.transform != "show";
    return c;
  }

  // The masked value the sales policy gives.
  static Cell Mask(const DiffColumn& c, const Cell& raw) {
    std::string out;
    bool null = false;
    std::optional<std::string_view> in;
    if (raw) in = *raw;
    if (!c.rule->transform->Apply(c.raw_type, mask::Format::kText, in, &out, &null).ok() || null) {
      return std::nullopt;
    }
    return out;
  }

  // A query over `cols` whose masked side is computed correctly from `raw`.
  static QueryDiff Query(std::vector<DiffColumn> cols, std::vector<Row> raw) {
    QueryDiff q;
    q.sql = "SELECT ...";
    q.columns = std::move(cols);
    q.raw = raw;
    for (const Row& r : raw) {
      Row m;
      for (size_t c = 0; c < r.size(); ++c) m.push_back(Mask(q.columns[c], r[c]));
      q.masked.push_back(std::move(m));
    }
    return q;
  }

  static int Count(const QueryDiff& q, const std::string& kind) {
    return static_cast<int>(std::count_if(q.findings.begin(), q.findings.end(),
                                          [&](const Finding& f) { return f.kind == kind; }));
  }

  static std::shared_ptr<const rules::RuleSet> rules_;
};
std::shared_ptr<const rules::RuleSet> DiffChecksTest::rules_;

std::vector<Row> NicknamePhone() {
  return {{"小博", "17775506298"}, {"Tony", "18071262830"}, {"张浩睿的猫", "13512345678"}};
}

std::vector<Row> Members() {
  return {{"1", "小博", "杨博昊", "17775506298", "F"},
          {"2", "Tony", "张浩睿", "18071262830", "M"},
          {"3", "张浩睿的猫", "李娜", "13512345678", "F"}};
}

TEST_F(DiffChecksTest, CorrectMaskingPasses) {
  DiffRun run;
  run.queries.push_back(
      Query({Col("members", "member_id", kInt8), Col("members", "nickname", kText),
             Col("members", "real_name", kText), Col("members", "phone", kText),
             Col("members", "gender", kBpchar)},
            Members()));
  CheckRun(&run, true);
  const QueryDiff& q = run.queries[0];
  EXPECT_TRUE(q.paired);
  EXPECT_TRUE(q.findings.empty()) << q.findings[0].kind << ": " << q.findings[0].detail;
  EXPECT_FALSE(run.Failed());
  EXPECT_EQ(q.columns[0].Verdict(), "transformed");
  EXPECT_EQ(q.columns[1].Verdict(), "kept");
  EXPECT_EQ(q.columns[3].Verdict(), "transformed");
  // Short values (a gender, a two-character name inside a nickname) are no leak.
  EXPECT_EQ(run.Count("leak"), 0);
}

TEST_F(DiffChecksTest, AKeptProtectedValueIsALeakAndAShapeError) {
  DiffRun run;
  run.queries.push_back(
      Query({Col("members", "nickname", kText), Col("members", "phone", kText)}, NicknamePhone()));
  run.queries[0].masked[1][1] = "18071262830";  // the proxy forgot to mask one phone
  CheckRun(&run, true);
  EXPECT_EQ(run.Count("leak"), 1);
  EXPECT_EQ(run.Count("shape"), 1);
  EXPECT_TRUE(run.Failed());
  EXPECT_TRUE(run.queries[0].leak_cells.count({1, 1}));
}

TEST_F(DiffChecksTest, ARawValueFoundInAnotherQueryIsALeak) {
  DiffRun run;
  run.queries.push_back(
      Query({Col("members", "nickname", kText), Col("members", "phone", kText)}, NicknamePhone()));
  // Query 2: a chat body whose masked text carries a member's phone, written with dashes.
  run.queries.push_back(Query({Col("chat_messages", "message_id", kInt8)}, {{"7"}}));
  run.queries[1].masked[0][0] = "call 135-1234-5678";
  CheckRun(&run, true);
  EXPECT_GE(run.queries[1].columns[0].leaks, 1);
  EXPECT_TRUE(run.Failed());
}

TEST_F(DiffChecksTest, DetectorHitsKeptInRedactedTextAreLeaks) {
  DiffRun run;
  run.queries.push_back(Query({Col("chat_messages", "body", kText)},
                              {{"我的微信是 vx: lina_2024 电话 139 1234 5678"}, {"周末愉快"}}));
  EXPECT_EQ(run.queries[0].masked[1][0], Cell("周末愉快"));  // innocent text is kept
  CheckRun(&run, true);
  EXPECT_FALSE(run.Failed());
  run.queries[0].masked[0] = run.queries[0].raw[0];  // redaction did nothing
  for (auto& c : run.queries[0].columns) c.leaks = c.shape_errors = c.kept = c.transformed = 0;
  run.queries[0].findings.clear();
  CheckRun(&run, true);
  EXPECT_GE(run.Count("leak"), 1);
}

TEST_F(DiffChecksTest, PseudonymsMustBeConsistentAcrossQueries) {
  DiffRun run;
  run.queries.push_back(Query({Col("members", "member_id", kInt8)}, {{"1"}, {"2"}}));
  run.queries.push_back(Query({Col("chat_messages", "sender_id", kInt8)}, {{"2"}, {"1"}}));
  CheckRun(&run, true);
  EXPECT_FALSE(run.Failed());  // one domain: the same pseudonyms in both tables

  DiffRun split = run;  // one id, two pseudonyms
  for (auto& q : split.queries) q.findings.clear();
  split.queries[1].masked[0][0] = "12345";
  CheckRun(&split, false);  // without keys: no shape check, consistency still
  EXPECT_EQ(split.Count("inconsistent"), 1);

  DiffRun merged = run;  // two ids, one pseudonym
  for (auto& q : merged.queries) q.findings.clear();
  merged.queries[1].masked[0][0] = merged.queries[0].masked[0][0];
  CheckRun(&merged, false);
  EXPECT_EQ(merged.Count("inconsistent"), 1);
}

TEST_F(DiffChecksTest, RowsInADifferentOrderAreNotPaired) {
  DiffRun run;
  run.queries.push_back(
      Query({Col("members", "nickname", kText), Col("members", "phone", kText)}, NicknamePhone()));
  std::swap(run.queries[0].masked[0], run.queries[0].masked[1]);
  CheckRun(&run, true);
  EXPECT_FALSE(run.queries[0].paired);
  EXPECT_EQ(run.Count("unpaired"), 1);
  EXPECT_EQ(run.Count("shape"), 0);
  EXPECT_FALSE(run.Failed());  // unpaired is a warning, not a failure

  DiffRun fewer;
  fewer.queries.push_back(Query({Col("members", "nickname", kText)}, {{"a"}, {"b"}, {"c"}}));
  fewer.queries[0].masked.pop_back();
  CheckRun(&fewer, true);
  EXPECT_EQ(fewer.Count("rows"), 1);
  EXPECT_TRUE(fewer.Failed());
}

TEST_F(DiffChecksTest, ShapeErrorsAreCaught) {
  DiffRun run;
  run.queries.push_back(Query({Col("members", "height_cm", 21)}, {{"172"}, {"168"}}));
  EXPECT_EQ(run.queries[0].masked[0][0], Cell("170-174"));
  run.queries[0].masked[1][0] = "160-169";  // wrong band
  CheckRun(&run, true);
  EXPECT_EQ(run.Count("shape"), 1);
  EXPECT_EQ(run.Count("leak"), 0);
}

}  // namespace
}  // namespace pgveil::tools
