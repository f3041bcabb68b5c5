// Policy resolution and column lookup precedence.
#include <gtest/gtest.h>

#include "pgveil/mask/types.h"
#include "rules_test_util.h"

namespace pgveil::rules {
namespace {

using mask::oid::kInt8;
using mask::oid::kText;
using testing::ApplyText;
using testing::Join;

constexpr char kRules[] = R"({
  "policies": {
    "sales": { "roles": ["sales"] },
    "lead": { "roles": ["sales_lead"], "extends": "sales" },
    "audit": { "roles": ["auditor"] },
    "matcher": { "roles": ["matcher"], "unmasked": true },
    "default": {}
  },
  "types": {
    "id": { "*": { "transform": "pseudonym", "key": "crm", "domain": "m", "filter": "pseudonym" } },
    "mobile": {
      "sales": { "transform": "partial", "keep_last": 4 },
      "lead": { "transform": "partial", "keep_first": 3, "keep_last": 4 }
    },
    "open": { "sales": "show", "audit": { "transform": "show", "filter": "deny" } }
  },
  "relations": {
    "crm.members": {
      "columns": {
        "member_id": "id",
        "phone": "mobile",
        "nickname": "open",
        "note": { "type": "open", "lead": "null" },
        "city": { "audit": "show" }
      },
      "default": { "sales": { "transform": "constant", "value": "?" } }
    },
    "crm.staff": { "default": { "*": "show" } }
  }
})";

class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    LoadResult r = testing::Load(kRules);
    ASSERT_TRUE(r.ok()) << Join(r.errors);
    rules_ = r.rules;
  }
  std::shared_ptr<const RuleSet> rules_;
};

TEST_F(Resolve, PicksThePolicyByRole) {
  EXPECT_EQ(rules_->Resolve({"sales_li", "sales"})->name(), "sales");
  EXPECT_EQ(rules_->Resolve({"lead_zhao", "sales_lead"})->name(), "lead");
  EXPECT_EQ(rules_->Resolve({"intern_zhou"})->name(), "default");
  EXPECT_EQ(rules_->Resolve({})->name(), "default");
  EXPECT_TRUE(rules_->Resolve({"match_engine", "matcher"})->unmasked());
  // A masked role always wins over an unmasked one.
  auto both = rules_->Resolve({"matcher", "sales"});
  EXPECT_FALSE(both->unmasked());
  EXPECT_EQ(both->name(), "sales");
  EXPECT_EQ(rules_->Roles(),
            (std::vector<std::string>{"auditor", "matcher", "sales", "sales_lead"}));
}

TEST_F(Resolve, ColumnPrecedence) {
  auto sales = rules_->FindPolicy("sales");
  auto lead = rules_->FindPolicy("lead");
  ColumnRule phone = sales->Lookup("crm", "members", "phone");
  EXPECT_EQ(phone.origin, RuleOrigin::kType);
  EXPECT_EQ(phone.type_name, "mobile");
  EXPECT_EQ(phone.filter, Filter::kDeny);
  EXPECT_EQ(ApplyText(phone, kText, "13812345678"), "*******5678");
  EXPECT_EQ(ApplyText(lead->Lookup("crm", "members", "phone"), kText, "13812345678"),
            "138****5678");
  // The child inherits what it does not override; a column's own rule beats its type.
  EXPECT_EQ(lead->Lookup("crm", "members", "nickname").spec, "show");
  EXPECT_EQ(lead->Lookup("crm", "members", "nickname").filter, Filter::kAllow);
  EXPECT_EQ(lead->Lookup("crm", "members", "note").spec, "null");
  EXPECT_EQ(lead->Lookup("crm", "members", "note").origin, RuleOrigin::kColumn);
  EXPECT_EQ(sales->Lookup("crm", "members", "note").spec, "show");
  // "*" applies to every masked policy.
  ColumnRule id = sales->Lookup("crm", "members", "member_id");
  EXPECT_EQ(id.filter, Filter::kPseudonym);
  EXPECT_TRUE(id.transform->Reversible());
  EXPECT_EQ(rules_->FindPolicy("default")->Lookup("crm", "members", "member_id").spec, id.spec);
  // A listed column with no rule for the policy falls to the relation default, then NULL.
  EXPECT_EQ(ApplyText(sales->Lookup("crm", "members", "city"), kText, "杭州"), "?");
  EXPECT_EQ(sales->Lookup("crm", "members", "city").origin, RuleOrigin::kRelationDefault);
  ColumnRule unlisted = rules_->FindPolicy("default")->Lookup("crm", "members", "city");
  EXPECT_EQ(unlisted.origin, RuleOrigin::kUnlistedColumn);
  EXPECT_EQ(ApplyText(unlisted, kText, "杭州"), "NULL");
  // Columns not listed at all take the relation default.
  EXPECT_EQ(ApplyText(sales->Lookup("crm", "members", "wechat_id"), kText, "wx123"), "?");
  EXPECT_EQ(
      ApplyText(rules_->FindPolicy("audit")->Lookup("crm", "members", "wechat_id"), kText, "wx123"),
      "NULL");
  // Relations not listed: NULL, filter deny.
  ColumnRule undeclared = sales->Lookup("crm", "secrets", "x");
  EXPECT_EQ(undeclared.origin, RuleOrigin::kUndeclaredRelation);
  EXPECT_EQ(undeclared.filter, Filter::kDeny);
  EXPECT_EQ(ApplyText(undeclared, kText, "x"), "NULL");
  EXPECT_FALSE(sales->DeclaresRelation("crm", "secrets"));
  EXPECT_TRUE(sales->DeclaresRelation("crm", "staff"));
  // Unmasked: everything shown.
  ColumnRule raw = rules_->FindPolicy("matcher")->Lookup("crm", "secrets", "x");
  EXPECT_EQ(raw.origin, RuleOrigin::kUnmasked);
  EXPECT_EQ(ApplyText(raw, kInt8, "42"), "42");
}

TEST_F(Resolve, SeveralMaskedPoliciesNeverWiden) {
  auto combined = rules_->Resolve({"sales", "sales_lead"});
  auto reversed = rules_->Resolve({"sales_lead", "sales"});
  EXPECT_EQ(combined->name(), "lead+sales");
  EXPECT_EQ(reversed->name(), combined->name());
  // They disagree on phone: NULL, not the wider lead rule.
  ColumnRule phone = combined->Lookup("crm", "members", "phone");
  EXPECT_EQ(phone.origin, RuleOrigin::kCombined);
  EXPECT_EQ(ApplyText(phone, kText, "13812345678"), "NULL");
  EXPECT_EQ(phone.filter, Filter::kDeny);
  // They agree on nickname and member_id.
  EXPECT_EQ(combined->Lookup("crm", "members", "nickname").spec, "show");
  EXPECT_EQ(combined->Lookup("crm", "members", "member_id").filter, Filter::kPseudonym);
  // Same transform, different filters: the narrower filter.
  auto sa = rules_->Resolve({"sales", "auditor"});
  EXPECT_EQ(sa->Lookup("crm", "members", "nickname").spec, "show");
  EXPECT_EQ(sa->Lookup("crm", "members", "nickname").filter, Filter::kDeny);
  // Relation default for one, NULL for the other: NULL.
  EXPECT_EQ(ApplyText(sa->Lookup("crm", "members", "wechat_id"), kText, "wx"), "NULL");
  // Whatever any single masked policy shows as NULL stays NULL in every combination.
  for (const char* col : {"member_id", "phone", "nickname", "note", "city", "other"}) {
    for (const auto& roles : std::vector<std::vector<std::string>>{
             {"sales", "sales_lead"}, {"sales", "auditor"}, {"sales_lead", "auditor", "matcher"}}) {
      auto p = rules_->Resolve(roles);
      for (const auto& r : roles) {
        auto single = rules_->Resolve({r});
        if (single->unmasked()) continue;
        if (single->Lookup("crm", "members", col).spec == "null") {
          EXPECT_EQ(p->Lookup("crm", "members", col).spec, "null") << col << " " << p->name();
        }
      }
    }
  }
}

}  // namespace
}  // namespace pgveil::rules
