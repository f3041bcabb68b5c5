// The usability corpus (data/usability.tsv): legitimate CRM statements that sales_li
// must get served through pgveil, every one, with exactly the rows the matcher gets
// directly once masked by the rules (pseudonyms in the statement turned into the real
// ids behind them). Besides the corpus: psql's \d family, and a call logged and a member
// claimed by pseudonym that the matcher then finds under the real id.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "harness/pq_util.h"
#include "harness/subprocess.h"
#include "masking_env.h"
#include "suite.h"

namespace pgveil::bypass {
namespace {

using masking::Env;
using std::chrono::milliseconds;

constexpr char kCorpus[] = "usability.tsv";

class UsabilityTest : public masking::MaskingTest, public ::testing::WithParamInterface<Entry> {
 protected:
  static void TearDownTestSuite() {
    if (BypassSuite* s = Suite()) std::cout << s->Summary("usability") << std::flush;
  }
};

TEST_P(UsabilityTest, ServedWithTheMaskedResult) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  const Entry& e = GetParam();
  ASSERT_EQ(e.expect, "serve") << "every usability statement must be served";
  Verdict v = s->Judge(e);
  s->Tally("usability", e, v);
  for (const auto& f : v.failures) {
    ADD_FAILURE() << e.id << " [" << e.klass << "] " << f << "\n  line " << e.line << ": " << e.sql;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, UsabilityTest, ::testing::ValuesIn(CorpusForRegistration(kCorpus)),
                         [](const auto& info) { return EntryName(info.param); });

class UsabilityExtraTest : public masking::MaskingTest {};

TEST_F(UsabilityExtraTest, CorpusHasAtLeastFiftyStatementsOfEveryForm) {
  auto corpus = LoadCorpus(CorpusPath(kCorpus));
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  EXPECT_GE(corpus->size(), 50u);
  std::set<std::string> classes, modes;
  for (const auto& e : *corpus) {
    classes.insert(e.klass);
    modes.insert(e.mode);
  }
  for (const char* c : {"profile-card", "pool-listing", "who-viewed-me", "chats", "log-call",
                        "claim", "counts", "paging", "prepared", "pipelined"}) {
    EXPECT_TRUE(classes.count(c)) << "no statement of class " << c;
  }
  for (const char* m : {"q", "x", "xb", "p", "w"}) EXPECT_TRUE(modes.count(m)) << "mode " << m;
}

// psql's describe commands read only the catalog: the same output through pgveil as
// sales_li as directly as the matcher.
TEST_F(UsabilityExtraTest, PsqlDescribeCommandsWork) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  auto bin = it::FindPgBinDir();
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  auto run = [&](const std::string& conninfo, const std::string& name) {
    const std::string out = Env().dir() + "/psql-" + name + ".out";
    std::remove(out.c_str());
    Status st = Env().Run({*bin + "/psql", "-X",
                           "-v",           "ON_ERROR_STOP=1",
                           "-d",           conninfo,
                           "-c",           "\\d crm.members",
                           "-c",           "\\dt crm.*",
                           "-c",           "\\dv public.*",
                           "-c",           "\\dn",
                           "-c",           "\\di crm.*",
                           "-c",           "\\d+ crm.contact_log",
                           "-c",           "\\df public.*",
                           "-c",           "\\dp crm.*"},
                          {"PGCLIENTENCODING=UTF8"}, out, milliseconds(60000));
    EXPECT_TRUE(st.ok()) << name << ": " << st.ToString() << "\n" << it::FileTail(out);
    return it::ReadFileOrEmpty(out);
  };
  const std::string masked = run(s->TapConnInfo(kSalesLogin), "sales");
  const std::string direct = run(Env().DirectConnInfo(kMatcherLogin), "matcher");
  EXPECT_NE(direct.find("monthly_income"), std::string::npos);
  EXPECT_EQ(masked, direct);
}

// Logging a call and claiming a member by the pseudonym on screen: stored under the
// real id, as the matcher sees it; shown back to sales under the pseudonym.
TEST_F(UsabilityExtraTest, CallLoggedAndMemberClaimedByPseudonymLandUnderTheRealId) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  const std::string real = s->anchors().real_ids().at("pooled2");
  auto pseudonym = s->model().Pseudonym(real);
  ASSERT_TRUE(pseudonym.ok());
  auto sales = it::Connect(s->TapConnInfo(kSalesLogin));
  ASSERT_TRUE(sales.ok()) << sales.status().ToString();
  Outcome ins =
      RunStatement(sales->get(), Mode::kSimple,
                   "INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note) "
                   "VALUES (3002, " +
                       *pseudonym + ", 'call', 'callback', 'bypass round trip')",
                   {});
  ASSERT_FALSE(ins.error) << ins.sqlstate << " " << ins.message;
  Outcome claim = RunStatement(sales->get(), Mode::kExtended,
                               "UPDATE crm.resource_claims SET pool = 'assigned', staff_id = 3002, "
                               "claimed_at = now() WHERE member_id = $1 AND pool <> 'assigned'",
                               {{*pseudonym}});
  ASSERT_FALSE(claim.error) << claim.sqlstate << " " << claim.message;
  auto stored =
      Env().Query("SELECT (SELECT count(*) FROM crm.contact_log WHERE member_id = " + real +
                  " AND note = 'bypass round trip'), (SELECT count(*) FROM crm.resource_claims "
                  "WHERE member_id = " +
                  real + " AND pool = 'assigned' AND staff_id = 3002)");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ((*stored)[0][0], std::optional<std::string>("1")) << "the call under the real id";
  EXPECT_EQ((*stored)[0][1], std::optional<std::string>("1")) << "the claim under the real id";
  Outcome back = RunStatement(sales->get(), Mode::kSimple,
                              "SELECT member_id, outcome FROM crm.contact_log WHERE member_id = " +
                                  *pseudonym + " AND outcome = 'callback' AND staff_id = 3002",
                              {});
  ASSERT_FALSE(back.error) << back.sqlstate << " " << back.message;
  ASSERT_EQ(back.results.size(), 1u);
  ASSERT_GE(back.results[0].rows.size(), 1u);
  for (const auto& row : back.results[0].rows) {
    EXPECT_EQ(row[0], std::optional<std::string>(*pseudonym));
  }
  ASSERT_TRUE(Env().Exec("DELETE FROM crm.contact_log WHERE note = 'bypass round trip'").ok());
}

}  // namespace
}  // namespace pgveil::bypass
