// Catalog::RolesOf(): transitive membership from pg_auth_members, the login handled as
// data, and the per-login cache.
#include <gtest/gtest.h>

#include <thread>

#include "catalog/catalog_env.h"
#include "catalog/catalog_test_util.h"
#include "pgveil/catalog/catalog.h"

namespace pgveil::catalog::testing {
namespace {

using std::chrono::milliseconds;
using Roles = std::vector<std::string>;

Roles RolesOrFail(Catalog& catalog, const std::string& login) {
  auto roles = catalog.RolesOf(login);
  EXPECT_TRUE(roles.ok()) << roles.status().ToString();
  return roles.ok() ? *roles : Roles{"<error>"};
}

TEST(CatalogRoles, FollowsAChainOfMemberships) {
  Catalog catalog(Options());
  EXPECT_EQ(RolesOrFail(catalog, "login_chain"),
            (Roles{"login_chain", "role_a", "role_b", "role_c"}));
  EXPECT_EQ(RolesOrFail(catalog, "role_b"), (Roles{"role_b", "role_c"}));
}

TEST(CatalogRoles, DiamondYieldsEachRoleOnce) {
  Catalog catalog(Options());
  EXPECT_EQ(RolesOrFail(catalog, "login_diamond"),
            (Roles{"d_left", "d_right", "d_top", "login_diamond"}));
}

TEST(CatalogRoles, LoginWithoutMembershipsIsItself) {
  Catalog catalog(Options());
  EXPECT_EQ(RolesOrFail(catalog, "login_alone"), Roles{"login_alone"});
}

TEST(CatalogRoles, NoInheritMembershipStillCounts) {
  // Membership decides the policy; INHERIT only decides privileges. A login that can
  // SET ROLE into a masked role is a member of it.
  CAT_EXEC("CREATE ROLE ni_masked; CREATE ROLE ni_login LOGIN NOINHERIT IN ROLE ni_masked");
  Catalog catalog(Options());
  EXPECT_EQ(RolesOrFail(catalog, "ni_login"), (Roles{"ni_login", "ni_masked"}));
}

TEST(CatalogRoles, UnknownLoginIsNotFound) {
  Catalog catalog(Options());
  auto roles = catalog.RolesOf("no_such_login");
  ASSERT_FALSE(roles.ok());
  EXPECT_EQ(roles.status().code(), StatusCode::kNotFound);
  // The message does not echo the login.
  EXPECT_EQ(roles.status().message().find("no_such_login"), std::string::npos);
  // Nor is the failure cached as an answer.
  CAT_EXEC("CREATE ROLE no_such_login LOGIN");
  EXPECT_EQ(RolesOrFail(catalog, "no_such_login"), Roles{"no_such_login"});
}

TEST(CatalogRoles, LoginNamesAreMatchedExactly) {
  Catalog catalog(Options());
  // Role names are case-sensitive data, not SQL identifiers to fold.
  auto upper = catalog.RolesOf("LOGIN_CHAIN");
  ASSERT_FALSE(upper.ok());
  EXPECT_EQ(upper.status().code(), StatusCode::kNotFound);
  auto quoted = catalog.RolesOf("\"login_chain\"");
  ASSERT_FALSE(quoted.ok());
  EXPECT_EQ(quoted.status().code(), StatusCode::kNotFound);
}

TEST(CatalogRoles, InjectionLookingLoginsAreData) {
  Catalog catalog(Options());
  // A real role with a hostile name resolves to its own memberships...
  EXPECT_EQ(RolesOrFail(catalog, kInjectionLogin), (Roles{"role_c", kInjectionLogin}));
  EXPECT_EQ(ServerValue("SELECT count(*) FROM crm.members"), "1");  // and dropped nothing
  // ...and names that would widen a concatenated query match no role at all.
  for (const std::string login :
       {"x' OR '1'='1", "login_alone' OR rolname <> '", "login_alone'; --", "%", "login_%"}) {
    SCOPED_TRACE(login);
    auto roles = catalog.RolesOf(login);
    ASSERT_FALSE(roles.ok());
    EXPECT_EQ(roles.status().code(), StatusCode::kNotFound);
  }
}

TEST(CatalogRoles, NulByteInLoginIsRejected) {
  Catalog catalog(Options());
  // libpq would stop at the NUL and look up "login_alone".
  auto roles = catalog.RolesOf(std::string("login_alone\0role_a", 18));
  ASSERT_FALSE(roles.ok());
  EXPECT_EQ(roles.status().code(), StatusCode::kInvalidArgument);
}

TEST(CatalogRoles, CachedForTheTtlThenReread) {
  CAT_EXEC("CREATE ROLE ttl_extra; CREATE ROLE ttl_login LOGIN");
  constexpr milliseconds kTtl(1000);
  CatalogOptions options = Options();
  options.membership_ttl = kTtl;
  Catalog catalog(options);
  const auto first_asked = std::chrono::steady_clock::now();  // the entry lives from here on
  EXPECT_EQ(RolesOrFail(catalog, "ttl_login"), Roles{"ttl_login"});
  CAT_EXEC("GRANT ttl_extra TO ttl_login");
  Roles cached = RolesOrFail(catalog, "ttl_login");
  // Still the cached answer, unless the machine was too slow to tell.
  if (std::chrono::steady_clock::now() - first_asked < kTtl) {
    EXPECT_EQ(cached, Roles{"ttl_login"});
  }
  std::this_thread::sleep_until(first_asked + kTtl + milliseconds(50));
  EXPECT_EQ(RolesOrFail(catalog, "ttl_login"), (Roles{"ttl_extra", "ttl_login"}));
}

TEST(CatalogRoles, ZeroTtlAlwaysAsksTheServer) {
  CAT_EXEC("CREATE ROLE zero_extra; CREATE ROLE zero_login LOGIN");
  CatalogOptions options = Options();
  options.membership_ttl = milliseconds(0);
  Catalog catalog(options);
  EXPECT_EQ(RolesOrFail(catalog, "zero_login"), Roles{"zero_login"});
  CAT_EXEC("GRANT zero_extra TO zero_login");
  EXPECT_EQ(RolesOrFail(catalog, "zero_login"), (Roles{"zero_extra", "zero_login"}));
}

TEST(CatalogRoles, ClearMembershipCacheForgetsAnswers) {
  CAT_EXEC("CREATE ROLE clear_extra; CREATE ROLE clear_login LOGIN");
  CatalogOptions options = Options();
  options.membership_ttl = std::chrono::hours(1);
  Catalog catalog(options);
  EXPECT_EQ(RolesOrFail(catalog, "clear_login"), Roles{"clear_login"});
  CAT_EXEC("GRANT clear_extra TO clear_login");
  EXPECT_EQ(RolesOrFail(catalog, "clear_login"), Roles{"clear_login"});  // cached
  catalog.ClearMembershipCache();
  EXPECT_EQ(RolesOrFail(catalog, "clear_login"), (Roles{"clear_extra", "clear_login"}));
}

TEST(CatalogRoles, CachedAnswersNeedNoServer) {
  CAT_EXEC("CREATE ROLE cat_cache LOGIN PASSWORD 'cache-pw-4'");
  CatalogOptions options;
  options.conninfo = Env().ConnInfo("application_name=cat_cache", "cat_cache", "cache-pw-4");
  options.membership_ttl = std::chrono::hours(1);
  Catalog catalog(options);
  EXPECT_EQ(RolesOrFail(catalog, "login_chain"),
            (Roles{"login_chain", "role_a", "role_b", "role_c"}));
  CAT_EXEC("ALTER ROLE cat_cache NOLOGIN");
  ASSERT_TRUE(TerminateBackends("cat_cache"));
  EXPECT_EQ(RolesOrFail(catalog, "login_chain"),
            (Roles{"login_chain", "role_a", "role_b", "role_c"}));
  EXPECT_FALSE(catalog.RolesOf("login_alone").ok());  // not cached: needs the server
}

}  // namespace
}  // namespace pgveil::catalog::testing
