// CancelRegistry: maps the cancel keys pgveil hands to clients onto the sessions that
// own them. Clients never see the server's secret: each session gets a random key of its
// own (same length as the server's), so a CancelRequest can only reach the upstream of
// the session it names. Thread-safe; cancels are rare, so one mutex is enough.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pgveil::proxy {

struct CancelTarget {
  int32_t server_pid = 0;
  std::string server_key;  // the secret the server gave the session
};

class CancelRegistry {
 public:
  // Registers `target` and returns the client-visible secret (random, `key_len` bytes).
  std::string Register(int32_t pid, size_t key_len, std::shared_ptr<const CancelTarget> target);
  void Unregister(int32_t pid, std::string_view client_key);
  // Points a registered (pid, key) at another server session (a reused upstream).
  void Retarget(int32_t pid, std::string_view client_key,
                std::shared_ptr<const CancelTarget> target);
  // nullptr when no session owns this (pid, key).
  std::shared_ptr<const CancelTarget> Find(int32_t pid, std::string_view client_key) const;
  size_t size() const;

 private:
  static std::string MapKey(int32_t pid, std::string_view key);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const CancelTarget>> map_;
};

}  // namespace pgveil::proxy
