// Refusal messages in audit records: pgveil's messages name some things the client wrote
// without quotes (a function or setting name); such a name is kept only if a statement
// summary would keep it as an identifier.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pgveil/audit/audit_record.h"
#include "pgveil/audit/statement_summary.h"

namespace pgveil::audit {
namespace {

std::string Logged(const std::string& message) {
  AuditRecord r;
  r.statement = SummarizeStatement("SELECT 1");
  r.refusal = Refusal{"42501", message};
  return nlohmann::json::parse(ToJson(r))["refused"]["message"];
}

TEST(RefusalMessageTest, NamesThatCouldBeValuesAreCut) {
  const std::string name = "\xE7\x8E\x8B\xE8\x8A\xB3";  // 王芳
  std::string m = Logged("function " + name + " is not available to masked sessions");
  EXPECT_EQ(m, "function ? is not available to masked sessions");
  m = Logged("masked sessions may not change setting income23456");
  EXPECT_EQ(m, "masked sessions may not change setting ?");
  m = Logged("function public." + name + "x(int) is not available");
  EXPECT_EQ(m.find(name), std::string::npos) << m;
  // Next to a quoted span, which is cut first.
  m = Logged("WITH query \"a\"" + name + " is not known");
  EXPECT_EQ(m.find(name), std::string::npos) << m;
}

TEST(RefusalMessageTest, PgveilsOwnWordsStay) {
  for (const char* message :
       {"parameter $1 may only be a value on the masking boundaries of crm.members.monthly_income",
        "protected column crm.members.phone may not be used in WHERE",
        "a COPY row into a pseudonym column is longer than 64 MB",
        "function pg_catalog.pg_read_file is not available to masked sessions"}) {
    EXPECT_EQ(Logged(message), message);
  }
  EXPECT_EQ(Logged("relation \"x\" is not known to pgveil"),
            "relation \"\xE2\x80\xA6\" is not known to pgveil");
}

}  // namespace
}  // namespace pgveil::audit
