// The StartupMessage checks of masked sessions (guard/startup.h), without a server.
#include "pgveil/guard/startup.h"

#include <gtest/gtest.h>

namespace pgveil::guard {
namespace {

std::string Verdict(const StartupParams& params) {
  auto r = CheckStartupParameters(params);
  return r ? r->message : "";
}

TEST(StartupTest, SplitsOptionsAsTheServerDoes) {
  EXPECT_EQ(SplitBackendOptions("  -c a=1   -c\tb=2 "),
            (std::vector<std::string>{"-c", "a=1", "-c", "b=2"}));
  EXPECT_EQ(SplitBackendOptions(R"(-c application_name=a\ b -c x=\\y)"),
            (std::vector<std::string>{"-c", "application_name=a b", "-c", "x=\\y"}));
  EXPECT_EQ(SplitBackendOptions("-c a=b\\"), (std::vector<std::string>{"-c", "a=b"}));
  EXPECT_TRUE(SplitBackendOptions("   ").empty());
}

TEST(StartupTest, ServesWhatDriversSend) {
  EXPECT_EQ(Verdict({{"user", "sales_li"},
                     {"database", "crm"},
                     {"client_encoding", "UTF8"},
                     {"DateStyle", "ISO"},
                     {"TimeZone", "Asia/Shanghai"},
                     {"extra_float_digits", "3"},
                     {"application_name", "PostgreSQL JDBC Driver"},
                     {"_pq_.protocol_managed_params", "x"}}),
            "");
  EXPECT_EQ(Verdict({{"client_encoding", "utf-8"}}), "");  // asyncpg
  EXPECT_EQ(Verdict({{"client_encoding", "Unicode"}}), "");
  EXPECT_EQ(Verdict({{"client_encoding", "SQL_ASCII"}}), "");
  EXPECT_EQ(Verdict({{"replication", "false"}}), "");
  EXPECT_EQ(Verdict({{"options", "-c statement_timeout=5s --work-mem=64MB -cjit=off"}}), "");
  EXPECT_EQ(Verdict({{"options", "-c standard_conforming_strings=on"}}), "");
  EXPECT_EQ(Verdict({{"options", ""}}), "");
  EXPECT_EQ(Verdict({{"DateStyle", "ISO, DMY"}}), "");
  EXPECT_EQ(Verdict({{"options", "-c client_min_messages=WARNING"}}), "");
  // A search_path that keeps pg_catalog first (pgjdbc's currentSchema, PGOPTIONS).
  EXPECT_EQ(Verdict({{"search_path", "crm"}}), "");
  EXPECT_EQ(Verdict({{"search_path", "\"$user\", public, crm"}}), "");
  EXPECT_EQ(Verdict({{"options", "-c search_path=pg_catalog,crm"}}), "");
  EXPECT_EQ(Verdict({{"search_path", ""}}), "");
  EXPECT_EQ(Verdict({{"search_path", "\"PG_CATALOG\", \"Crm\"\"s\""}}), "");
}

TEST(StartupTest, RefusesWhatChangesHowSqlIsRead) {
  for (const StartupParams& p : std::vector<StartupParams>{
           {{"search_path", "pg_temp, crm"}},
           {{"SEARCH_PATH", "crm, pg_catalog"}},
           {{"options", "-c search_path=crm,pg_catalog"}},
           {{"options", "-csearch_path=pg_temp_3"}},
           {{"options", "--search-path=crm,PG_CATALOG"}},
           {{"options", "-c application_name=x -c search_path=x,pg_temp"}},
           {{"options", "-c search_path=x,\\ pg_catalog"}},
           {{"search_path", "\"crm"}},
           {{"search_path", "crm,,public"}},
           {{"search_path", "crm public"}},
           {{"standard_conforming_strings", "off"}},
           {{"options", "-c standard_conforming_strings=of"}},
           {{"options", "-c backslash_quote=on"}},
           {{"client_encoding", "SJIS"}},
           {{"client_encoding", "BIG5"}},
           {{"options", "-c client_encoding=GBK"}},
           {{"client_encoding", "LATIN1"}},
           {{"options", "-c role=matcher"}},
           {{"options", "-c session_authorization=postgres"}},
           {{"replication", "database"}},
           {{"replication", "true"}},
           {{"replication", "on"}},
           {{"options", "-c log_statement=all"}},
           {{"options", "-c client_min_messages=debug2"}},
           {{"client_min_messages", "LOG"}},
           {{"options", "-c myapp.secret=1"}},
           {{"options", "-E"}},
           {{"options", "-c"}},
           {{"options", "-c =x"}},
           {{"options", "-P -c application_name=x"}},
           {{"options", "stray"}},
           {{"lc_messages", "C"}},
           {{"DateStyle", "SQL, DMY"}},
           {{"options", "-c datestyle=German"}},
           // The server skips form feeds and vertical tabs around list items too, and
           // reads a quoted DateStyle word as that word.
           {{"search_path", "crm,\fpg_catalog"}},
           {{"search_path", "crm,\vpg_temp"}},
           {{"options", "-c search_path=crm,\\\fpg_catalog"}},
           {{"DateStyle", "\fSQL"}},
           {{"DateStyle", "\"German\""}},
       }) {
    EXPECT_NE(Verdict(p), "") << p[0].first << "=" << p[0].second;
  }
}

// The refusal says which parameter, as the client wrote it: the session logs it only
// through a filter, since a client may write anything there.
TEST(StartupTest, RefusalNamesTheParameter) {
  struct Case {
    StartupParams params;
    const char* parameter;
  } cases[] = {
      {{{"options", "-c 13812345678=1"}}, "13812345678"},
      {{{"13812345678", "1"}}, "13812345678"},
      {{{"options", "--Work-Mem=1 -c lc_messages=C"}}, "lc_messages"},
      {{{"client_encoding", "LATIN1"}}, "client_encoding"},
      {{{"options", "-E"}}, "options"},
      {{{"replication", "database"}}, "replication"},
  };
  for (const auto& k : cases) {
    auto r = CheckStartupParameters(k.params);
    ASSERT_TRUE(r.has_value()) << k.parameter;
    EXPECT_EQ(r->parameter, k.parameter);
  }
}

}  // namespace
}  // namespace pgveil::guard
