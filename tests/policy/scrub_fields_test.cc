// Scrubbing of the fields of server messages other than the message text: object names
// that PL/pgSQL sets to any text, failing rows over several lines, and notification
// payloads (policy/scrub.h).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "pgveil/mask/redact.h"
#include "pgveil/policy/scrub.h"
#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {
namespace {

using Fields = std::map<char, std::string>;

// The body of an ErrorResponse with `fields` (in the map's order).
std::string ErrorBody(const Fields& fields) {
  std::string msg;
  wire::Writer w(&msg);
  w.Begin(wire::be::kErrorResponse);
  for (const auto& [code, value] : fields) w.Byte(code).CString(value);
  w.Byte('\0').End();
  return msg.substr(5);
}

// The catalog the names are checked against: crm.contact_log (staff_id, member_id).
const catalog::Snapshot& Names() {
  static const catalog::Snapshot* snap = [] {
    catalog::Relation rel;
    rel.oid = 16400;
    rel.schema = "crm";
    rel.name = "contact_log";
    rel.columns.push_back(catalog::Column{.name = "staff_id", .attnum = 1, .type_oid = 23});
    rel.columns.push_back(catalog::Column{.name = "member_id", .attnum = 2, .type_oid = 20});
    return new catalog::Snapshot({rel}, 1);
  }();
  return *snap;
}

Fields Scrubbed(const Fields& in, const mask::Redactor* redactor) {
  std::string out;
  EXPECT_TRUE(AppendScrubbedNotice(wire::be::kErrorResponse, ErrorBody(in), redactor, &out,
                                   /*keep_position=*/true, &Names())
                  .ok());
  Fields got;
  if (out.size() < 5) return got;
  auto parsed = wire::ParseNoticeFields(std::string_view(out).substr(5));
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok()) return got;
  for (const auto& [code, value] : parsed->fields) got[code] = std::string(value);
  return got;
}

std::shared_ptr<const mask::Redactor> AllDetectors() {
  auto r = mask::Redactor::Create({.detectors = mask::AllDetectors()});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : nullptr;
}

TEST(ScrubFieldsTest, ObjectNamesOfTheServerAreKept) {
  auto redactor = AllDetectors();
  const Fields fk = {{'S', "ERROR"},
                     {'V', "ERROR"},
                     {'C', "23503"},
                     {'M', "insert or update violates foreign key constraint"},
                     {'s', "crm"},
                     {'t', "contact_log"},
                     {'c', "member_id"},
                     {'n', "contact_log_member_id_fkey"},
                     {'R', "ri_ReportViolation"}};
  Fields got = Scrubbed(fk, redactor.get());
  for (char code : {'s', 't', 'c', 'n'}) EXPECT_EQ(got[code], fk.at(code)) << code;
  const Fields domain = {{'S', "ERROR"},
                         {'C', "23514"},
                         {'M', "value violates check constraint"},
                         {'s', "crm"},
                         {'d', "positive_income"},
                         {'n', "positive_income_check"},
                         {'R', "ExecEvalConstraintCheck"}};
  got = Scrubbed(domain, redactor.get());
  for (char code : {'s', 'd', 'n'}) EXPECT_EQ(got[code], domain.at(code)) << code;
}

// RAISE EXCEPTION '...' USING COLUMN = phone, TABLE = real_name, ...: the fields hold
// stored values.
TEST(ScrubFieldsTest, ObjectNamesHoldingValuesAreDropped) {
  auto redactor = AllDetectors();
  const Fields raised = {{'S', "ERROR"},
                         {'V', "ERROR"},
                         {'C', "P0001"},
                         {'M', "claim refused"},
                         {'s', "zhang.wei@example.com"},
                         {'t', "\xE6\x9D\xA8\xE5\x8D\x9A\xE6\x98\x8A"},  // a Chinese name
                         {'c', "13812345678"},
                         {'d', "23456"},
                         {'n', "110101199003071234"},
                         {'R', "exec_stmt_raise"}};
  for (const mask::Redactor* r : {redactor.get(), static_cast<const mask::Redactor*>(nullptr)}) {
    Fields got = Scrubbed(raised, r);
    EXPECT_EQ(got['C'], "P0001");
    EXPECT_EQ(got['M'], "claim refused");
    for (char code : {'s', 't', 'c', 'd', 'n'}) {
      EXPECT_EQ(got.count(code), 0u) << code;
    }
  }
  // A WeChat id looks like a name: RAISE with a constraint's SQLSTATE does not make it one.
  Fields as_unique = raised;
  as_unique['C'] = "23505";
  as_unique['n'] = "zhangwei_88";
  as_unique['d'] = "wxid_abc";
  Fields got = Scrubbed(as_unique, redactor.get());
  EXPECT_EQ(got.count('n'), 0u);
  EXPECT_EQ(got.count('d'), 0u);
  // Names of objects the catalog does not hold, and a constraint name with a value in it.
  const Fields unknown = {{'S', "ERROR"},
                          {'C', "23505"},
                          {'M', "duplicate key value violates unique constraint"},
                          {'s', "crm"},
                          {'t', "members"},
                          {'c', "phone"},
                          {'n', "lead_13812345678"},
                          {'R', "_bt_check_unique"}};
  got = Scrubbed(unknown, redactor.get());
  EXPECT_EQ(got['s'], "crm");  // a schema the catalog has
  for (char code : {'t', 'c', 'n'}) {
    EXPECT_EQ(got.count(code), 0u) << code;
  }
}

// A failing row runs to the end of the detail, line breaks in its values included.
TEST(ScrubFieldsTest, FailingRowOverSeveralLines) {
  const Fields in = {
      {'S', "ERROR"},
      {'C', "23514"},
      {'M', "new row violates check constraint"},
      {'D',
       "Failing row contains (7, 1, 42, fax, 2025-01-01, first line\nsecond line, 13812345678)."}};
  Fields got = Scrubbed(in, nullptr);
  EXPECT_EQ(got['D'], "Failing row contains (\xE2\x80\xA6)");
  EXPECT_EQ(got['D'].find("13812345678"), std::string::npos);
  EXPECT_EQ(got['D'].find("second"), std::string::npos);
}

// A key's values may hold parentheses: everything after ")=(" goes.
TEST(ScrubFieldsTest, KeyValuesWithParentheses) {
  const Fields in = {{'S', "ERROR"},
                     {'C', "23505"},
                     {'M', "duplicate key value violates unique constraint"},
                     {'D', "Key (note)=(a) 13812345678 (b) already exists."}};
  Fields got = Scrubbed(in, nullptr);
  EXPECT_EQ(got['D'], "Key (note)=(\xE2\x80\xA6)");
}

// The server's messages in other languages (lc_messages): other quotation marks, and a
// failing row or key that is not introduced by the English words.
TEST(ScrubFieldsTest, TranslatedMessages) {
  const std::string phone = "13812345678";
  struct Case {
    const char* sqlstate;
    char field;
    std::string text;
  } cases[] = {
      // zh_CN: "Failing row contains %s."
      {"23514", 'D',
       "\xE5\xA4\xB1\xE8\xB4\xA5, \xE8\xA1\x8C\xE5\x8C\x85\xE5\x90\xAB(905, 1, " + phone +
           ", fax)."},
      // ja: "失敗した行は%sを含みます"
      {"23502", 'D',
       "\xE5\xA4\xB1\xE6\x95\x97\xE3\x81\x97\xE3\x81\x9F\xE8\xA1\x8C\xE3\x81\xAF(" + phone +
           ", x)\xE3\x82\x92\xE5\x90\xAB\xE3\x81\xBF\xE3\x81\xBE\xE3\x81\x99"},
      // de: "Fehlgeschlagene Zeile enthält %s."
      {"23514", 'D', "Fehlgeschlagene Zeile enth\xC3\xA4lt (7, " + phone + ")."},
      // de: "ungültige Eingabesyntax für Typ %s: »%s«"
      {"22P02", 'M',
       "ung\xC3\xBCltige Eingabesyntax f\xC3\xBCr Typ bigint: \xC2\xBB" + phone + "\xC2\xAB"},
      // fr: "syntaxe en entrée invalide pour le type %s : « %s »"
      {"22P02", 'M',
       "syntaxe en entr\xC3\xA9"
       "e invalide pour le type bigint : \xC2\xAB " +
           phone + " \xC2\xBB"},
      // es: "«%s»"
      {"22P02", 'M',
       "la sintaxis de entrada no es v\xC3\xA1lida para tipo bigint: \xC2\xAB" + phone +
           "\xC2\xBB"},
  };
  for (const auto& k : cases) {
    const Fields in = {{'S', "ERROR"}, {'C', k.sqlstate}, {'M', "x"}, {k.field, k.text}};
    Fields got = Scrubbed(in, nullptr);
    EXPECT_EQ(got[k.field].find(phone), std::string::npos) << got[k.field];
    EXPECT_EQ(got[k.field].find("905"), std::string::npos) << got[k.field];
  }
  // The English forms keep their words.
  Fields got =
      Scrubbed({{'C', "23514"}, {'D', "Failing row contains (7, " + phone + ")."}}, nullptr);
  EXPECT_EQ(got['D'], "Failing row contains (\xE2\x80\xA6)");
}

std::string NotificationBody(int32_t pid, const std::string& channel, const std::string& payload) {
  std::string msg;
  wire::Writer w(&msg);
  w.Begin(wire::be::kNotificationResponse).Int32(pid).CString(channel).CString(payload).End();
  return msg.substr(5);
}

// A payload may hold a real name, an income or a real member id, which redaction does not
// find, whoever sent it (a trigger runs in the receiving session's own process): dropped.
TEST(ScrubFieldsTest, NotificationPayloadsAreDropped) {
  auto redactor = AllDetectors();
  const std::string payload = "match 1042 \xE6\x9D\xA8\xE5\x8D\x9A\xE6\x98\x8A income 23456";
  for (const mask::Redactor* r : {redactor.get(), static_cast<const mask::Redactor*>(nullptr)}) {
    std::string out;
    ASSERT_TRUE(AppendScrubbedNotification(NotificationBody(4711, "ev", payload), r, &out).ok());
    auto n = wire::ParseNotificationResponse(std::string_view(out).substr(5));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->pid, 4711);
    EXPECT_EQ(n->channel, "ev");
    EXPECT_EQ(n->payload, "");
  }
}

}  // namespace
}  // namespace pgveil::policy
