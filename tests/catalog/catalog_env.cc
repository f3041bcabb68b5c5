#include "catalog/catalog_env.h"

#include <iostream>

namespace pgveil::catalog::testing {
namespace {

CatalogEnv* g_env = nullptr;

// One string per statement group; CREATE DATABASE is not needed (the harness made one).
constexpr const char* kSetup[] = {
    // Schema objects.
    "CREATE SCHEMA crm;"
    "CREATE DOMAIN crm.short_text AS varchar(20);"
    "CREATE DOMAIN crm.phone AS crm.short_text CHECK (VALUE ~ '^[0-9+ ]*$');"
    "CREATE TABLE crm.members (id bigint PRIMARY KEY, name text NOT NULL, gone int,"
    "  city varchar(40), phone crm.phone, score numeric(6,2), born date);"
    "ALTER TABLE crm.members DROP COLUMN gone;"
    "INSERT INTO crm.members VALUES (1, 'Ada', 'Oslo', '+47 1234', 9.5, '1990-01-02');"
    "CREATE VIEW crm.member_cities AS SELECT id, city FROM crm.members;"
    "CREATE MATERIALIZED VIEW crm.city_counts AS"
    "  SELECT city, count(*) AS n FROM crm.members GROUP BY city;"
    "CREATE TABLE crm.messages (id bigint, sent_at timestamptz NOT NULL, body text)"
    "  PARTITION BY RANGE (sent_at);"
    "CREATE TABLE crm.messages_2024 PARTITION OF crm.messages"
    "  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    "CREATE FOREIGN DATA WRAPPER catalog_test_fdw;"
    "CREATE SERVER catalog_test_nowhere FOREIGN DATA WRAPPER catalog_test_fdw;"
    "CREATE FOREIGN TABLE crm.remote_notes (id int, note text) SERVER catalog_test_nowhere;"
    "CREATE TABLE crm.empty_table ();"
    "CREATE TABLE crm.\"Mixed Case\" (\"Id\" int, id text);"
    "CREATE SCHEMA \"a.b\"; CREATE TABLE \"a.b\".c (x int);"
    "CREATE SCHEMA a; CREATE TABLE a.\"b.c\" (y text);",
    // Roles.
    "CREATE ROLE role_c; CREATE ROLE role_b IN ROLE role_c; CREATE ROLE role_a IN ROLE role_b;"
    "CREATE ROLE login_chain LOGIN IN ROLE role_a;"
    "CREATE ROLE d_top; CREATE ROLE d_left IN ROLE d_top; CREATE ROLE d_right IN ROLE d_top;"
    "CREATE ROLE login_diamond LOGIN IN ROLE d_left, d_right;"
    "CREATE ROLE login_alone LOGIN;"
    "CREATE ROLE \"x'); DROP TABLE crm.members; --\" LOGIN IN ROLE role_c;",
};

}  // namespace

CatalogEnv& Env() { return *g_env; }

void CatalogEnv::SetUp() {
  auto cluster = it::PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(*cluster);
  for (const char* sql : kSetup) CAT_ASSERT_OK(cluster_->Exec(sql));
  CAT_ASSERT_OK(cluster_->Exec(std::string("CREATE ROLE ") + kCatalogLogin + " LOGIN PASSWORD '" +
                               kCatalogPassword + "'"));
}

void CatalogEnv::TearDown() {
  if (::testing::UnitTest::GetInstance()->failed_test_count() > 0 && cluster_) {
    std::cerr << "---- PostgreSQL log (tail) ----\n" << it::FileTail(cluster_->log_path()) << "\n";
  }
  cluster_.reset();
}

std::string CatalogEnv::ConnInfo(const std::string& extra, const std::string& user,
                                 const std::string& password) const {
  std::string info = cluster_->ConnInfo(user);
  if (!password.empty()) info += " password=" + password;
  if (!extra.empty()) info += " " + extra;
  return info;
}

}  // namespace pgveil::catalog::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pgveil::catalog::testing::g_env = new pgveil::catalog::testing::CatalogEnv();
  ::testing::AddGlobalTestEnvironment(pgveil::catalog::testing::g_env);  // gtest owns it
  return RUN_ALL_TESTS();
}
