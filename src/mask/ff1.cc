// FF1 following NIST SP 800-38G Rev. 1, Algorithm 7 and 8, on integers.
//
// NUM_radix(A || B) = NUM_radix(A) * radix^v + NUM_radix(B), so the two halves are the
// quotient and remainder of the input value; STR_radix is never materialised inside the
// rounds. With b <= 8 (radix^v <= 2^64) the round output S is R itself (d <= 12 <= 16),
// so each round costs one AES block for Q (two when the tweak is long) after the
// precomputed block P.
//
// Thread safety: CryptoPP::AES::Encryption::ProcessBlock is const. With AES-NI it runs
// the intrinsic path; without it, ProcessAndXorBlock runs the table code, neither of
// which writes the object's mutable scratch block (that is used only by the SSE2
// assembly in AdvancedProcessBlocks, which is called for several blocks only when the
// CPU has AES-NI, whose path keeps no state in the object).
#include "pgveil/mask/ff1.h"

#include <crypto++/aes.h>
#include <crypto++/cpu.h>

#include <algorithm>
#include <cstring>

namespace pgveil::mask {

struct Ff1::Impl {
  CryptoPP::AES::Encryption aes;
  bool parallel = false;  // AES-NI: several blocks per call (see the top of this file)
};

Ff1::Ff1(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ff1::~Ff1() = default;

StatusOr<std::unique_ptr<Ff1>> Ff1::Create(std::span<const uint8_t> key) {
  if (key.size() != 16 && key.size() != 24 && key.size() != 32) {
    return InvalidArgument("FF1 needs an AES key of 128, 192 or 256 bits");
  }
  auto impl = std::make_unique<Impl>();
  impl->aes.SetKey(key.data(), key.size());
  impl->parallel = CryptoPP::HasAESNI();
  return std::unique_ptr<Ff1>(new Ff1(std::move(impl)));
}

namespace {

constexpr Uint128 kTwo64 = Uint128(1) << 64;

// radix^k, saturated at 2^64 + 1 so that "too large" is detectable.
Uint128 PowSat(uint32_t radix, uint32_t k) {
  Uint128 r = 1;
  for (uint32_t i = 0; i < k; ++i) {
    r *= radix;
    if (r > kTwo64) return kTwo64 + 1;
  }
  return r;
}

void Xor16(uint8_t* a, const uint8_t* b) {
  uint64_t x[2], y[2];
  std::memcpy(x, a, 16);
  std::memcpy(y, b, 16);
  x[0] ^= y[0];
  x[1] ^= y[1];
  std::memcpy(a, x, 16);
}

void StoreBe64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

uint64_t LoadBe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

uint32_t LoadBe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

}  // namespace

StatusOr<Ff1::Domain> Ff1::MakeDomain(uint32_t radix, uint32_t n,
                                      std::span<const uint8_t> tweak) const {
  if (radix < 2 || radix > 65536) return InvalidArgument("FF1 radix must be in 2..65536");
  if (n < 2) return InvalidArgument("FF1 numeral strings need at least 2 digits");
  if (tweak.size() > kMaxTweak) return InvalidArgument("FF1 tweak too long");
  Domain d;
  d.radix = radix;
  d.n = n;
  d.u = n / 2;
  d.v = n - d.u;
  d.radix_u = PowSat(radix, d.u);
  d.radix_v = PowSat(radix, d.v);
  if (d.radix_v > kTwo64) return InvalidArgument("FF1 domain too large for this implementation");
  // radix^n >= 10^6 (SP 800-38G Rev. 1, section 5.2).
  if (d.radix_v < 1000000 && d.radix_u * d.radix_v < 1000000)
    return InvalidArgument("FF1 domain smaller than 10^6");
  // b = ceil(ceil(v * log2(radix)) / 8) = byte length of radix^v - 1.
  Uint128 max_b = d.radix_v - 1;
  d.b = 0;
  while (max_b > 0) {
    ++d.b;
    max_b >>= 8;
  }
  if (d.b == 0) d.b = 1;
  d.d = 4 * ((d.b + 3) / 4) + 4;
  d.tweak.assign(tweak.begin(), tweak.end());

  uint8_t p[16] = {1, 2, 1};
  p[3] = static_cast<uint8_t>(radix >> 16);
  p[4] = static_cast<uint8_t>(radix >> 8);
  p[5] = static_cast<uint8_t>(radix);
  p[6] = 10;
  p[7] = static_cast<uint8_t>(d.u % 256);
  for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  uint32_t t = static_cast<uint32_t>(tweak.size());
  for (int i = 0; i < 4; ++i) p[12 + i] = static_cast<uint8_t>(t >> (24 - 8 * i));
  impl_->aes.ProcessBlock(p, d.p_block);
  return d;
}

void Ff1::CryptMany(const Domain& dom, Uint128* xs, size_t count, bool encrypt) const {
  // Values go through the rounds kLanes at a time: each round's AES blocks of all lanes
  // are one call, which AES-NI pipelines, where one value alone waits for every block.
  constexpr size_t kLanes = 8;
  const size_t t = dom.tweak.size();
  const size_t pad = (16 - (t + dom.b + 1) % 16) % 16;
  const size_t q_len = t + pad + 1 + dom.b;
  // The round's number goes in as one big-endian 64-bit store ending at q_len (q_len is a
  // multiple of 16, so it starts inside Q). The number is below 256^b, so the store
  // writes zeros over the 8 - b bytes before its b bytes: the round byte (set after it),
  // padding (zero anyway) and, with a long tweak and no padding, the tweak's last bytes,
  // which are put back.
  const size_t round_at = t + pad;
  const size_t clobbered = q_len - 8;
  const size_t tweak_fix = clobbered < t ? t - clobbered : 0;
  uint8_t q[kLanes][kMaxTweak + 32];
  alignas(16) uint8_t r[kLanes][16];
  uint64_t a[kLanes], b[kLanes];
  for (size_t lane = 0; lane < std::min(kLanes, count); ++lane) {
    std::memcpy(q[lane], dom.tweak.data(), t);
    std::memset(q[lane] + t, 0, pad);
  }
  for (size_t done = 0; done < count; done += kLanes) {
    const size_t lanes = std::min(kLanes, count - done);
    // Both halves are below radix^v <= 2^64, so they are 64-bit values; a modulus may
    // be 2^64 itself, so moduli stay 128-bit.
    for (size_t k = 0; k < lanes; ++k) {
      a[k] = static_cast<uint64_t>(xs[done + k] / dom.radix_v);
      b[k] = static_cast<uint64_t>(xs[done + k] % dom.radix_v);
    }
    for (int step = 0; step < 10; ++step) {
      const int i = encrypt ? step : 9 - step;
      for (size_t k = 0; k < lanes; ++k) {
        // In encryption the round input is B; in decryption it is A.
        StoreBe64(q[k] + q_len - 8, encrypt ? b[k] : a[k]);
        if (tweak_fix != 0) {
          std::memcpy(q[k] + clobbered, dom.tweak.data() + clobbered, tweak_fix);
        }
        q[k][round_at] = static_cast<uint8_t>(i);
        std::memcpy(r[k], dom.p_block, 16);
      }
      // R = PRF(P || Q): CBC-MAC continuing from CIPH(P), one block of every lane at a
      // time.
      for (size_t off = 0; off < q_len; off += 16) {
        for (size_t k = 0; k < lanes; ++k) Xor16(r[k], q[k] + off);
        EncryptBlocks(&r[0][0], lanes);
      }
      const Uint128 mod = (i % 2 == 0) ? dom.radix_u : dom.radix_v;
      for (size_t k = 0; k < lanes; ++k) {
        // y = NUM(S) with S the first d bytes of R: d is 8 (b <= 4) or 12.
        Uint128 y;
        if (dom.d == 8) {
          const uint64_t y64 = LoadBe64(r[k]);
          y = mod > UINT64_MAX ? Uint128(y64) : Uint128(y64 % static_cast<uint64_t>(mod));
        } else {
          y = ((Uint128(LoadBe64(r[k])) << 32) | LoadBe32(r[k] + 8)) % mod;
        }
        // (a + y) mod m and (b - y) mod m with both operands already below m.
        if (encrypt) {
          Uint128 c = Uint128(a[k]) + y;
          if (c >= mod) c -= mod;
          a[k] = b[k];
          b[k] = static_cast<uint64_t>(c);
        } else {
          Uint128 c = Uint128(b[k]) >= y ? Uint128(b[k]) - y : Uint128(b[k]) + mod - y;
          b[k] = a[k];
          a[k] = static_cast<uint64_t>(c);
        }
      }
    }
    for (size_t k = 0; k < lanes; ++k) xs[done + k] = Uint128(a[k]) * dom.radix_v + b[k];
  }
}

void Ff1::EncryptBlocks(uint8_t* blocks, size_t count) const {
  if (impl_->parallel) {
    impl_->aes.AdvancedProcessBlocks(blocks, nullptr, blocks, 16 * count,
                                     CryptoPP::BlockTransformation::BT_AllowParallel);
    return;
  }
  for (size_t k = 0; k < count; ++k) impl_->aes.ProcessBlock(blocks + 16 * k);
}

Uint128 Ff1::Crypt(const Domain& dom, Uint128 x, bool encrypt) const {
  CryptMany(dom, &x, 1, encrypt);
  return x;
}

void Ff1::EncryptMany(const Domain& domain, std::span<Uint128> xs) const {
  CryptMany(domain, xs.data(), xs.size(), true);
}
void Ff1::DecryptMany(const Domain& domain, std::span<Uint128> xs) const {
  CryptMany(domain, xs.data(), xs.size(), false);
}

Uint128 Ff1::Encrypt(const Domain& domain, Uint128 x) const { return Crypt(domain, x, true); }
Uint128 Ff1::Decrypt(const Domain& domain, Uint128 x) const { return Crypt(domain, x, false); }

namespace {

StatusOr<Uint128> DigitsToNum(const Ff1::Domain& dom, std::span<const uint32_t> digits) {
  if (digits.size() != dom.n) return InvalidArgument("FF1 input has the wrong length");
  Uint128 hi = 0, lo = 0;
  for (uint32_t i = 0; i < dom.n; ++i) {
    if (digits[i] >= dom.radix) return InvalidArgument("FF1 digit out of range");
    Uint128& part = i < dom.u ? hi : lo;
    part = part * dom.radix + digits[i];
  }
  return hi * dom.radix_v + lo;
}

std::vector<uint32_t> NumToDigits(const Ff1::Domain& dom, Uint128 x) {
  std::vector<uint32_t> out(dom.n);
  Uint128 hi = x / dom.radix_v, lo = x % dom.radix_v;
  for (uint32_t i = dom.n; i-- > dom.u;) {
    out[i] = static_cast<uint32_t>(lo % dom.radix);
    lo /= dom.radix;
  }
  for (uint32_t i = dom.u; i-- > 0;) {
    out[i] = static_cast<uint32_t>(hi % dom.radix);
    hi /= dom.radix;
  }
  return out;
}

}  // namespace

StatusOr<std::vector<uint32_t>> Ff1::EncryptDigits(const Domain& domain,
                                                   std::span<const uint32_t> digits) const {
  StatusOr<Uint128> x = DigitsToNum(domain, digits);
  if (!x.ok()) return x.status();
  return NumToDigits(domain, Encrypt(domain, *x));
}

StatusOr<std::vector<uint32_t>> Ff1::DecryptDigits(const Domain& domain,
                                                   std::span<const uint32_t> digits) const {
  StatusOr<Uint128> x = DigitsToNum(domain, digits);
  if (!x.ok()) return x.status();
  return NumToDigits(domain, Decrypt(domain, *x));
}

}  // namespace pgveil::mask
