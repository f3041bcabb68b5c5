// Preparing the side connection's conninfo, and scrubbing the password from messages.
#include "catalog/conninfo.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>

namespace pgveil::catalog {
namespace {

using std::chrono::milliseconds;

// What libpq reads back from a conninfo: keyword -> value, set options only.
std::map<std::string, std::string> Parse(const std::string& conninfo) {
  std::map<std::string, std::string> out;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) {
    ADD_FAILURE() << error;
    PQfreemem(error);
  }
  if (options == nullptr) return out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

TEST(PrepareConnInfo, KeyValueFormGetsDefaultsAndPinnedSettings) {
  auto prepared =
      PrepareConnInfo("host=db.internal port=5433 user=cat password=s3cret", milliseconds(2500));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->password, "s3cret");
  auto parsed = Parse(prepared->conninfo);
  EXPECT_EQ(parsed["host"], "db.internal");
  EXPECT_EQ(parsed["port"], "5433");
  EXPECT_EQ(parsed["user"], "cat");
  EXPECT_EQ(parsed["password"], "s3cret");
  EXPECT_EQ(parsed["connect_timeout"], "10");
  EXPECT_EQ(parsed["application_name"], "pgveil-catalog");
  EXPECT_EQ(parsed["options"], "-c search_path=pg_catalog,pg_temp -c statement_timeout=2500");
}

TEST(PrepareConnInfo, KeepsWhatTheConninfoSays) {
  auto prepared = PrepareConnInfo(
      "host=h connect_timeout=3 application_name=mine options='-c work_mem=64MB'", milliseconds(0));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->password, "");
  auto parsed = Parse(prepared->conninfo);
  EXPECT_EQ(parsed["connect_timeout"], "3");
  EXPECT_EQ(parsed["application_name"], "mine");
  // Ours come last, so they win over a search_path the conninfo might set.
  EXPECT_EQ(parsed["options"], "-c work_mem=64MB -c search_path=pg_catalog,pg_temp");
  EXPECT_EQ(parsed.count("password"), 0u);
}

TEST(PrepareConnInfo, UriForm) {
  auto prepared =
      PrepareConnInfo("postgresql://cat:p%40ss@db:6432/crm?sslmode=disable", milliseconds(1000));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->password, "p@ss");
  auto parsed = Parse(prepared->conninfo);
  EXPECT_EQ(parsed["user"], "cat");
  EXPECT_EQ(parsed["host"], "db");
  EXPECT_EQ(parsed["port"], "6432");
  EXPECT_EQ(parsed["dbname"], "crm");
  EXPECT_EQ(parsed["sslmode"], "disable");
}

TEST(PrepareConnInfo, QuotesAndBackslashesSurvive) {
  const std::string password = "it's a \\ \"pass\" word ";
  auto prepared =
      PrepareConnInfo("user=cat password='it\\'s a \\\\ \"pass\" word '", milliseconds(0));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->password, password);
  EXPECT_EQ(Parse(prepared->conninfo)["password"], password);
}

TEST(PrepareConnInfo, UnparsableConninfoSaysNothingOfItsText) {
  for (const std::string bad :
       {"host=h password=two words", "password='unterminated", "nosuchoption=secretvalue",
        "postgresql://u:pw@h/db?bogus=notaport"}) {
    SCOPED_TRACE(bad);
    auto prepared = PrepareConnInfo(bad, milliseconds(0));
    ASSERT_FALSE(prepared.ok());
    EXPECT_EQ(prepared.status().code(), StatusCode::kInvalidArgument);
    for (const char* fragment : {"words", "unterminated", "secretvalue", "pw", "notaport"}) {
      EXPECT_EQ(prepared.status().message().find(fragment), std::string::npos)
          << prepared.status().message();
    }
  }
}

TEST(ScrubSecret, ReplacesEveryOccurrence) {
  EXPECT_EQ(ScrubSecret("a hunter2 b hunter2hunter2", "hunter2"), "a *** b ******");
  EXPECT_EQ(ScrubSecret("nothing here", "hunter2"), "nothing here");
  EXPECT_EQ(ScrubSecret("empty secret", ""), "empty secret");
  EXPECT_EQ(ScrubSecret("", "x"), "");
  EXPECT_EQ(ScrubSecret("xxx", "x"), "*********");
}

}  // namespace
}  // namespace pgveil::catalog
