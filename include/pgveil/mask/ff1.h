// Ff1: format-preserving encryption FF1 (NIST SP 800-38G Rev. 1) over AES (Crypto++).
//
// An Ff1 holds one AES key schedule; it is immutable after Create() and its methods are
// const and thread-safe. Values are numeral strings of length n in a radix; this
// implementation works on their integer value NUM_radix(X) directly, which restricts it
// to radix^ceil(n/2) <= 2^64 (enough for 128-bit uuids in radix 2 and for every NIST
// sample). The domain radix^n must hold at least 1,000,000 values, as the standard asks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pgveil/status.h"

namespace pgveil::mask {

__extension__ typedef unsigned __int128 Uint128;

class Ff1 {
 public:
  // Everything about one (radix, n, tweak) domain that does not depend on the value,
  // prepared once: the moduli, the byte counts b and d, the first CBC-MAC block.
  struct Domain {
    uint32_t radix = 0;
    uint32_t n = 0, u = 0, v = 0;
    Uint128 radix_u = 0, radix_v = 0;
    uint32_t b = 0, d = 0;
    std::string tweak;
    uint8_t p_block[16] = {};  // CIPH_K(P): the PRF state after the fixed block P
  };

  static constexpr size_t kMaxTweak = 64;

  // `key` is an AES key of 16, 24 or 32 bytes.
  static StatusOr<std::unique_ptr<Ff1>> Create(std::span<const uint8_t> key);
  ~Ff1();
  Ff1(const Ff1&) = delete;
  Ff1& operator=(const Ff1&) = delete;

  // Validates (radix 2..65536, n >= 2, radix^n >= 10^6, radix^ceil(n/2) <= 2^64, tweak at
  // most kMaxTweak bytes) and prepares a domain.
  StatusOr<Domain> MakeDomain(uint32_t radix, uint32_t n, std::span<const uint8_t> tweak) const;

  // Encrypts / decrypts the numeral string whose value is x (x < radix^n; the caller
  // guarantees it). Returns the value of the output numeral string of length n.
  Uint128 Encrypt(const Domain& domain, Uint128 x) const;
  Uint128 Decrypt(const Domain& domain, Uint128 x) const;
  // The same for many values at once, in place: several values share each AES call,
  // which is several times faster per value than one at a time.
  void EncryptMany(const Domain& domain, std::span<Uint128> xs) const;
  void DecryptMany(const Domain& domain, std::span<Uint128> xs) const;

  // Numeral-string interface (digits < radix, most significant first), as in the
  // standard's sample vectors. Validates the digits.
  StatusOr<std::vector<uint32_t>> EncryptDigits(const Domain& domain,
                                                std::span<const uint32_t> digits) const;
  StatusOr<std::vector<uint32_t>> DecryptDigits(const Domain& domain,
                                                std::span<const uint32_t> digits) const;

 private:
  struct Impl;
  explicit Ff1(std::unique_ptr<Impl> impl);
  Uint128 Crypt(const Domain& domain, Uint128 x, bool encrypt) const;
  void CryptMany(const Domain& domain, Uint128* xs, size_t count, bool encrypt) const;
  void EncryptBlocks(uint8_t* blocks, size_t count) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::mask
