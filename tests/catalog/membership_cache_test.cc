// MembershipCache with an explicit clock.
#include "catalog/membership_cache.h"

#include <gtest/gtest.h>

namespace pgveil::catalog {
namespace {

using std::chrono::milliseconds;
using Roles = std::vector<std::string>;
const MembershipCache::Clock::time_point kT0{std::chrono::hours(1000)};

TEST(MembershipCache, AnswersUntilTheTtlRunsOut) {
  MembershipCache cache(milliseconds(100));
  EXPECT_FALSE(cache.Find("alice", kT0).has_value());
  cache.Insert("alice", {"alice", "sales"}, kT0, cache.generation());
  EXPECT_EQ(cache.Find("alice", kT0), (Roles{"alice", "sales"}));
  EXPECT_EQ(cache.Find("alice", kT0 + milliseconds(99)), (Roles{"alice", "sales"}));
  EXPECT_FALSE(cache.Find("alice", kT0 + milliseconds(100)).has_value());
  EXPECT_EQ(cache.size(), 0u);  // the expired entry is gone
  EXPECT_FALSE(cache.Find("bob", kT0).has_value());
}

TEST(MembershipCache, InsertReplaces) {
  MembershipCache cache(milliseconds(100));
  cache.Insert("alice", {"alice"}, kT0, cache.generation());
  cache.Insert("alice", {"alice", "dba"}, kT0 + milliseconds(50), cache.generation());
  EXPECT_EQ(cache.Find("alice", kT0 + milliseconds(120)), (Roles{"alice", "dba"}));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MembershipCache, ZeroTtlCachesNothing) {
  MembershipCache cache(milliseconds(0));
  cache.Insert("alice", {"alice"}, kT0, cache.generation());
  EXPECT_FALSE(cache.Find("alice", kT0).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(MembershipCache, ClearDropsEntriesAndAnswersInFlight) {
  MembershipCache cache(milliseconds(100));
  cache.Insert("alice", {"alice"}, kT0, cache.generation());
  const uint64_t asked = cache.generation();  // a question to the server starts
  cache.Clear();                              // SIGHUP meanwhile
  EXPECT_FALSE(cache.Find("alice", kT0).has_value());
  cache.Insert("bob", {"bob", "sales"}, kT0, asked);  // its answer arrives: dropped
  EXPECT_FALSE(cache.Find("bob", kT0).has_value());
  cache.Insert("bob", {"bob"}, kT0, cache.generation());
  EXPECT_EQ(cache.Find("bob", kT0), Roles{"bob"});
}

TEST(MembershipCache, StaysBounded) {
  MembershipCache cache(milliseconds(100), 3);
  cache.Insert("a", {"a"}, kT0, cache.generation());
  cache.Insert("b", {"b"}, kT0 + milliseconds(50), cache.generation());
  cache.Insert("c", {"c"}, kT0 + milliseconds(50), cache.generation());
  // Full; "a" has expired by now and makes room.
  cache.Insert("d", {"d"}, kT0 + milliseconds(110), cache.generation());
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.Find("b", kT0 + milliseconds(110)).has_value());
  EXPECT_TRUE(cache.Find("d", kT0 + milliseconds(110)).has_value());
  // Full of live entries: it starts over rather than grow.
  cache.Insert("e", {"e"}, kT0 + milliseconds(120), cache.generation());
  EXPECT_LE(cache.size(), 3u);
  EXPECT_EQ(cache.Find("e", kT0 + milliseconds(120)), Roles{"e"});
  // Replacing an existing login never evicts.
  cache.Insert("e", {"e", "x"}, kT0 + milliseconds(120), cache.generation());
  EXPECT_EQ(cache.Find("e", kT0 + milliseconds(120)), (Roles{"e", "x"}));
}

}  // namespace
}  // namespace pgveil::catalog
