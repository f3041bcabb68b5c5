// One test per class of rules error: each is reported as FILE: /pointer: message,
// with a suggestion for misspellings, and all errors of a run are reported together.
#include <gtest/gtest.h>

#include "rules_test_util.h"

namespace pgveil::rules {
namespace {

using testing::Join;
using testing::Load;

// A valid base; each test breaks one thing.
std::string Rules(const std::string& policies_extra, const std::string& types,
                  const std::string& relations) {
  return R"({
    "policies": { "sales": { "roles": ["sales"] }, "default": {} )" +
         policies_extra + R"( },
    "types": { )" +
         types + R"( },
    "relations": { )" +
         relations + R"( } })";
}

void ExpectError(const std::string& json, const std::string& pointer, const std::string& fragment) {
  LoadResult r = Load(json);
  EXPECT_FALSE(r.ok());
  bool found = false;
  for (const auto& e : r.errors) {
    if (e.pointer == pointer && e.message.find(fragment) != std::string::npos) found = true;
  }
  EXPECT_TRUE(found) << "want " << pointer << ": ..." << fragment << "...\ngot:\n"
                     << Join(r.errors);
}

TEST(Loader, AcceptsAValidFile) {
  LoadResult r = Load(Rules("", R"("phone": {"sales": {"transform": "partial", "keep_last": 4}})",
                            R"("crm.members": {"columns": {"phone": "phone"}})"));
  ASSERT_TRUE(r.ok()) << Join(r.errors);
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.rules->Columns().size(), 1u);
  EXPECT_EQ(r.rules->Columns()[0].column, "phone");
  EXPECT_EQ(r.rules->Columns()[0].pointer, "/relations/crm.members/columns/phone");
}

TEST(Loader, InvalidJsonNamesTheLine) {
  ExpectError("{\n \"policies\": {\n ,\n}", "", "invalid JSON at line 3");
}

TEST(Loader, UnknownMembersAreSuggested) {
  ExpectError(R"({"policies": {"default": {}}, "relation": {}})", "/relation",
              "did you mean \"relations\"");
  ExpectError(Rules(R"(, "lead": {"role": ["x"]})", "", ""), "/policies/lead/role",
              "did you mean \"roles\"");
}

TEST(Loader, UnknownTransform) {
  ExpectError(Rules("", R"("t": {"sales": {"transform": "partail"}})", ""),
              "/types/t/sales/transform",
              "unknown transform \"partail\" (did you mean \"partial\"?)");
  ExpectError(Rules("", R"("t": {"sales": "nul"})", ""), "/types/t/sales", "did you mean \"null\"");
}

TEST(Loader, UnknownParameter) {
  ExpectError(Rules("", R"("t": {"sales": {"transform": "partial", "keep_frist": 1}})", ""),
              "/types/t/sales/keep_frist", "did you mean \"keep_first\"");
}

TEST(Loader, WrongParameterTypes) {
  ExpectError(Rules("", R"("t": {"sales": {"transform": "partial", "keep_first": "1"}})", ""),
              "/types/t/sales/keep_first", "expected an integer");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "bucket", "bounds": [0, "5"]}})", ""),
              "/types/t/sales/bounds/1", "expected an integer");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "truncate", "unit": "mont"}})", ""),
              "/types/t/sales/unit", "did you mean \"month\"");
  for (const char* zone : {"Asia/Shanghai", "+8", "+16", "+08:60", "08:00", "+08:00:"}) {
    ExpectError(
        Rules("",
              std::string(R"("t": {"sales": {"transform": "truncate", "zone": ")") + zone + "\"}}",
              ""),
        "/types/t/sales/zone", "expected a fixed UTC offset");
  }
  ExpectError(Rules("", R"("t": {"sales": {"transform": "round"}})", ""), "/types/t/sales",
              "missing parameter \"multiple\"");
}

TEST(Loader, DegenerateParameters) {
  ExpectError(Rules("", R"("t": {"sales": {"transform": "bucket", "width": 1}})", ""),
              "/types/t/sales", "width 1");
  ExpectError(
      Rules("", R"("t": {"sales": {"transform": "partial", "keep_first": 10, "keep_last": 10}})",
            ""),
      "/types/t/sales", "reveals whole values");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "redact", "detectors": []}})", ""),
              "/types/t/sales/detectors", "empty detector list");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "redact", "detectors": ["mobil"]}})", ""),
              "/types/t/sales/detectors/0", "did you mean \"mobile\"");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "age_band", "width": 1}})", ""),
              "/types/t/sales", "width");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "round", "multiple": 1}})", ""),
              "/types/t/sales", "multiple of 1");
}

TEST(Loader, TransformThatCannotApplyToTheDeclaredType) {
  ExpectError(
      Rules("",
            R"("id": {"pg_type": "bigint", "sales": {"transform": "partial", "keep_first": 1}})",
            ""),
      "/types/id/sales", "partial does not apply to bigint");
  ExpectError(
      Rules(
          "", "",
          R"("crm.m": {"columns": {"b": {"pg_type": "date", "sales": {"transform": "truncate", "unit": "hour"}}}})"),
      "/relations/crm.m/columns/b/sales", "truncate does not apply to date");
  ExpectError(Rules("", "", R"("crm.m": {"columns": {"b": {"pg_type": "bigintt"}}})"),
              "/relations/crm.m/columns/b/pg_type", "unknown PostgreSQL type");
}

TEST(Loader, FilterMisuse) {
  ExpectError(
      Rules("", R"("t": {"sales": {"transform": "partial", "keep_first": 1, "filter": "aligned"}})",
            ""),
      "/types/t/sales/filter", "boundaries");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "null", "filter": "pseudonym"}})", ""),
              "/types/t/sales/filter", "pseudonym transform");
  ExpectError(Rules("", R"("t": {"sales": {"transform": "null", "filter": "alow"}})", ""),
              "/types/t/sales/filter", "did you mean \"allow\"");
}

TEST(Loader, PolicyStructure) {
  ExpectError(Rules(R"(, "lead": {"roles": ["l"], "extends": "sale"})", "", ""),
              "/policies/lead/extends", "unknown policy \"sale\" (did you mean \"sales\"?)");
  ExpectError(
      Rules(R"(, "a": {"roles": ["a"], "extends": "b"}, "b": {"roles": ["b"], "extends": "a"})", "",
            ""),
      "/policies/a/extends", "cycle");
  ExpectError(
      Rules(R"(, "m": {"roles": ["m"], "unmasked": true}, "n": {"roles": ["n"], "extends": "m"})",
            "", ""),
      "/policies/n/extends", "unmasked");
  ExpectError(R"({"policies": {"sales": {"roles": ["s"]}}})", "/policies",
              "\"default\" policy is required");
  ExpectError(R"({"policies": {"default": {"unmasked": true}}})", "/policies/default/unmasked",
              "must be masked");
  ExpectError(R"({"policies": {"default": {"roles": ["x"]}}})", "/policies/default/roles",
              "takes no roles");
  ExpectError(Rules(R"(, "empty": {})", "", ""), "/policies/empty", "names no roles");
}

TEST(Loader, UnknownNamesInRules) {
  ExpectError(Rules("", R"("t": {"sale": "show"})", ""), "/types/t/sale",
              "unknown policy \"sale\" (did you mean \"sales\"?)");
  ExpectError(Rules("", R"("phone": {"sales": "null"})", R"("crm.m": {"columns": {"p": "phon"}})"),
              "/relations/crm.m/columns/p", "unknown type \"phon\" (did you mean \"phone\"?)");
  ExpectError(Rules(R"(, "m": {"roles": ["m"], "unmasked": true})", R"("t": {"m": "null"})", ""),
              "/types/t/m", "unmasked");
  ExpectError(Rules("", "", R"("members": {})"), "/relations/members", "schema.table");
}

TEST(Loader, KeysByName) {
  ExpectError(
      Rules("", R"("id": {"sales": {"transform": "pseudonym", "key": "crn", "domain": "m"}})", ""),
      "/types/id/sales/key", "unknown key \"crn\" (did you mean \"crm\"?)");
  ExpectError(Rules("", R"("id": {"sales": {"transform": "pseudonym", "key": "crm"}})", ""),
              "/types/id/sales", "missing parameter \"domain\"");
  // Without a key file, loading fails; an offline check may allow it with a warning.
  const std::string rules =
      Rules("", R"("id": {"sales": {"transform": "hash", "key": "crm"}})", "");
  LoadResult no_keys = LoadRulesFromStrings({{"r.json", rules}}, {});
  EXPECT_FALSE(no_keys.ok());
  LoadResult offline = LoadRulesFromStrings({{"r.json", rules}}, {.allow_missing_keys = true});
  ASSERT_TRUE(offline.ok()) << Join(offline.errors);
  ASSERT_EQ(offline.warnings.size(), 1u);
  EXPECT_EQ(offline.warnings[0].pointer, "/types/id/sales/key");
}

TEST(Loader, ReportsEveryErrorInOneRun) {
  LoadResult r =
      Load(Rules(R"(, "lead": {"roles": ["l"], "extends": "x"})",
                 R"("a": {"sales": "nope"}, "b": {"sales": {"transform": "bucket", "width": 1}})",
                 R"("crm.m": {"columns": {"c": "zzz"}})"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 4u) << Join(r.errors);
  for (const auto& e : r.errors) EXPECT_EQ(e.ToString().rfind("r.json: /", 0), 0u) << e.ToString();
}

TEST(Loader, MergesFilesAndRejectsDuplicates) {
  const std::string policies = R"({"policies": {"sales": {"roles": ["sales"]}, "default": {}}})";
  const std::string types = R"({"types": {"hidden": {"sales": "null"}}})";
  const std::string rel1 = R"({"relations": {"crm.m": {"columns": {"a": "hidden"}}}})";
  const std::string rel2 = R"({"relations": {"crm.m": {"columns": {"b": {"sales": "show"}}}}})";
  LoadResult ok = LoadRulesFromStrings(
      {{"1.json", policies}, {"2.json", types}, {"3.json", rel1}, {"4.json", rel2}}, {});
  ASSERT_TRUE(ok.ok()) << Join(ok.errors);
  EXPECT_EQ(ok.rules->Columns().size(), 2u);
  LoadResult dup = LoadRulesFromStrings({{"1.json", policies}, {"2.json", policies}}, {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.errors[0].file, "2.json");
  EXPECT_NE(dup.errors[0].message.find("already defined in 1.json"), std::string::npos);
  LoadResult dupcol = LoadRulesFromStrings(
      {{"1.json", policies}, {"2.json", types}, {"3.json", rel1}, {"5.json", rel1}}, {});
  ASSERT_FALSE(dupcol.ok());
  EXPECT_EQ(dupcol.errors[0].pointer, "/relations/crm.m/columns/a");
}

TEST(Loader, CommentsAreAllowed) {
  LoadResult r = Load("// a comment\n{ /* here too */ \"policies\": {\"default\": {}}}");
  EXPECT_TRUE(r.ok()) << Join(r.errors);
}

TEST(Loader, FilesAndDirectories) {
  LoadResult missing = LoadRules({"/nonexistent/rules.json"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.errors[0].ToString(), "/nonexistent/rules.json: /: no such file or directory");
  LoadResult examples =
      LoadRules({PGVEIL_SOURCE_DIR "/masking-rules/examples"}, {.keys = testing::TestKeys()});
  EXPECT_TRUE(examples.ok()) << Join(examples.errors);
}

}  // namespace
}  // namespace pgveil::rules
