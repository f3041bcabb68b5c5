// pgveil scan and pgveil diff against the CRM demo, through a real pgveil (the masking
// tests' environment: masking-rules/crm.json, demo/keys.json, 2000 members, seed 42).
//
// diff: no leak with the shipped rules; a second pgveil that runs a deliberately weakened
// rules file (tests/tools/data/crm-weak-phone.json: phone shown) is caught as a leak.
// scan: finds exactly the demo's personal columns and reports full coverage; with the
// weakened rules the phone is uncovered and the proposed stub covers it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness/pgveil_process.h"
#include "masking_env.h"
#include "pgveil/rules/rule_set.h"
#include "pgveil/tools/diff.h"
#include "pgveil/tools/scan.h"

namespace pgveil::masking {
namespace {

using nlohmann::json;

std::string Source(const std::string& rel) { return MaskingEnv::SourceDir() + "/" + rel; }
std::string Keys() { return Env().dir() + "/keys.json"; }  // MaskingEnv's 0600 copy
std::string ShippedRules() { return Source("masking-rules/crm.json"); }
std::string WeakRules() { return Source("tests/tools/data/crm-weak-phone.json"); }

// Every masked statement is a plain SELECT of columns, ordered (if at all) by columns the
// sales policy shows as stored.
const std::vector<std::string>& Queries() {
  static const std::vector<std::string> q = {
      "SELECT member_id, nickname, real_name, gender, birth_date, phone, wechat_id, qq, email, "
      "id_card_no, city, height_cm, weight_kg, monthly_income, photo_url, about_me, "
      "registered_at FROM crm.members",
      "SELECT message_id, sender_id, receiver_id, sent_at, body FROM crm.chat_messages "
      "ORDER BY message_id LIMIT 3000",
      "SELECT viewer_id, viewed_id, viewed_at FROM crm.profile_views LIMIT 2000",
      "SELECT contact_id, member_id, channel, outcome, note FROM crm.contact_log "
      "ORDER BY contact_id",
  };
  return q;
}

class ToolsDemoTest : public MaskingTest {
 protected:
  static void SetUpTestSuite() {
    it::PgveilProcess::Options options;
    options.upstream_port = Env().server_port();
    options.log_path = Env().dir() + "/pgveil-weak.log";
    options.extra_args = {"--rules",
                          WeakRules(),
                          "--keys",
                          Keys(),
                          "--catalog",
                          "host=127.0.0.1 port=" + std::to_string(Env().server_port()) +
                              " user=pgveil_catalog password=veil-demo dbname=" + it::kDatabase};
    auto weak = it::PgveilProcess::Start(options);
    ASSERT_TRUE(weak.ok()) << weak.status().ToString();
    weak_ = std::move(*weak);
  }
  static void TearDownTestSuite() { weak_.reset(); }

  static std::string WeakConnInfo(const std::string& user) {
    return "host=127.0.0.1 port=" + std::to_string(weak_->port()) + " user=" + user +
           " password=" + kPassword + " dbname=" + it::kDatabase;
  }

  static tools::DiffOptions Diff(const std::string& masked) {
    tools::DiffOptions o;
    o.raw = Env().DirectConnInfo("match_engine");
    o.masked = masked;
    o.queries = Queries();
    o.rules = {ShippedRules()};
    o.keys_file = Keys();
    o.max_rows = 3;
    return o;
  }

  static std::unique_ptr<it::PgveilProcess> weak_;
};
std::unique_ptr<it::PgveilProcess> ToolsDemoTest::weak_;

TEST_F(ToolsDemoTest, DiffFindsNoLeakWithTheShippedRules) {
  tools::DiffOptions o = Diff(Env().ProxyConnInfo("sales_li"));
  o.format = "json";
  o.html_file = Env().dir() + "/diff.html";
  std::ostringstream out, err;
  const int rc = tools::RunDiff(o, out, err);
  json j = json::parse(out.str());
  EXPECT_EQ(rc, 0) << err.str() << j.dump(1).substr(0, 4000);
  EXPECT_EQ(j["policy"], "sales");
  EXPECT_EQ(j["passed"], true);
  EXPECT_EQ(j["leaks"], 0);
  EXPECT_EQ(j["inconsistencies"], 0);
  EXPECT_EQ(j["shape_errors"], 0);
  ASSERT_EQ(j["queries"].size(), Queries().size());
  for (const auto& q : j["queries"]) {
    EXPECT_TRUE(q["paired"].get<bool>()) << q["sql"];
    EXPECT_GT(q["raw_rows"].get<int>(), 0) << q["sql"];
    for (const auto& c : q["columns"]) {
      // Every protected column was really changed somewhere, every shown one kept.
      if (c["transform"] == "show") {
        EXPECT_EQ(c["result"], "kept") << c["name"];
      }
      if (c["transform"] == "null") {
        EXPECT_EQ(c["result"], "nulled") << c["name"];
      }
      if (c["transform"] == "pseudonym") {
        EXPECT_EQ(c["result"], "transformed") << c["name"];
      }
    }
  }
  // The JSON report holds no value: no phone number of the demo appears in it.
  auto phones = Env().Query("SELECT phone FROM crm.members LIMIT 50");
  ASSERT_TRUE(phones.ok());
  for (const auto& row : *phones) {
    ASSERT_TRUE(row[0].has_value());
    EXPECT_EQ(out.str().find(*row[0]), std::string::npos);
  }
  // The HTML page was written and shows the masked cells coloured by transform.
  std::ifstream html(o.html_file);
  std::stringstream page;
  page << html.rdbuf();
  EXPECT_NE(page.str().find("class=\"t-pseudonym\""), std::string::npos);
  EXPECT_NE(page.str().find("PASS"), std::string::npos);
}

TEST_F(ToolsDemoTest, DiffCatchesTheWeakenedPhoneRuleAsALeak) {
  tools::DiffOptions o = Diff(WeakConnInfo("sales_li"));
  o.format = "json";
  std::ostringstream out, err;
  EXPECT_EQ(tools::RunDiff(o, out, err), 1) << err.str();
  json j = json::parse(out.str());
  EXPECT_EQ(j["passed"], false);
  EXPECT_GE(j["leaks"].get<int>(), kMembers / 2);
  // The leaks are the phone column; nothing else changed.
  std::set<std::string> leaking;
  for (const auto& q : j["queries"]) {
    for (const auto& c : q["columns"]) {
      if (c["leaks"].get<int>() > 0) leaking.insert(c["name"].get<std::string>());
    }
  }
  EXPECT_EQ(leaking, std::set<std::string>{"phone"});
}

TEST_F(ToolsDemoTest, DiffTextOutputThroughTheExecutable) {
  const std::string log = Env().dir() + "/diff-cli.txt";
  std::vector<std::string> argv = {it::PgveilBinary(),
                                   "diff",
                                   "--raw",
                                   Env().DirectConnInfo("match_engine"),
                                   "--masked",
                                   WeakConnInfo("lead_zhao"),
                                   "--query",
                                   Queries()[0] + " LIMIT 20",
                                   "--rules",
                                   ShippedRules(),
                                   "--keys",
                                   Keys()};
  Status st = Env().Run(argv, {}, log, std::chrono::milliseconds(60000));
  EXPECT_FALSE(st.ok());  // exit status 1: the leak
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("policy sales_lead"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("LEAKS"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("-> FAIL"), std::string::npos) << text.str();

  argv[5] = Env().ProxyConnInfo("lead_zhao");
  EXPECT_TRUE(Env().Run(argv, {}, log, std::chrono::milliseconds(60000)).ok()) << it::FileTail(log);
}

const std::set<std::string>& DemoPersonalColumns() {
  static const std::set<std::string> cols = {"crm.members.member_id",
                                             "crm.members.real_name",
                                             "crm.members.birth_date",
                                             "crm.members.phone",
                                             "crm.members.wechat_id",
                                             "crm.members.qq",
                                             "crm.members.email",
                                             "crm.members.id_card_no",
                                             "crm.members.height_cm",
                                             "crm.members.weight_kg",
                                             "crm.members.monthly_income",
                                             "crm.members.photo_url",
                                             "crm.members.about_me",
                                             "crm.chat_messages.sender_id",
                                             "crm.chat_messages.receiver_id",
                                             "crm.chat_messages.body",
                                             "crm.profile_views.viewer_id",
                                             "crm.profile_views.viewed_id",
                                             "crm.resource_claims.member_id",
                                             "crm.contact_log.member_id",
                                             "crm.contact_log.note"};
  return cols;
}

TEST_F(ToolsDemoTest, ScanFindsEveryPersonalColumnAndFullCoverage) {
  tools::ScanOptions o;
  o.db = Env().DirectConnInfo("match_engine");
  o.schemas = {"crm"};
  o.rules = {ShippedRules()};
  o.keys_file = Keys();
  o.format = "json";
  o.fail_uncovered = true;
  std::ostringstream out, err;
  EXPECT_EQ(tools::RunScan(o, out, err), 0) << err.str() << out.str();
  json j = json::parse(out.str());
  std::set<std::string> found;
  for (const auto& c : j["columns"]) {
    found.insert(c["relation"].get<std::string>() + "." + c["column"].get<std::string>());
    EXPECT_TRUE(c["covered"].get<bool>()) << c.dump();
  }
  EXPECT_EQ(found, DemoPersonalColumns());
  EXPECT_EQ(j["coverage_percent"].get<double>(), 100.0);
  EXPECT_EQ(j["relations_scanned"], 7);
  EXPECT_TRUE(j["skipped"].empty());
}

TEST_F(ToolsDemoTest, ScanReportsTheWeakenedPhoneAndProposesARule) {
  tools::ScanOptions o;
  o.db = Env().DirectConnInfo("match_engine");
  o.schemas = {"crm"};
  o.rules = {WeakRules()};
  o.sample = 200;
  o.fail_uncovered = true;
  o.propose_file = Env().dir() + "/proposed.json";
  std::ostringstream out, err;
  EXPECT_EQ(tools::RunScan(o, out, err), 1) << err.str();
  EXPECT_NE(out.str().find("crm.members.phone"), std::string::npos);
  EXPECT_NE(out.str().find("NOT COVERED: shown as stored to sales, sales_lead"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("(95.2%)"), std::string::npos) << out.str();  // 20 of 21

  // The stub is valid rules syntax: with a default policy it loads on its own.
  std::ifstream in(o.propose_file);
  std::stringstream stub;
  stub << in.rdbuf();
  auto r = rules::LoadRulesFromStrings(
      {{"policies.json", R"({"policies": {"default": {}}})"}, {"proposed.json", stub.str()}},
      {.allow_missing_keys = true});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString()) << "\n" << stub.str();
  auto rule = r.rules->FindPolicy("default")->Lookup("crm", "members", "phone");
  EXPECT_EQ(rule.transform->Name(), "partial");
}

}  // namespace
}  // namespace pgveil::masking
