#include "mask/hmac.h"

#include <crypto++/misc.h>

#include <cstring>

namespace pgveil::mask {

HmacSha256::HmacSha256(const uint8_t* key, size_t key_len) {
  uint8_t block[64] = {};
  if (key_len > sizeof(block)) {
    CryptoPP::SHA256().CalculateDigest(block, key, key_len);
  } else {
    std::memcpy(block, key, key_len);
  }
  uint8_t pad[64];
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  inner_.Update(pad, 64);
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  outer_.Update(pad, 64);
  CryptoPP::SecureWipeArray(block, sizeof(block));
  CryptoPP::SecureWipeArray(pad, sizeof(pad));
}

void HmacSha256::Compute(std::string_view a, std::string_view b, uint8_t out[32]) const {
  CryptoPP::SHA256 inner = inner_;
  inner.Update(reinterpret_cast<const uint8_t*>(a.data()), a.size());
  inner.Update(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  uint8_t digest[32];
  inner.Final(digest);
  CryptoPP::SHA256 outer = outer_;
  outer.Update(digest, sizeof(digest));
  outer.Final(out);
}

void DeriveKey(const uint8_t* master, size_t master_len, std::string_view purpose,
               std::string_view domain, uint8_t out[32]) {
  HmacSha256 h(master, master_len);
  std::string label(purpose);
  label.push_back('\0');
  h.Compute(label, domain, out);
}

}  // namespace pgveil::mask
