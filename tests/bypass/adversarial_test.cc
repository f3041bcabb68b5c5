// The adversarial corpus (data/attacks.tsv): every statement runs as sales_li through
// pgveil and must be refused (SQLSTATE 42501 or 0A000, no literal of the statement in
// the error, nothing of it reaching the server, the session usable afterwards) or served
// with exactly the masked result; every byte the session received is scanned for the
// demo's protected raw values. Besides the corpus: the scanner is shown to see raw values
// on the same path without pgveil, and the extended protocol recovers from a refusal as
// PostgreSQL does (skip until Sync).
#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "harness/pq_util.h"
#include "masking_env.h"
#include "suite.h"

namespace pgveil::bypass {
namespace {

using masking::Env;

constexpr char kCorpus[] = "attacks.tsv";

class AttackTest : public masking::MaskingTest, public ::testing::WithParamInterface<Entry> {
 protected:
  static void TearDownTestSuite() {
    if (BypassSuite* s = Suite()) std::cout << s->Summary("attacks") << std::flush;
  }
};

TEST_P(AttackTest, RefusedOrServedMaskedWithoutLeaks) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  const Entry& e = GetParam();
  Verdict v = s->Judge(e);
  s->Tally("attacks", e, v);
  for (const auto& f : v.failures) {
    ADD_FAILURE() << e.id << " [" << e.klass << "] expected " << e.expect << ", got " << v.outcome
                  << ": " << f << "\n  line " << e.line << ": " << e.sql;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, AttackTest, ::testing::ValuesIn(CorpusForRegistration(kCorpus)),
                         [](const auto& info) { return EntryName(info.param); });

class AttackCorpusTest : public masking::MaskingTest {};

// The issue asks for at least 150 statements covering every class it names.
TEST_F(AttackCorpusTest, CoversEveryClassOfTheIssue) {
  auto corpus = LoadCorpus(CorpusPath(kCorpus));
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  EXPECT_GE(corpus->size(), 150u);
  std::set<std::string> ids, classes;
  for (const auto& e : *corpus) {
    EXPECT_TRUE(ids.insert(e.id).second) << "duplicate id " << e.id;
    classes.insert(e.klass);
  }
  for (const char* c : {"statement-class",
                        "lineage-alias",
                        "lineage-star",
                        "lineage-subquery",
                        "lineage-cte",
                        "lineage-setop",
                        "lineage-lateral",
                        "lineage-view",
                        "lineage-control",
                        "whole-row",
                        "sql-from-string",
                        "xml-json-mapping",
                        "set-config-notify-sleep",
                        "non-allowlisted",
                        "filter-deny",
                        "filter-aligned",
                        "filter-pseudonym",
                        "filter-allow",
                        "error-oracle",
                        "side-channel",
                        "file-large-object",
                        "copy-file-program",
                        "explain-analyze",
                        "parse-settings",
                        "set-role",
                        "session-authorization",
                        "do",
                        "call",
                        "ddl",
                        "lock",
                        "vacuum",
                        "load",
                        "multi-statement",
                        "prepared",
                        "extended-protocol"}) {
    EXPECT_TRUE(classes.count(c)) << "no statement of class " << c;
  }
}

// The proof that the scanner would see a leak on this path: the same tap in front of
// PostgreSQL itself, where sales_li reads raw values.
TEST_F(AttackCorpusTest, ScannerSeesRawValuesThroughATapWithoutPgveil) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  auto tap = WireTap::Start(Env().server_port());
  ASSERT_TRUE(tap.ok()) << tap.status().ToString();
  {
    auto conn = it::Connect(
        "host=127.0.0.1 port=" + std::to_string((*tap)->port()) + " dbname=" + it::kDatabase +
        " user=sales_li password=" + masking::kPassword + " sslmode=disable gssencmode=disable");
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Outcome o = RunStatement(conn->get(), Mode::kSimple,
                             "SELECT phone, email, real_name FROM crm.members LIMIT 20", {});
    ASSERT_FALSE(o.error) << o.message;
  }
  for (int k = 0; k < 200 && !(*tap)->Connection(0).closed; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(s->scanner().Scan((*tap)->Connection(0).to_client, "direct").size(), 20u);
}

// A refused statement in a pipeline: the server-side state is as if PostgreSQL had
// failed it: the error, then every later statement up to the Sync aborted, then the
// next statement after the Sync served.
TEST_F(AttackCorpusTest, PipelineSkipsToSyncAfterARefusal) {
  BypassSuite* s = Suite();
  ASSERT_NE(s, nullptr);
  auto conn = it::Connect(s->TapConnInfo(kSalesLogin));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  PGconn* c = conn->get();
  ASSERT_TRUE(PQenterPipelineMode(c));
  const char* good = "SELECT name FROM crm.stores WHERE store_id = 3";
  const char* bad = "SELECT phone || '' FROM crm.members";
  ASSERT_TRUE(PQsendQueryParams(c, good, 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_TRUE(PQsendQueryParams(c, bad, 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_TRUE(PQsendQueryParams(c, good, 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_TRUE(PQpipelineSync(c));
  ASSERT_TRUE(PQsendQueryParams(c, good, 0, nullptr, nullptr, nullptr, nullptr, 0));
  ASSERT_TRUE(PQpipelineSync(c));
  std::vector<std::string> seen;
  for (int query = 0; query < 6; ++query) {
    while (PGresult* r = PQgetResult(c)) {
      std::string st = PQresStatus(PQresultStatus(r));
      if (PQresultStatus(r) == PGRES_FATAL_ERROR) {
        const char* code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        st += std::string(":") + (code ? code : "?");
      }
      seen.push_back(st);
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
  }
  const std::vector<std::string> want = {"PGRES_TUPLES_OK",        "PGRES_FATAL_ERROR:42501",
                                         "PGRES_PIPELINE_ABORTED", "PGRES_PIPELINE_SYNC",
                                         "PGRES_TUPLES_OK",        "PGRES_PIPELINE_SYNC"};
  std::string got;
  for (const auto& x : seen) got += x + " ";
  EXPECT_EQ(seen, want) << got;
  PQexitPipelineMode(c);
}

}  // namespace
}  // namespace pgveil::bypass
