// Time to analyse one statement of a masked session: parse (libpg_query) + lineage +
// filter checks + pseudonym translation. Target: <= 50 us for a typical CRM statement
// uncached; the proxy caches verdicts by text, which the cached case measures.
#include <benchmark/benchmark.h>

#include "demo_policy.h"
#include "pgveil/guard/analyzer.h"

namespace {

using pgveil::guard::Analyzer;

const char* const kStatements[] = {
    // 0: profile card by pseudonym
    "SELECT member_id, nickname, real_name, gender, birth_date, phone, wechat_id, qq, email, "
    "id_card_no, province, city, height_cm, weight_kg, education, occupation, monthly_income, "
    "marital_status, has_house, has_car, photo_url, about_me, registered_at, last_login_at, grade, "
    "do_not_contact FROM crm.members WHERE member_id = 4611686018427387",
    // 1: pool listing with aligned filters
    "SELECT m.member_id, m.nickname, m.city, m.monthly_income, c.pool, c.status FROM "
    "crm.resource_claims c JOIN crm.members m ON m.member_id = c.member_id WHERE c.status = "
    "'open' AND m.monthly_income >= 8000 AND m.height_cm >= 160 ORDER BY m.grade, m.nickname "
    "LIMIT 50",
    // 2: who viewed me
    "SELECT v.viewer_id, m.nickname, m.city, v.viewed_at FROM crm.profile_views v JOIN "
    "crm.members m ON m.member_id = v.viewer_id WHERE v.viewed_id = $1 ORDER BY m.city, "
    "m.nickname",
    // 3: counts per city
    "SELECT city, count(*) FROM crm.members GROUP BY city ORDER BY 2 DESC",
    // 4: log a call
    "INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note) VALUES (7, $1, "
    "'call', 'no answer', 'called')",
};

std::shared_ptr<const Analyzer> Shared() {
  static auto* a = new std::shared_ptr<const Analyzer>(
      Analyzer::For(pgveil::guard::testing::DemoPolicy("sales")));
  return *a;
}

void BM_AnalyzeUncached(benchmark::State& state) {
  auto a = Shared();
  const char* sql = kStatements[state.range(0)];
  for (auto _ : state) {
    auto v = a->AnalyzeUncached(sql);
    if (v->refused) state.SkipWithError("refused");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_AnalyzeUncached)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

void BM_AnalyzeCached(benchmark::State& state) {
  auto a = Shared();
  const char* sql = kStatements[state.range(0)];
  a->Analyze(sql);
  for (auto _ : state) benchmark::DoNotOptimize(a->Analyze(sql));
}
BENCHMARK(BM_AnalyzeCached)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
