// HMAC-SHA-256 with the key's inner and outer pad blocks absorbed once, so that each
// value costs only the hash compressions of its own data (RFC 2104 computed from the
// two precomputed SHA-256 midstates; the result is ordinary HMAC-SHA-256).
#pragma once

#include <crypto++/sha.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pgveil::mask {

class HmacSha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  HmacSha256(const uint8_t* key, size_t key_len);

  // HMAC(key, a || b). Const and thread-safe: works on copies of the midstates.
  void Compute(std::string_view a, std::string_view b, uint8_t out[kDigestSize]) const;

 private:
  CryptoPP::SHA256 inner_;
  CryptoPP::SHA256 outer_;
};

// Derives a 256-bit subkey from a master key for one purpose and domain:
// HMAC-SHA-256(master, purpose || 0x00 || domain).
void DeriveKey(const uint8_t* master, size_t master_len, std::string_view purpose,
               std::string_view domain, uint8_t out[32]);

}  // namespace pgveil::mask
