// Leaks through paths other than ordinary result rows, in a masked session (raw_sales,
// policy sales) spoken to with the harness's protocol client: COPY options that pgveil
// read differently from the server, notifications sent by other sessions, error and
// notice fields set by PL/pgSQL, and pgveil's own log. Every scenario that can also run
// straight against PostgreSQL does so first, and must show raw values there: the proof
// that the scanner would see the leak.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "harness/raw_client.h"
#include "leak_scanner.h"
#include "masking_env.h"
#include "raw_leak_test.h"

namespace pgveil::masking {
namespace {

using it::BackendMessage;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fe = it::fe;
namespace be = it::be;

using Session = RawSession;

class LeakPathsTest : public RawLeakTest {
 protected:
  static void SetUpTestSuite() { LoadScanner(); }
};

// COPY options given as numbers are read by the server as their text: `DELIMITER 9`
// splits CSV rows at '9'. pgveil read them as absent and split at ',' or a tab, so a
// constant column holding tabs moved the raw value of the next column into the
// constant's place, which is shown as it is.
TEST_F(LeakPathsTest, CopyOptionsGivenAsNumbers) {
  ExpectNoLeak("numeric COPY options", [](Session& s, bool) {
    // (Columns whose masked values end in digits are left out: next to a digit delimiter
    // they would make digit runs that the scanner could take for QQ numbers.)
    auto got = s.Run(
        fe::Query("COPY (SELECT 'x' AS a, real_name, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 9); "
                  "COPY (SELECT 'x' AS a, email, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 0, QUOTE 7); "
                  "COPY (SELECT 'x' AS a, id_card_no, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 5, ESCAPE 8)"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_EQ(Count(got, 'd'), 3 * kMembers);
  });
}

// `HEADER (false)` is false for the server (a one-element list is read as its text);
// pgveil took any HEADER it could not read for true, and passed the first row on as the
// header line, unmasked.
TEST_F(LeakPathsTest, CopyHeaderGivenAsAList) {
  ExpectNoLeak("HEADER (false)", [](Session& s, bool proxied) {
    const std::string copies[] = {
        "COPY crm.members (phone, real_name, id_card_no) TO STDOUT (FORMAT csv, HEADER (false))",
        "COPY (SELECT phone, real_name, email FROM crm.members WHERE grade = 'A') TO STDOUT "
        "(FORMAT csv, HEADER (off))",
    };
    for (const auto& sql : copies) {
      auto got = s.Run(fe::Query(sql));
      if (proxied) {
        EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"0A000"});
        EXPECT_EQ(Count(got, 'd'), 0);
      } else {
        EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
      }
    }
  });
}

// Notification payloads are free text: from another session (here the superuser, as
// the matcher would send one) or from a trigger that runs in the masked session's own
// server process, they may hold a real name, an income or a real member id, which
// redaction does not find. They reach a masked session empty.
TEST_F(LeakPathsTest, NotificationPayloads) {
  auto raw = Env().Query(
      "SELECT member_id::text, real_name, monthly_income::text, phone, id_card_no FROM "
      "crm.members WHERE real_name IS NOT NULL AND monthly_income IS NOT NULL ORDER BY "
      "member_id LIMIT 3");
  ASSERT_TRUE(raw.ok() && raw->size() == 3) << raw.status().ToString();
  std::string notify;
  for (const auto& row : *raw) {
    notify += "NOTIFY crm_matches, '{\"member\": " + *row[0] + ", \"name\": \"" + *row[1] +
              "\", \"income\": " + *row[2] + ", \"phone\": \"" + *row[3] + "\", \"id\": \"" +
              row[4].value_or("") + "\"}';";
  }
  ASSERT_TRUE(Env()
                  .Exec("CREATE OR REPLACE FUNCTION public.announce_contact() RETURNS trigger "
                        "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN "
                        "PERFORM pg_notify('crm_contacts', NEW.member_id || ' ' || real_name || "
                        "' ' || monthly_income) FROM crm.members WHERE member_id = "
                        "NEW.member_id; RETURN NEW; END $$;"
                        "DROP TRIGGER IF EXISTS announce_contact ON crm.contact_log;"
                        "CREATE TRIGGER announce_contact AFTER INSERT ON crm.contact_log "
                        "FOR EACH ROW EXECUTE FUNCTION public.announce_contact();")
                  .ok());
  auto payload_of = [](const BackendMessage& m) {
    const std::string_view body(m.body);
    const size_t channel_end = body.find('\0', 4);
    return channel_end == std::string_view::npos ? std::string("<bad>")
                                                 : std::string(body.substr(channel_end + 1));
  };
  ExpectNoLeak("notifications", [&](Session& s, bool proxied) {
    auto got = s.Run(fe::Query("LISTEN crm_matches; LISTEN crm_contacts"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    ASSERT_TRUE(Env().Exec(notify).ok());
    got = s.Await('A', 3, seconds(10));
    ASSERT_EQ(Count(got, 'A'), 3);
    // The session logs calls; the trigger announces them from the session's own process.
    got = s.Run(fe::Query(
        "BEGIN; INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT (SELECT "
        "min(staff_id) FROM crm.staff), member_id, 'call' FROM crm.members m WHERE m.city IS "
        "NOT NULL LIMIT 5; COMMIT"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_EQ(Count(got, 'A'), 5);  // sent at COMMIT, before its ReadyForQuery
    // And a NOTIFY of its own.
    got = s.Run(fe::Query("NOTIFY crm_matches, 'claimed'"));
    EXPECT_EQ(Count(got, 'A'), 1);
    if (proxied) {
      for (const auto& m : s.all()) {
        if (m.type == 'A') {
          EXPECT_EQ(payload_of(m), std::string("\0", 1));
        }
      }
    }
  });
  ASSERT_TRUE(Env().Exec("DROP TRIGGER announce_contact ON crm.contact_log").ok());
}

// PL/pgSQL sets the object-name fields of an error or notice to any text with RAISE ...
// USING SCHEMA/TABLE/COLUMN/DATATYPE/CONSTRAINT; they were passed on as they came. A
// trigger on contact_log (which the sales login may write) reports the member's data in
// them.
TEST_F(LeakPathsTest, ErrorAndNoticeFieldsSetByRaise) {
  ASSERT_TRUE(Env()
                  .Exec("CREATE OR REPLACE FUNCTION public.check_contact() RETURNS trigger "
                        "LANGUAGE plpgsql SECURITY DEFINER AS $$ DECLARE m record; BEGIN "
                        "SELECT * INTO m FROM crm.members WHERE member_id = NEW.member_id; "
                        "IF NEW.channel = 'sms' THEN "
                        "RAISE EXCEPTION 'no sms for this member' USING "
                        "COLUMN = coalesce(m.phone, '-'), TABLE = coalesce(m.real_name, '-'), "
                        "SCHEMA = coalesce(m.email, '-'), CONSTRAINT = coalesce(m.id_card_no, "
                        "'-'), DATATYPE = coalesce(m.monthly_income::text, '-'); END IF; "
                        "RAISE NOTICE 'checked' USING COLUMN = coalesce(m.phone, '-'), "
                        "TABLE = coalesce(m.real_name, '-'), SCHEMA = coalesce(m.qq, '-'), "
                        "CONSTRAINT = coalesce(m.id_card_no, '-'), "
                        "DATATYPE = coalesce(m.wechat_id, '-'); RETURN NEW; END $$;"
                        "DROP TRIGGER IF EXISTS check_contact ON crm.contact_log;"
                        "CREATE TRIGGER check_contact BEFORE INSERT ON crm.contact_log "
                        "FOR EACH ROW EXECUTE FUNCTION public.check_contact();")
                  .ok());
  ExpectNoLeak("RAISE ... USING", [](Session& s, bool) {
    const std::string log =
        "INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT (SELECT "
        "min(staff_id) FROM crm.staff), member_id, 'call' FROM crm.members m WHERE m.city IS "
        "NOT NULL LIMIT 20";
    auto got = s.Run(fe::Query("BEGIN; " + log + "; ROLLBACK"));
    EXPECT_EQ(Count(got, 'N'), 20) << Join(Sqlstates(got));
    const std::string sms =
        "INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT (SELECT "
        "min(staff_id) FROM crm.staff), member_id, 'sms' FROM crm.members m WHERE m.city IS "
        "NOT NULL LIMIT 1";
    got = s.Run(fe::Query(sms) + fe::Parse("", sms) + fe::Bind("", "", {}) + fe::Execute("", 0) +
                    fe::Sync(),
                2);
    EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"P0001", "P0001"}));
  });
  ASSERT_TRUE(Env().Exec("DROP TRIGGER check_contact ON crm.contact_log").ok());
}

// A startup parameter that a masked session may not set is refused with a message that
// names it; pgveil's log named it too, whatever the client wrote (here a member's phone
// number as the name).
TEST_F(LeakPathsTest, RefusedStartupParameterIsNotLogged) {
  auto phone = Env().Query("SELECT phone FROM crm.members WHERE phone IS NOT NULL LIMIT 1");
  ASSERT_TRUE(phone.ok() && phone->size() == 1);
  const std::string raw_phone = *(*phone)[0][0];
  auto read_log = [] {
    std::ifstream in(Env().dir() + "/pgveil.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const size_t before = read_log().size();
  for (const fe::Params& params :
       {fe::Params{{"options", "-c " + raw_phone + "=1"}}, fe::Params{{raw_phone, "1"}}}) {
    auto client = it::RawClient::Connect(Env().proxy_port());
    ASSERT_TRUE(client.ok());
    auto startup = (*client)->StartupTrust(kRawSales, it::kDatabase, params);
    ASSERT_FALSE(startup.ok());
  }
  // The log line is written before the FATAL is sent.
  const std::string log = read_log().substr(before);
  EXPECT_NE(log.find("event=startup_refused"), std::string::npos) << log;
  auto leaks = scanner_->Scan(log, "pgveil log");
  EXPECT_TRUE(leaks.empty()) << Join(leaks);
  EXPECT_EQ(log.find(raw_phone), std::string::npos);
}

// Refusals name some of what the client wrote without quotes (a function's or a
// setting's name), and the audit log kept that text: a real name written as a function
// name, an income in a setting's name.
TEST_F(LeakPathsTest, AuditedRefusalsDoNotNameValues) {
  auto raw = Env().Query(
      "SELECT real_name, monthly_income::text FROM crm.members WHERE real_name IS NOT NULL AND "
      "monthly_income > 20000 ORDER BY member_id LIMIT 1");
  ASSERT_TRUE(raw.ok() && raw->size() == 1) << raw.status().ToString();
  const std::string name = *(*raw)[0][0], income = *(*raw)[0][1];
  auto read_audit = [] {
    std::ifstream in(Env().audit_path());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const size_t before = read_audit().size();
  auto s = Session::Open(Env().proxy_port());
  ASSERT_NE(s, nullptr);
  auto got = s->Run(fe::Query("SELECT \"" + name + "\"(1)") +
                        fe::Query("SET \"income_" + income + "\" = 1") +
                        fe::Query("SELECT public.\"" + name + "\"()"),
                    3);
  EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"42501", "42501", "42501"}));
  const std::string audit = read_audit().substr(before);
  EXPECT_NE(audit.find("\"refused\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find(name), std::string::npos) << audit;
  EXPECT_EQ(audit.find(income), std::string::npos) << audit;
  auto leaks = scanner_->Scan(audit, "audit log");
  EXPECT_TRUE(leaks.empty()) << Join(leaks);
}

// Paths that held: plans of served statements, debug and log messages, a result cut off
// by statement_timeout, large objects and file functions, activity views, a malformed
// message. Nothing of them may carry a raw value; the refusals are pgveil's.
TEST_F(LeakPathsTest, PathsThatHeld) {
  ExpectNoLeak(
      "held",
      [](Session& s, bool proxied) {
        std::string script;
        for (const char* sql : {
                 "EXPLAIN (VERBOSE, COSTS, FORMAT JSON) SELECT member_id, phone, real_name FROM "
                 "crm.members WHERE monthly_income >= 8000 AND city IS NOT NULL",
                 "EXPLAIN (VERBOSE) SELECT m.phone, c.body FROM crm.members m JOIN "
                 "crm.chat_messages c ON c.sender_id = m.member_id",
                 "SET client_min_messages = debug5",
                 "SET debug_print_plan = on",
                 "SELECT lo_get(1)",
                 "SELECT pg_read_file('base/1/1')",
                 "SELECT query FROM pg_stat_activity",
                 "SELECT name, statement FROM pg_prepared_statements",
             }) {
          script += fe::Query(sql);
        }
        auto got = s.Run(script, 8);
        if (proxied) {
          EXPECT_EQ(Sqlstates(got), (std::vector<std::string>{"42501", "42501", "42501", "42501",
                                                              "42501", "42501"}));
        }
        // A result cut off by statement_timeout while rows stream.
        got =
            s.Run(fe::Query("SET statement_timeout = 50; SELECT m.phone, m.real_name, c.body "
                            "FROM crm.members m, crm.chat_messages c; RESET statement_timeout"));
        EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"57014"});
      },
      /*direct_leaks=*/false);
}

}  // namespace
}  // namespace pgveil::masking
