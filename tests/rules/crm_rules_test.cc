// The shipped CRM policy (masking-rules/crm.json) with the demo key file loads and does
// what the CRM demo's policy table says, column by column.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "mask/datetime.h"
#include "pgveil/mask/types.h"
#include "rules_test_util.h"

namespace pgveil::rules {
namespace {

using namespace mask::oid;
using testing::ApplyText;
using testing::Join;

class CrmRules : public ::testing::Test {
 protected:
  void SetUp() override {
    // The key file is checked in without mode 0600 (git does not keep it): copy it.
    const std::string copy = (std::filesystem::temp_directory_path() /
                              ("pgveil-demo-keys-" + std::to_string(::getpid()) + ".json"))
                                 .string();
    std::filesystem::copy_file(PGVEIL_SOURCE_DIR "/demo/keys.json", copy,
                               std::filesystem::copy_options::overwrite_existing);
    ::chmod(copy.c_str(), 0600);
    std::vector<Diagnostic> errors;
    auto keys = KeyRing::LoadFile(copy, &errors);
    std::filesystem::remove(copy);
    ASSERT_NE(keys, nullptr) << Join(errors);
    const int32_t today = static_cast<int32_t>(mask::datetime::DaysFromCivil(2024, 6, 15));
    LoadResult r = LoadRules({PGVEIL_SOURCE_DIR "/masking-rules/crm.json"},
                             {.keys = keys, .today = [today] { return today; }});
    ASSERT_TRUE(r.ok()) << Join(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << Join(r.warnings);
    rules_ = r.rules;
  }
  std::string Sales(const char* table, const char* col, uint32_t type, const std::string& v) {
    return ApplyText(rules_->Resolve({"sales_li", "sales"})->Lookup("crm", table, col), type, v);
  }
  std::shared_ptr<const RuleSet> rules_;
};

TEST_F(CrmRules, PoliciesResolveForTheDemoLogins) {
  EXPECT_EQ(rules_->Resolve({"sales_li", "sales"})->name(), "sales");
  EXPECT_EQ(rules_->Resolve({"lead_zhao", "sales_lead"})->name(), "sales_lead");
  EXPECT_TRUE(rules_->Resolve({"match_engine", "matcher"})->unmasked());
  EXPECT_TRUE(rules_->Resolve({"postgres"})->unmasked());
  EXPECT_EQ(rules_->Resolve({"intern_zhou"})->name(), "default");
}

TEST_F(CrmRules, SalesSeeWhatTheirJobNeeds) {
  EXPECT_EQ(Sales("members", "real_name", kText, "张三丰"), "张**");
  EXPECT_EQ(Sales("members", "phone", kText, "13812345678"), "*******5678");
  EXPECT_EQ(Sales("members", "email", kText, "zhangsan@qq.com"), "z*******@qq.com");
  EXPECT_EQ(Sales("members", "birth_date", kDate, "1990-06-15"), "30-34");
  EXPECT_EQ(Sales("members", "height_cm", kInt2, "172"), "170-174");
  EXPECT_EQ(Sales("members", "monthly_income", kInt4, "9000"), "8000-11999");
  EXPECT_EQ(Sales("members", "monthly_income", kInt4, "60000"), "50000+");
  for (const char* hidden : {"wechat_id", "qq", "id_card_no", "photo_url"}) {
    EXPECT_EQ(Sales("members", hidden, kText, "x"), "NULL") << hidden;
  }
  EXPECT_EQ(Sales("members", "weight_kg", kInt2, "60"), "NULL");
  EXPECT_EQ(Sales("members", "nickname", kText, "小雨"), "小雨");
  // Truncated on the UTC clock and printed on it, whatever the session's zone.
  EXPECT_EQ(Sales("members", "registered_at", kTimestampTz, "2023-05-17 10:11:12+08"),
            "2023-05-01 00:00:00+00");
  EXPECT_EQ(Sales("members", "registered_at", kTimestampTz, "2023-05-17 10:11:12+00"),
            "2023-05-01 00:00:00+00");
  EXPECT_EQ(Sales("members", "last_login_at", kTimestampTz, "2024-06-14 22:01:02+08"),
            "2024-06-14 00:00:00+00");
  EXPECT_EQ(Sales("chat_messages", "sent_at", kTimestampTz, "2024-06-14 22:01:02+08"),
            "2024-06-14 14:00:00+00");
  EXPECT_EQ(Sales("resource_claims", "status", kText, "no_service_needed"), "no_service_needed");
  EXPECT_EQ(Sales("contact_log", "channel", kText, "wechat"), "wechat");
  EXPECT_EQ(Sales("staff", "display_name", kText, "李明"), "李明");
  // Free text: the phone number does not survive.
  const std::string body = Sales("chat_messages", "body", kText, "加我微信吧，电话 13812345678");
  EXPECT_EQ(body.find("13812345678"), std::string::npos);
  EXPECT_NE(body, "NULL");
}

TEST_F(CrmRules, OneMemberIdDomainAcrossTables) {
  auto sales = rules_->Resolve({"sales"});
  const std::string a = ApplyText(sales->Lookup("crm", "members", "member_id"), kInt8, "10001");
  EXPECT_NE(a, "10001");
  for (auto [table, col] :
       std::vector<std::pair<const char*, const char*>>{{"chat_messages", "sender_id"},
                                                        {"chat_messages", "receiver_id"},
                                                        {"profile_views", "viewer_id"},
                                                        {"profile_views", "viewed_id"},
                                                        {"resource_claims", "member_id"},
                                                        {"contact_log", "member_id"}}) {
    ColumnRule r = sales->Lookup("crm", table, col);
    EXPECT_EQ(ApplyText(r, kInt8, "10001"), a) << table << "." << col;
    EXPECT_EQ(r.filter, Filter::kPseudonym);
  }
}

TEST_F(CrmRules, LeadSeesMoreOfThePhoneOnly) {
  auto lead = rules_->Resolve({"sales_lead"});
  EXPECT_EQ(ApplyText(lead->Lookup("crm", "members", "phone"), kText, "13812345678"),
            "138****5678");
  EXPECT_EQ(ApplyText(lead->Lookup("crm", "members", "id_card_no"), kText, "x"), "NULL");
}

TEST_F(CrmRules, DefaultSeesNothingPersonal) {
  auto def = rules_->Resolve({"intern_zhou"});
  for (const char* col : {"member_id", "nickname", "phone", "city", "grade"}) {
    EXPECT_EQ(ApplyText(def->Lookup("crm", "members", col), kText, "1"), "NULL") << col;
  }
  EXPECT_EQ(ApplyText(def->Lookup("crm", "contact_log", "channel"), kText, "sms"), "NULL");
  EXPECT_EQ(ApplyText(def->Lookup("crm", "staff", "display_name"), kText, "李明"), "李明");
  EXPECT_EQ(ApplyText(def->Lookup("crm", "stores", "city"), kText, "杭州"), "杭州");
}

TEST_F(CrmRules, FiltersFollowThePolicyTable) {
  auto sales = rules_->Resolve({"sales"});
  EXPECT_EQ(sales->Lookup("crm", "members", "nickname").filter, Filter::kAllow);
  EXPECT_EQ(sales->Lookup("crm", "members", "real_name").filter, Filter::kDeny);
  EXPECT_EQ(sales->Lookup("crm", "members", "birth_date").filter, Filter::kAligned);
  EXPECT_EQ(sales->Lookup("crm", "members", "monthly_income").filter, Filter::kAligned);
  EXPECT_EQ(sales->Lookup("crm", "members", "phone").filter, Filter::kDeny);
  EXPECT_EQ(sales->Lookup("crm", "resource_claims", "pool").filter, Filter::kAllow);
}

}  // namespace
}  // namespace pgveil::rules
