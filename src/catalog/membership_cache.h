// Role memberships per login, each kept for a fixed time to live. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgveil::catalog {

class MembershipCache {
 public:
  using Clock = std::chrono::steady_clock;

  // A zero (or negative) ttl caches nothing. Above `max_entries` logins, expired entries
  // are dropped on insert, and if none had expired the whole cache is.
  explicit MembershipCache(std::chrono::milliseconds ttl, size_t max_entries = 4096);

  // The roles of `login` if an entry younger than the ttl exists at `now`.
  std::optional<std::vector<std::string>> Find(const std::string& login, Clock::time_point now);

  // The value to pass to Insert(): read it before asking the server, so that a Clear()
  // during the question keeps its (possibly stale) answer out.
  uint64_t generation() const;

  // Stores `roles`, fetched at `fetched_at`, unless Clear() ran since `generation`.
  void Insert(const std::string& login, std::vector<std::string> roles,
              Clock::time_point fetched_at, uint64_t generation);

  void Clear();
  size_t size() const;

 private:
  struct Entry {
    std::vector<std::string> roles;
    Clock::time_point expires;
  };

  const std::chrono::milliseconds ttl_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  uint64_t generation_ = 0;                         // guarded by mu_
};

}  // namespace pgveil::catalog
