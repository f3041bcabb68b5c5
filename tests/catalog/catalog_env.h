// The world of catalog_test: one throwaway PostgreSQL cluster (the integration harness's
// PgCluster) holding a small CRM-like schema and a set of roles, started before the
// first test and stopped after the last. This file's .cc provides main().
//
// Objects created once (tests read them, never change them):
//   schema crm: members (a dropped column, a domain-over-domain column), member_cities
//   (view), city_counts (materialized view), messages (partitioned) and messages_2024,
//   remote_notes (foreign table), empty_table (no columns), "Mixed Case";
//   schemas "a.b" and a, with tables "a.b"."c" and a."b.c".
//   roles: role_a -> role_b -> role_c (login_chain is in role_a); d_left, d_right ->
//   d_top (login_diamond is in both); login_alone; kInjectionLogin (in role_c).
//   kCatalogLogin: a SCRAM login with no privilege on crm; it reads pg_catalog.
// Tests that change the schema or roles create their own objects.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "harness/pg_cluster.h"

namespace pgveil::catalog::testing {

inline constexpr char kCatalogLogin[] = "pgveil_cat";
inline constexpr char kCatalogPassword[] = "Cat-pw-7f3e9a";
inline constexpr char kInjectionLogin[] = "x'); DROP TABLE crm.members; --";

class CatalogEnv : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  it::PgCluster& cluster() { return *cluster_; }

  // A conninfo for `user` (kCatalogLogin by default, with its password); `extra` is
  // appended verbatim.
  std::string ConnInfo(const std::string& extra = "", const std::string& user = kCatalogLogin,
                       const std::string& password = kCatalogPassword) const;

 private:
  std::unique_ptr<it::PgCluster> cluster_;
};

CatalogEnv& Env();

// Fails the current test unless `expr` (a Status) is ok.
#define CAT_ASSERT_OK(expr)                                                   \
  do {                                                                        \
    const ::pgveil::Status cat_status_ = (expr);                              \
    ASSERT_TRUE(cat_status_.ok()) << #expr << ": " << cat_status_.ToString(); \
  } while (0)

// Runs SQL as the superuser; fails the current test on error.
#define CAT_EXEC(sql) CAT_ASSERT_OK(::pgveil::catalog::testing::Env().cluster().Exec(sql))

}  // namespace pgveil::catalog::testing
