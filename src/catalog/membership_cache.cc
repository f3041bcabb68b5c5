#include "catalog/membership_cache.h"

#include <utility>

namespace pgveil::catalog {

MembershipCache::MembershipCache(std::chrono::milliseconds ttl, size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries) {}

std::optional<std::vector<std::string>> MembershipCache::Find(const std::string& login,
                                                              Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(login);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.roles;
}

uint64_t MembershipCache::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void MembershipCache::Insert(const std::string& login, std::vector<std::string> roles,
                             Clock::time_point fetched_at, uint64_t generation) {
  if (ttl_.count() <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return;
  if (entries_.size() >= max_entries_ && entries_.find(login) == entries_.end()) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = fetched_at >= it->second.expires ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_.insert_or_assign(login, Entry{std::move(roles), fetched_at + ttl_});
}

void MembershipCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  ++generation_;
}

size_t MembershipCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace pgveil::catalog
