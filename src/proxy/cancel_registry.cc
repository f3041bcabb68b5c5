#include "proxy/cancel_registry.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace pgveil::proxy {

std::string CancelRegistry::MapKey(int32_t pid, std::string_view key) {
  std::string k(4, '\0');
  auto u = static_cast<uint32_t>(pid);
  for (int i = 0; i < 4; ++i) k[i] = static_cast<char>(u >> (24 - 8 * i));
  k.append(key);
  return k;
}

std::string CancelRegistry::Register(int32_t pid, size_t key_len,
                                     std::shared_ptr<const CancelTarget> target) {
  std::string key(key_len, '\0');
  for (;;) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key_len)) != 1) {
      throw std::runtime_error("no random bytes for a cancel key");
    }
    std::lock_guard lock(mu_);
    if (map_.emplace(MapKey(pid, key), target).second) return key;
  }
}

void CancelRegistry::Unregister(int32_t pid, std::string_view client_key) {
  std::lock_guard lock(mu_);
  map_.erase(MapKey(pid, client_key));
}

void CancelRegistry::Retarget(int32_t pid, std::string_view client_key,
                              std::shared_ptr<const CancelTarget> target) {
  std::lock_guard lock(mu_);
  auto it = map_.find(MapKey(pid, client_key));
  if (it != map_.end()) it->second = std::move(target);
}

std::shared_ptr<const CancelTarget> CancelRegistry::Find(int32_t pid,
                                                         std::string_view client_key) const {
  std::lock_guard lock(mu_);
  auto it = map_.find(MapKey(pid, client_key));
  return it == map_.end() ? nullptr : it->second;
}

size_t CancelRegistry::size() const {
  std::lock_guard lock(mu_);
  return map_.size();
}

}  // namespace pgveil::proxy
