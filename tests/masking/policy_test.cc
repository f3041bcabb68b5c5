// Which policy a login gets, through the running proxy: a login in two policies is
// masked as the masked one, a login in none gets the default policy, SET ROLE changes
// nothing, and a table dropped and recreated under the running proxy stays masked.
#include <gtest/gtest.h>

#include <thread>

#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kMembersSql[] =
    "SELECT member_id, real_name, birth_date, phone, wechat_id, email, id_card_no, height_cm, "
    "monthly_income, registered_at FROM crm.members";

class PolicyTest : public MaskingTest {
 protected:
  static Table MustFetch(const std::string& conninfo, const std::string& sql) {
    auto t = Fetch(conninfo, sql);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : Table();
  }
};

TEST_F(PolicyTest, LoginInSalesAndMatcherIsMaskedAsSales) {
  Table sales = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  Table dual = MustFetch(Env().ProxyConnInfo(kDualLogin), kMembersSql);
  Table raw = MustFetch(Env().DirectConnInfo(kDualLogin), kMembersSql);
  ASSERT_EQ(sales.rows.size(), static_cast<size_t>(kMembers));
  ASSERT_EQ(raw.rows.size(), sales.rows.size());
  EXPECT_EQ(dual.types, sales.types);
  EXPECT_EQ(DiffRows(dual.rows, sales.rows, sales.names), "")
      << "a login in sales and matcher must see what sales sees";
  EXPECT_TRUE(dual.rows != raw.rows);
}

TEST_F(PolicyTest, LoginInNoPolicyGetsTheDefaultPolicy) {
  ASSERT_TRUE(Env()
                  .Exec("SET client_min_messages = warning; DROP ROLE IF EXISTS temp_helper;"
                        "SET password_encryption = 'scram-sha-256';"
                        "CREATE ROLE temp_helper LOGIN PASSWORD 'veil-demo';"
                        "GRANT USAGE ON SCHEMA crm TO temp_helper;"
                        "GRANT SELECT ON ALL TABLES IN SCHEMA crm TO temp_helper;")
                  .ok());
  for (const char* login : {"intern_zhou", "temp_helper"}) {
    Table t = MustFetch(Env().ProxyConnInfo(login), kMembersSql);
    ASSERT_EQ(t.rows.size(), static_cast<size_t>(kMembers)) << login;
    for (const auto& row : t.rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        ASSERT_FALSE(row[c].has_value()) << login << ": " << t.names[c] << " must be NULL";
      }
    }
    Table stores = MustFetch(Env().ProxyConnInfo(login), "SELECT * FROM crm.stores");
    EXPECT_EQ(
        DiffRows(stores.rows,
                 MustFetch(Env().DirectConnInfo("postgres"), "SELECT * FROM crm.stores").rows),
        "")
        << login << " sees stores as stored";
  }
}

TEST_F(PolicyTest, SetRoleToAnUnmaskedRoleChangesNothing) {
  Table sales = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  auto conn = it::Connect(Env().ProxyConnInfo(kDualLogin));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  // Refused by the query guard; and whatever a statement does, the policy is the
  // login's.
  for (const char* set : {"SET ROLE matcher", "SELECT set_config('role', 'matcher', false)",
                          "SET SESSION ROLE matcher; RESET ROLE; SET ROLE matcher",
                          "BEGIN; SET LOCAL ROLE matcher", "SET SESSION AUTHORIZATION matcher"}) {
    it::PgResult res(PQexec(conn->get(), set));
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_FATAL_ERROR) << set;
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    EXPECT_STREQ(state, "42501") << set;
    auto t = Fetch(conn->get(), kMembersSql);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(DiffRows(t->rows, sales.rows, sales.names), "")
        << "after " << set << " the session must stay masked";
  }
  // Binary results too.
  auto bin = Fetch(conn->get(), "SELECT phone, id_card_no FROM crm.members", 1);
  ASSERT_TRUE(bin.ok());
  for (const auto& row : bin->rows) {
    ASSERT_FALSE(row[1].has_value());
    if (row[0]) {
      ASSERT_EQ(row[0]->substr(0, 4), "****");
    }
  }
}

// crm.members is dropped and recreated (columns in reverse order, so every attnum
// changes) while pgveil runs and while a sales session that already read it stays open.
// Every value sales sees meanwhile must be masked or NULL, never raw, and masking must
// be back to the rules within the catalog refresh.
TEST_F(PolicyTest, TableDroppedAndRecreatedStaysMasked) {
  Table raw_before = MustFetch(Env().DirectConnInfo("postgres"), kMembersSql);
  Table sales_before = MustFetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
  ASSERT_EQ(raw_before.rows.size(), static_cast<size_t>(kMembers));
  auto open = it::Connect(Env().ProxyConnInfo("sales_wang"));
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(Fetch(open->get(), kMembersSql).ok());

  Status st = Env().Exec(
      "SET client_min_messages = warning;"
      "CREATE TABLE public.members_saved AS SELECT * FROM crm.members;"
      "DROP TABLE crm.members CASCADE;"
      "DO $$ DECLARE cols text; names text; BEGIN "
      "SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' "
      "ORDER BY attnum DESC), string_agg(quote_ident(attname), ', ' ORDER BY attnum DESC) "
      "INTO cols, names FROM pg_attribute "
      "WHERE attrelid = 'public.members_saved'::regclass AND attnum > 0 AND NOT attisdropped;"
      "EXECUTE format('CREATE TABLE crm.members (%s)', cols);"
      "EXECUTE format('INSERT INTO crm.members (%s) SELECT %s FROM public.members_saved', "
      "names, names);"
      "END $$;"
      "GRANT SELECT ON crm.members TO sales, sales_lead, matcher, intern_zhou;"
      "DROP TABLE public.members_saved;");
  ASSERT_TRUE(st.ok()) << st.ToString();
  // Same rows, same physical order: the raw values are those read before.
  Table raw_after = MustFetch(Env().DirectConnInfo("postgres"), kMembersSql);
  ASSERT_TRUE(raw_after.rows == raw_before.rows);

  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  bool masked_again = false;
  int rounds = 0;
  while (!masked_again && std::chrono::steady_clock::now() < deadline) {
    for (PGconn* conn : {open->get(), static_cast<PGconn*>(nullptr)}) {
      auto t =
          conn ? Fetch(conn, kMembersSql) : Fetch(Env().ProxyConnInfo("sales_li"), kMembersSql);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_EQ(t->rows.size(), raw_before.rows.size());
      ++rounds;
      for (size_t r = 0; r < t->rows.size(); ++r) {
        for (size_t c = 0; c < t->names.size(); ++c) {
          const Cell& got = t->rows[r][c];
          const Cell& raw = raw_before.rows[r][c];
          if (!got || !raw) continue;
          ASSERT_TRUE(*got != *raw)
              << t->names[c] << " row " << r << " reached sales raw after the table was recreated";
        }
      }
      if (conn == nullptr) masked_again = t->rows == sales_before.rows;
    }
    if (!masked_again) std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_TRUE(masked_again) << "masking did not come back to the rules within 20 s (" << rounds
                            << " scans)";
}

}  // namespace
}  // namespace pgveil::masking
