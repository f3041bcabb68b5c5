// The guard's JSON tree: the parts of nlohmann/json's behaviour the walker relies on,
// and libpg_query's real output read back.
#include "guard/json_tree.h"

#include <gtest/gtest.h>
#include <pg_query.h>

#include <string>
#include <vector>

namespace pgveil::guard {
namespace {

TEST(JsonTreeTest, ReadsNestedObjectsAndArraysInDocumentOrder) {
  JsonTree t(R"({"b": [1, -2, {"x": "y"}], "a": {"k": true, "n": null}, "s": "t\u00e9\n"})");
  ASSERT_TRUE(t.ok());
  const json& r = t.root();
  EXPECT_TRUE(r.is_object());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.first_key(), "b");  // document order, not sorted
  const json& b = r["b"];
  ASSERT_TRUE(b.is_array());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].integer(), 1);
  EXPECT_EQ(b[1].integer(), -2);
  EXPECT_EQ(b[2].value("x", ""), "y");
  std::vector<int64_t> ints;
  for (const auto& e : b) {
    if (e.is_number_integer()) ints.push_back(e.integer());
  }
  EXPECT_EQ(ints, (std::vector<int64_t>{1, -2}));
  EXPECT_TRUE(r["a"].value("k", false));
  EXPECT_TRUE(r["a"].contains("n"));
  EXPECT_TRUE(r["a"]["n"].is_null());
  EXPECT_EQ(r["s"].str(), "t\xc3\xa9\n");
}

TEST(JsonTreeTest, MissingKeysAndIndexesAreNullNotErrors) {
  JsonTree t(R"({"a": [1], "i": 7, "neg": -1, "s": "x"})");
  ASSERT_TRUE(t.ok());
  const json& r = t.root();
  EXPECT_TRUE(r["nope"].is_null());
  EXPECT_TRUE(r["nope"]["deeper"][3].is_null());
  EXPECT_TRUE(r["a"][5].is_null());
  EXPECT_FALSE(r.contains("nope"));
  EXPECT_EQ(r.value("nope", 42), 42);
  EXPECT_EQ(r.value("s", 42), 42);  // wrong type: the fallback
  EXPECT_EQ(r.value("i", 0), 7);
  EXPECT_EQ(r.value("i", "fallback"), "fallback");                // not a string: the fallback
  EXPECT_EQ(r.value("neg", size_t{0}), static_cast<size_t>(-1));  // as nlohmann converts
  // nlohmann's sizes: null 0, scalars 1.
  EXPECT_EQ(r["nope"].size(), 0u);
  EXPECT_EQ(r["i"].size(), 1u);
  EXPECT_TRUE(r["nope"].empty());
  EXPECT_EQ(r["nope"].begin(), r["nope"].end());
}

TEST(JsonTreeTest, MalformedTextIsNotOk) {
  for (const char* bad : {"", "{", R"({"a": })", R"({"a": [1, 2})", "nul", R"({"a": "x)"}) {
    JsonTree t(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_TRUE(t.root().is_null()) << bad;
  }
}

TEST(JsonTreeTest, DeepNestingDoesNotExhaustTheStack) {
  const int depth = 200000;
  std::string text(depth, '[');
  text += "1";
  text.append(depth, ']');
  JsonTree t(text);
  ASSERT_TRUE(t.ok());
  const json* n = &t.root();
  int levels = 0;
  while (n->is_array()) {
    n = &(*n)[0];
    ++levels;
  }
  EXPECT_EQ(levels, depth);
  EXPECT_EQ(n->integer(), 1);
}

TEST(JsonTreeTest, ReadsLibpgQueryParseTrees) {
  const char* sql = "SELECT m.phone, 'it''s' FROM crm.members m WHERE m.member_id = -5 LIMIT 3";
  PgQueryParseResult r = pg_query_parse(sql);
  ASSERT_EQ(r.error, nullptr);
  JsonTree t(r.parse_tree);
  pg_query_free_parse_result(r);  // the tree keeps its own copy of the text
  ASSERT_TRUE(t.ok());
  const json& stmts = t.root()["stmts"];
  ASSERT_EQ(stmts.size(), 1u);
  const json& select = stmts[0]["stmt"];
  EXPECT_EQ(select.first_key(), "SelectStmt");
  const json& s = select.first_value();
  const json& targets = s["targetList"];
  ASSERT_EQ(targets.size(), 2u);
  const json& fields = targets[0]["ResTarget"]["val"]["ColumnRef"]["fields"];
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0]["String"].value("sval", ""), "m");
  EXPECT_EQ(fields[1]["String"].value("sval", ""), "phone");
  EXPECT_EQ(targets[1]["ResTarget"]["val"]["A_Const"]["sval"].value("sval", ""), "it's");
  EXPECT_EQ(s["fromClause"][0]["RangeVar"].value("schemaname", ""), "crm");
  EXPECT_EQ(s["limitCount"]["A_Const"]["ival"].value("ival", 0), 3);
  EXPECT_GT(s["whereClause"]["A_Expr"].value("location", size_t{0}), 0u);
}

}  // namespace
}  // namespace pgveil::guard
