// A raw-wire leak test: a masked session (raw_sales, policy sales) spoken to with the
// harness's own protocol client, and every byte it receives scanned for the protected
// raw values of crm.members (leak_scanner.h) — across simple and extended queries,
// binary results, COPY in text, CSV and binary, errors that echo values, notices and
// NOTIFY payloads. The same scenarios straight to PostgreSQL must show the needles: that
// is the proof that the scanner would see a leak.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "harness/raw_client.h"
#include "leak_scanner.h"
#include "masking_env.h"
#include "raw_leak_test.h"

namespace pgveil::masking {
namespace {

using it::BackendMessage;
using std::chrono::seconds;
namespace fe = it::fe;
namespace be = it::be;

using Session = RawSession;

// Binary Bind with one result format code.
std::string BindBinary(std::string_view portal, std::string_view statement) {
  return fe::Bind(portal, statement, {}, /*binary_results=*/true);
}

class LeakTest : public RawLeakTest {
 protected:
  static void SetUpTestSuite() {
    LoadScanner();
    // Helpers a superuser provides; the masked session may call them.
    ASSERT_TRUE(Env()
                    .Exec("CREATE OR REPLACE FUNCTION public.echo_contact(n int) RETURNS int "
                          "LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN "
                          "FOR r IN SELECT phone, email, id_card_no FROM crm.members "
                          "ORDER BY member_id LIMIT n LOOP "
                          "RAISE NOTICE 'call % now', r.phone; "
                          "RAISE NOTICE 'mail %, id %', r.email, r.id_card_no; "
                          "END LOOP; RETURN n; END $$;"
                          "GRANT EXECUTE ON FUNCTION public.echo_contact(int) TO PUBLIC;")
                    .ok());
  }
};

constexpr char kAllMembers[] = "SELECT * FROM crm.members";
constexpr char kProtected[] =
    "SELECT member_id, phone, id_card_no, wechat_id, qq, email, real_name, monthly_income, "
    "about_me FROM crm.members";

// The scanner itself: a phone written with separators, a +86 prefix or full-width
// digits is found; its masked form and a different number are not.
TEST_F(LeakTest, ScannerFindsPhonesWrittenAsPeopleWriteThem) {
  auto raw = Env().Query("SELECT phone FROM crm.members WHERE phone ~ '^1[0-9]{10}$' LIMIT 1");
  ASSERT_TRUE(raw.ok() && raw->size() == 1);
  const std::string p = *(*raw)[0][0];
  std::string fullwidth;
  for (char c : p) {
    fullwidth += "\xEF\xBC";
    fullwidth.push_back(static_cast<char>(0x90 + (c - '0')));
  }
  for (const std::string& text :
       {p, "call " + p.substr(0, 3) + " " + p.substr(3, 4) + " " + p.substr(7) + " now",
        p.substr(0, 3) + "-" + p.substr(3, 4) + "-" + p.substr(7), "+86 " + p, "+86" + p,
        "tel:" + fullwidth}) {
    EXPECT_FALSE(scanner_->Scan(text, "probe").empty()) << "a phone written like this is missed";
  }
  EXPECT_TRUE(scanner_->Scan("*******" + p.substr(7), "probe").empty());
  EXPECT_TRUE(scanner_->Scan(p.substr(0, 10), "probe").empty());
}

TEST_F(LeakTest, SimpleQueries) {
  ExpectNoLeak("simple", [](Session& s, bool) {
    auto got = s.Run(fe::Query(std::string(kAllMembers) + ";" + kProtected), 1);
    EXPECT_EQ(Count(got, 'D'), 2 * kMembers);
  });
}

TEST_F(LeakTest, ExtendedQueriesTextAndBinary) {
  ExpectNoLeak("extended", [](Session& s, bool) {
    std::string script;
    // Unnamed statement, Describe of the portal, text results.
    script += fe::Parse("", kAllMembers) + fe::Bind("", "", {}) + fe::Describe('P', "") +
              fe::Execute("", 0) + fe::Sync();
    // Named statement, binary results, no Describe at all; executed twice.
    script += fe::Parse("p1", kProtected) + BindBinary("", "p1") + fe::Execute("", 0) + fe::Sync() +
              BindBinary("", "p1") + fe::Execute("", 0) + fe::Sync();
    // A row-limited portal executed in pieces (PortalSuspended) with a Flush between.
    script += fe::Bind("c1", "p1", {}) + fe::Execute("c1", 700) + fe::Flush() +
              fe::Execute("c1", 700) + fe::Execute("c1", 0) + fe::Sync();
    auto got = s.Run(script, 4);
    EXPECT_EQ(Count(got, 'D'), 4 * kMembers);
    EXPECT_EQ(Count(got, 's'), 2);
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
  });
}

TEST_F(LeakTest, CopyTextCsvAndBinary) {
  ExpectNoLeak("copy", [](Session& s, bool) {
    auto got =
        s.Run(fe::Query("COPY crm.members TO STDOUT; "
                        "COPY crm.members TO STDOUT (FORMAT csv, HEADER); "
                        "COPY crm.members (phone, email, real_name, monthly_income, qq) "
                        "TO STDOUT (FORMAT binary)"));
    EXPECT_EQ(Count(got, 'H'), 3);
    EXPECT_GE(Count(got, 'd'), 3 * kMembers);
    // COPY through the extended protocol.
    got = s.Run(fe::Parse("", "COPY crm.members TO STDOUT (FORMAT csv)") + fe::Bind("", "", {}) +
                fe::Execute("", 0) + fe::Sync());
    EXPECT_EQ(Count(got, 'H'), 1);
    EXPECT_EQ(Count(got, 'd'), kMembers);
  });
}

TEST_F(LeakTest, CopyWithDelimiterQuoteAndNullOptions) {
  ExpectNoLeak("copy options", [](Session& s, bool) {
    auto got =
        s.Run(fe::Query("COPY crm.members TO STDOUT (DELIMITER '|'); "
                        "COPY crm.members TO STDOUT (NULL 'nil', DELIMITER ','); "
                        "COPY crm.members TO STDOUT (FORMAT csv, DELIMITER ';', QUOTE '''', "
                        "FORCE_QUOTE *); "
                        "COPY crm.members (real_name, phone) TO STDOUT (FORMAT csv, HEADER, "
                        "ESCAPE '\\')"));
    // Refusing is fine, masking is fine, raw values are not.
    EXPECT_EQ(Count(got, 'Z'), 1);
  });
}

TEST_F(LeakTest, CursorsReturningWholeRowsAndAggregates) {
  ExpectNoLeak("cursors and expressions", [](Session& s, bool proxied) {
    auto got = s.Run(
        fe::Query("BEGIN; DECLARE c CURSOR FOR SELECT * FROM crm.members; FETCH 100 FROM c; "
                  "FETCH ALL FROM c; CLOSE c; COMMIT; "
                  "SELECT (SELECT phone FROM crm.members x WHERE x.member_id = m.member_id) FROM "
                  "crm.members m; "
                  "UPDATE crm.resource_claims SET status = status WHERE pool = 'store' "
                  "RETURNING member_id, staff_id, status"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_GE(Count(got, 'D'), 2 * kMembers + 1);
    // Whole rows and aggregates over protected columns: refused through pgveil.
    std::string script;
    for (const char* sql :
         {"SELECT m FROM crm.members m", "SELECT row_to_json(m) FROM crm.members m",
          "SELECT string_agg(phone, ',') FROM crm.members"}) {
      script += fe::Query(sql);
    }
    got = s.Run(script, 3);
    if (proxied) {
      EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"42501", "42501", "42501"}));
      EXPECT_EQ(Count(got, 'D'), 0);
    } else {
      EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    }
  });
}

// Views and catalogs the rules do not list: pg_stats holds column values of the tables
// a login may read (histogram bounds, most common values). A view created after pgveil
// read the catalog is unknown to it: refused (and the catalog is refreshed).
TEST_F(LeakTest, UnlistedViewsAndStatisticsCatalogs) {
  ASSERT_TRUE(Env()
                  .Exec("ANALYZE crm.members;"
                        "CREATE OR REPLACE VIEW public.member_contacts AS "
                        "SELECT member_id, real_name, phone, email FROM crm.members;"
                        "GRANT SELECT ON public.member_contacts TO PUBLIC;")
                  .ok());
  ExpectNoLeak("views and catalogs", [](Session& s, bool proxied) {
    std::string script;
    for (const char* sql :
         {"SELECT attname, histogram_bounds::text, most_common_vals::text FROM pg_stats "
          "WHERE schemaname = 'crm' AND tablename = 'members'",
          "SELECT * FROM pg_stats WHERE schemaname = 'crm'",
          "SELECT * FROM pg_catalog.pg_statistic"}) {
      script += fe::Query(sql);
    }
    auto got = s.Run(script, 3);
    if (proxied) {
      EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"42501", "42501", "42501"}));
    }
    // The view: masked like the columns it shows, once pgveil knows it.
    got = s.Run(fe::Query("SELECT * FROM public.member_contacts"));
    EXPECT_EQ(Count(got, 'Z'), 1);
  });
}

// COPY (query) TO STDOUT: the query is checked by the guard and its rows are masked by
// the lineage of its columns, in text, CSV and binary; computing on a protected column
// is refused.
TEST_F(LeakTest, CopyOfAQuery) {
  ExpectNoLeak("copy of a query", [](Session& s, bool proxied) {
    auto got = s.Run(fe::Query(
        "COPY (SELECT member_id, phone, email, upper(city), about_me FROM crm.members) TO "
        "STDOUT; COPY (SELECT m.phone, c.body FROM crm.members m JOIN crm.chat_messages c ON "
        "c.sender_id = m.member_id) TO STDOUT (FORMAT csv, HEADER)"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_EQ(Count(got, 'H'), 2);
    EXPECT_GE(Count(got, 'd'), kMembers);
    got = s.Run(fe::Parse("",
                          "COPY (SELECT phone, id_card_no, monthly_income FROM crm.members) "
                          "TO STDOUT (FORMAT binary)") +
                fe::Bind("", "", {}) + fe::Execute("", 0) + fe::Sync());
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_GE(Count(got, 'd'), kMembers);
    got = s.Run(fe::Query("COPY (SELECT phone || '' FROM crm.members) TO STDOUT"));
    if (proxied) {
      EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"42501"});
      EXPECT_EQ(Count(got, 'd'), 0);
    }
  });
}

// Constraint errors echo the failing row. A masked login may copy a chat message (with
// the phone numbers in it) into a call note, whose rule is the same; the check on the
// channel then fails with the row in the error.
TEST_F(LeakTest, ConstraintViolationsEchoTheFailingRow) {
  auto ids = Env().Query(
      "SELECT p.message_id::text FROM crm_truth.chat_pii p JOIN crm.members m ON m.phone = "
      "p.raw_fragment JOIN crm.chat_messages c USING (message_id) WHERE p.kind = 'phone' AND "
      "octet_length(substr(c.body, 1, position(p.raw_fragment IN c.body) + 11)) < 60 "
      "ORDER BY p.message_id LIMIT 3");
  ASSERT_TRUE(ids.ok() && ids->size() == 3) << ids.status().ToString();
  const std::string list = *(*ids)[0][0] + ", " + *(*ids)[1][0] + ", " + *(*ids)[2][0];
  ExpectNoLeak("constraint errors", [&](Session& s, bool) {
    const std::string bad_channel =
        "INSERT INTO crm.contact_log (staff_id, member_id, channel, note) SELECT 1, sender_id, "
        "'fax', body FROM crm.chat_messages WHERE message_id IN (" +
        list + ")";
    const std::string bad_pool =
        "INSERT INTO crm.resource_claims (member_id, pool, status) SELECT sender_id, 'nowhere', "
        "'open' FROM crm.chat_messages WHERE message_id IN (" +
        list + ")";
    std::string script = fe::Query(bad_channel) + fe::Query(bad_pool);
    // The same through the extended protocol.
    script += fe::Parse("", bad_channel) + fe::Bind("", "", {}) + fe::Execute("", 0) + fe::Sync();
    auto got = s.Run(script, 3);
    EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"23514", "23514", "23514"}));
  });
}

// Runs each statement as its own simple query (plus `extended` through the extended
// protocol with binary results); every one must fail.
void RunFailingStatements(Session& s, const std::vector<std::string>& statements,
                          const std::string& extended) {
  std::string script;
  for (const auto& sql : statements) script += fe::Query(sql);
  script += fe::Parse("", extended) + BindBinary("", "") + fe::Execute("", 0) + fe::Sync();
  auto got = s.Run(script, static_cast<int>(statements.size()) + 1);
  EXPECT_EQ(Sqlstates(got).size(), statements.size() + 1) << Join(Sqlstates(got));
}

TEST_F(LeakTest, BadCastsThatEchoValues) {
  ExpectNoLeak("casts", [](Session& s, bool) {
    RunFailingStatements(
        s,
        {"SELECT phone::int FROM crm.members", "SELECT id_card_no::bigint FROM crm.members",
         "SELECT email::int FROM crm.members",
         "SELECT qq::smallint FROM crm.members WHERE qq IS NOT NULL",
         "SELECT monthly_income::smallint FROM crm.members WHERE monthly_income > 40000",
         "SELECT wechat_id::numeric FROM crm.members", "SELECT phone::inet FROM crm.members",
         "SELECT email::uuid FROM crm.members", "SELECT real_name::date FROM crm.members",
         "SELECT to_timestamp(id_card_no, 'YYYY-MM-DD')::int FROM crm.members",
         "SELECT phone::int4range FROM crm.members"},
        "SELECT phone::int FROM crm.members");
  });
}

// Casts to the reg* types fail with `relation "<value>" does not exist` and the like:
// the value is quoted after a word, not after a colon.
TEST_F(LeakTest, NameLookupErrorsThatEchoValues) {
  ExpectNoLeak("lookups", [](Session& s, bool) {
    RunFailingStatements(
        s,
        {"SELECT phone::regclass FROM crm.members", "SELECT email::regclass FROM crm.members",
         "SELECT wechat_id::regrole FROM crm.members",
         "SELECT real_name::regclass FROM crm.members",
         "SELECT real_name::regtype FROM crm.members",
         "SELECT real_name::regproc FROM crm.members"},
        "SELECT real_name::regnamespace FROM crm.members");
  });
}

// A trigger raises notices with the phone of every member a call is logged for: the
// masked login may log calls, and the notices it receives are scrubbed. Calling the
// function that raises them directly is refused (not a built-in).
TEST_F(LeakTest, NoticesRaisedByATriggerAndAFunction) {
  ASSERT_TRUE(Env()
                  .Exec("CREATE OR REPLACE FUNCTION public.echo_call() RETURNS trigger "
                        "LANGUAGE plpgsql SECURITY DEFINER AS $$ DECLARE p text; BEGIN "
                        "SELECT phone INTO p FROM crm.members WHERE member_id = NEW.member_id; "
                        "RAISE NOTICE 'call % now', p; RETURN NEW; END $$;"
                        "DROP TRIGGER IF EXISTS echo_call ON crm.contact_log;"
                        "CREATE TRIGGER echo_call AFTER INSERT ON crm.contact_log "
                        "FOR EACH ROW EXECUTE FUNCTION public.echo_call();")
                  .ok());
  ExpectNoLeak("notices", [](Session& s, bool proxied) {
    const char* log =
        "INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT (SELECT "
        "min(staff_id) FROM crm.staff), member_id, 'call' FROM crm.members m WHERE m.city IS "
        "NOT NULL LIMIT 20";
    auto got = s.Run(fe::Query(std::string("BEGIN; ") + log + "; ROLLBACK"));
    EXPECT_EQ(Count(got, 'N'), 20) << Join(Sqlstates(got));
    got = s.Run(fe::Query("BEGIN") + fe::Parse("", log) + fe::Bind("", "", {}) +
                    fe::Execute("", 0) + fe::Sync() + fe::Query("ROLLBACK"),
                3);
    EXPECT_EQ(Count(got, 'N'), 20);
    got = s.Run(fe::Query("SELECT public.echo_contact(20)"));
    EXPECT_EQ(Count(got, 'N'), proxied ? 0 : 40);
    if (proxied) {
      EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"42501"});
    }
  });
  ASSERT_TRUE(Env().Exec("DROP TRIGGER echo_call ON crm.contact_log").ok());
}

// FunctionCall carries no statement text that pgveil could check: refused with 42501.
// Directly, the same call raises the notices with raw values.
TEST_F(LeakTest, FunctionCallIsRefused) {
  auto oid = Env().Query("SELECT 'public.echo_contact(int)'::regprocedure::oid::text");
  ASSERT_TRUE(oid.ok()) << oid.status().ToString();
  const uint32_t fn = static_cast<uint32_t>(std::stoul(*(*oid)[0][0]));
  std::string body;
  auto put32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<char>(v >> shift));
  };
  auto put16 = [&](uint16_t v) {
    body.push_back(static_cast<char>(v >> 8));
    body.push_back(static_cast<char>(v));
  };
  put32(fn);
  put16(1);  // one argument format code: text
  put16(0);
  put16(1);  // one argument: "5"
  put32(1);
  body += "5";
  put16(0);  // text result
  const std::string call = fe::Frame('F', body);
  ExpectNoLeak("function call", [&](Session& s, bool proxied) {
    auto got = s.Run(call);
    if (proxied) {
      EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"42501"});
      EXPECT_EQ(Count(got, 'N'), 0);
      EXPECT_EQ(Count(got, 'V'), 0);
    } else {
      EXPECT_EQ(Count(got, 'V'), 1);
    }
  });
}

// The unmasked fast path: the matcher receives exactly the server's messages, raw values
// included, for every kind of result.
TEST_F(LeakTest, MatcherReceivesTheServersBytes) {
  const std::string script =
      fe::Query(std::string(kAllMembers) + "; SELECT phone::int FROM crm.members") +
      fe::Parse("p1", kProtected) + BindBinary("", "p1") + fe::Execute("", 0) + fe::Sync() +
      fe::Bind("c1", "p1", {}) + fe::Execute("c1", 500) + fe::Execute("c1", 0) + fe::Sync() +
      fe::Query("COPY crm.members TO STDOUT (FORMAT binary); COPY crm.members TO STDOUT") +
      fe::Query("SELECT public.echo_contact(3)");
  std::vector<BackendMessage> want, got;
  for (int port : {Env().server_port(), Env().proxy_port()}) {
    auto s = Session::Open(port, kRawMatcher);
    ASSERT_NE(s, nullptr);
    s->Run(script, 5);
    (port == Env().server_port() ? want : got) = s->after_startup();
  }
  ASSERT_GT(want.size(), static_cast<size_t>(3 * kMembers));
  ASSERT_FALSE(scanner_->Scan(want).empty());
  ASSERT_EQ(got.size(), want.size()) << be::Types(got).substr(0, 80);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].type, want[i].type) << "message " << i;
    ASSERT_TRUE(got[i].body == want[i].body) << "message " << i << " of type " << want[i].type;
  }
}

TEST_F(LeakTest, NotifyPayloads) {
  auto raw = Env().Query(
      "SELECT phone, email, id_card_no FROM crm.members WHERE phone IS NOT NULL "
      "AND email IS NOT NULL AND id_card_no IS NOT NULL ORDER BY member_id LIMIT 3");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(raw->size(), 3u);
  ExpectNoLeak("notify", [&](Session& s, bool) {
    s.Run(fe::Query("LISTEN crm_events"));
    std::string notify;
    for (const auto& row : *raw) {
      notify +=
          "NOTIFY crm_events, 'call " + *row[0] + " or mail " + *row[1] + " id " + *row[2] + "';";
    }
    // Digits written the way people write them, and a JSON payload.
    const std::string& phone = *(*raw)[0][0];
    notify += "NOTIFY crm_events, '" + phone.substr(0, 3) + " " + phone.substr(3, 4) + " " +
              phone.substr(7) + "';";
    notify += "NOTIFY crm_events, '{\"phone\":\"" + phone + "\"}';";
    ASSERT_TRUE(Env().Exec(notify).ok());
    std::vector<BackendMessage> got;
    auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (Count(got, 'A') < 5 && std::chrono::steady_clock::now() < deadline) {
      auto more = s.Drain(std::chrono::milliseconds(100));
      got.insert(got.end(), more.begin(), more.end());
    }
    EXPECT_EQ(Count(got, 'A'), 5);
  });
}

// The audit log: one record per statement of a masked session (served, failed or
// refused) with login, policy, client, database, fingerprint, normalised text, what was
// read, the transform of every result column and the rows; never a raw value or a
// literal of the statement.
TEST_F(LeakTest, AuditLogHasOneRecordPerStatementAndNoValues) {
  auto phone = Env().Query("SELECT phone FROM crm.members WHERE phone IS NOT NULL LIMIT 1");
  ASSERT_TRUE(phone.ok() && phone->size() == 1);
  const std::string raw_phone = *(*phone)[0][0];
  auto read_lines = [] {
    std::ifstream in(Env().audit_path());
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  };
  const size_t before = read_lines().size();
  auto s = Session::Open(Env().proxy_port());
  ASSERT_NE(s, nullptr);
  // 1-2: two statements in one string; 3: refused (a raw phone literal in it);
  // 4: extended protocol; 5: fails at the server.
  s->Run(
      fe::Query("SELECT member_id, phone, city FROM crm.members WHERE city = '上海' LIMIT 7; "
                "SELECT count(*) FROM crm.members WHERE monthly_income >= 8000"));
  s->Run(fe::Query("SELECT nickname FROM crm.members WHERE phone = '" + raw_phone + "'"));
  s->Run(fe::Parse("", "SELECT nickname, email FROM crm.members WHERE grade = $1 LIMIT 3") +
         fe::Bind("", "", {std::string("A")}) + fe::Execute("", 0) + fe::Sync());
  s->Run(fe::Query("SELECT nickname FROM crm.members WHERE grade = 'Z' AND 1/0 = 1"));
  auto lines = read_lines();
  ASSERT_EQ(lines.size(), before + 5);
  std::vector<nlohmann::json> recs;
  for (size_t i = before; i < lines.size(); ++i) {
    recs.push_back(nlohmann::json::parse(lines[i]));
    const auto& r = recs.back();
    EXPECT_EQ(r.value("login", ""), kRawSales);
    EXPECT_EQ(r.value("policy", ""), "sales");
    EXPECT_EQ(r.value("database", ""), it::kDatabase);
    EXPECT_NE(r.value("client", ""), "");
    EXPECT_EQ(r.value("fingerprint", "").size(), 16u) << lines[i];
    EXPECT_TRUE(r.contains("time"));
  }
  EXPECT_EQ(recs[0].value("rows", -1), 7);
  ASSERT_EQ(recs[0]["output"].size(), 3u);
  EXPECT_EQ(recs[0]["output"][0].value("transform", ""), "pseudonym");
  EXPECT_EQ(recs[0]["output"][1].value("source", ""), "crm.members.phone");
  EXPECT_EQ(recs[0]["output"][1].value("transform", ""), "partial");
  EXPECT_EQ(recs[0]["output"][2].value("transform", ""), "show");
  EXPECT_NE(recs[0]["relations"].dump().find("crm.members"), std::string::npos);
  EXPECT_EQ(recs[1].value("rows", -1), 1);
  EXPECT_EQ(recs[2]["refused"].value("sqlstate", ""), "42501");
  EXPECT_EQ(recs[3].value("rows", -1), 3);
  EXPECT_EQ(recs[3]["output"][1].value("transform", ""), "partial");
  EXPECT_FALSE(recs[4].contains("refused"));
  // No literal of the statements, no raw value.
  std::string all;
  for (size_t i = before; i < lines.size(); ++i) all += lines[i] + "\n";
  for (const std::string& lit : {raw_phone, std::string("上海"), std::string("8000")}) {
    EXPECT_EQ(all.find(lit), std::string::npos) << lit;
  }
  auto leaks = scanner_->Scan(all, "audit log");
  EXPECT_TRUE(leaks.empty()) << Join(leaks);
}

}  // namespace
}  // namespace pgveil::masking
