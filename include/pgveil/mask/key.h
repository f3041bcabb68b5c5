// Key: 256 bits of secret key material for hash and pseudonym transforms.
//
// Keys come from a key file (src/rules/keys.h) and are copied into the transforms that
// use them; Key wipes its bytes when destroyed. Never print a Key.
#pragma once

#include <array>
#include <cstdint>

namespace pgveil::mask {

class Key {
 public:
  static constexpr size_t kSize = 32;

  Key() { bytes_.fill(0); }
  explicit Key(const std::array<uint8_t, kSize>& bytes) : bytes_(bytes) {}
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  ~Key();

  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return kSize; }

 private:
  std::array<uint8_t, kSize> bytes_;
};

}  // namespace pgveil::mask
