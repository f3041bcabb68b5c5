// FF1 against NIST's published sample vectors (SP 800-38G, FF1samples.pdf) and
// reversibility / bijection properties with a fixed seed.
#include "pgveil/mask/ff1.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace pgveil::mask {
namespace {

std::vector<uint8_t> Hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<uint32_t> Digits(std::string_view s) {
  std::vector<uint32_t> d;
  for (char c : s) d.push_back(c <= '9' ? c - '0' : c - 'a' + 10);
  return d;
}

std::string Str(const std::vector<uint32_t>& d) {
  std::string s;
  for (uint32_t x : d) s.push_back(static_cast<char>(x < 10 ? '0' + x : 'a' + x - 10));
  return s;
}

struct Sample {
  int number;
  const char* key;
  uint32_t radix;
  const char* tweak;
  const char* plaintext;
  const char* ciphertext;
};

constexpr char kKey128[] = "2B7E151628AED2A6ABF7158809CF4F3C";
constexpr char kKey192[] = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F";
constexpr char kKey256[] = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94";
constexpr char kTweak2[] = "39383736353433323130";
constexpr char kTweak3[] = "3737373770717273373737";

const Sample kSamples[] = {
    {1, kKey128, 10, "", "0123456789", "2433477484"},
    {2, kKey128, 10, kTweak2, "0123456789", "6124200773"},
    {3, kKey128, 36, kTweak3, "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
    {4, kKey192, 10, "", "0123456789", "2830668132"},
    {5, kKey192, 10, kTweak2, "0123456789", "2496655549"},
    {6, kKey192, 36, kTweak3, "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"},
    {7, kKey256, 10, "", "0123456789", "6657667009"},
    {8, kKey256, 10, kTweak2, "0123456789", "1001623463"},
    {9, kKey256, 36, kTweak3, "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
};

class NistSample : public ::testing::TestWithParam<Sample> {};

TEST_P(NistSample, EncryptsAndDecrypts) {
  const Sample& s = GetParam();
  auto key = Hex(s.key);
  auto tweak = Hex(s.tweak);
  auto ff1 = Ff1::Create(key);
  ASSERT_TRUE(ff1.ok()) << ff1.status().ToString();
  auto pt = Digits(s.plaintext);
  auto dom = (*ff1)->MakeDomain(s.radix, static_cast<uint32_t>(pt.size()), tweak);
  ASSERT_TRUE(dom.ok()) << dom.status().ToString();
  auto ct = (*ff1)->EncryptDigits(*dom, pt);
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(Str(*ct), s.ciphertext) << "sample " << s.number;
  auto back = (*ff1)->DecryptDigits(*dom, *ct);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Str(*back), s.plaintext) << "sample " << s.number;
}

INSTANTIATE_TEST_SUITE_P(Ff1, NistSample, ::testing::ValuesIn(kSamples), [](const auto& info) {
  return "Sample" + std::to_string(info.param.number);
});

TEST(Ff1, RejectsBadParameters) {
  auto ff1 = Ff1::Create(Hex(kKey256));
  ASSERT_TRUE(ff1.ok());
  EXPECT_FALSE(Ff1::Create(Hex("0011")).ok());        // not an AES key size
  EXPECT_FALSE((*ff1)->MakeDomain(10, 5, {}).ok());   // 10^5 < 10^6
  EXPECT_TRUE((*ff1)->MakeDomain(10, 6, {}).ok());    // exactly 10^6
  EXPECT_FALSE((*ff1)->MakeDomain(1, 40, {}).ok());   // radix 1
  EXPECT_FALSE((*ff1)->MakeDomain(10, 60, {}).ok());  // 10^30 halves exceed 2^64
  std::vector<uint8_t> long_tweak(Ff1::kMaxTweak + 1, 7);
  EXPECT_FALSE((*ff1)->MakeDomain(10, 10, long_tweak).ok());
  auto dom = (*ff1)->MakeDomain(10, 10, {});
  ASSERT_TRUE(dom.ok());
  EXPECT_FALSE((*ff1)->EncryptDigits(*dom, Digits("012345678")).ok());  // wrong length
  std::vector<uint32_t> bad = Digits("0123456789");
  bad[3] = 10;
  EXPECT_FALSE((*ff1)->EncryptDigits(*dom, bad).ok());  // digit >= radix
}

// Over random inputs (fixed seed): Decrypt(Encrypt(x)) == x, outputs stay in the domain,
// encryption is deterministic and, on a small domain, a permutation.
TEST(Ff1, RoundTripsAndStaysInDomain) {
  auto ff1 = Ff1::Create(Hex(kKey256));
  ASSERT_TRUE(ff1.ok());
  std::mt19937_64 rng(20240531);
  for (uint32_t n : {20u, 31u, 63u, 128u}) {
    auto dom = (*ff1)->MakeDomain(2, n, {});
    ASSERT_TRUE(dom.ok());
    for (int i = 0; i < 2000; ++i) {
      Uint128 x = (static_cast<Uint128>(rng()) << 64) | rng();
      if (n < 128) x &= (Uint128(1) << n) - 1;
      Uint128 y = (*ff1)->Encrypt(*dom, x);
      if (n < 128) {
        ASSERT_LT(y, Uint128(1) << n);
      }
      ASSERT_EQ((*ff1)->Encrypt(*dom, x), y);
      ASSERT_EQ((*ff1)->Decrypt(*dom, y), x);
    }
  }
  // radix 2, 20 bits (~10^6 values): the first 50,000 inputs map to distinct outputs.
  auto dom = (*ff1)->MakeDomain(2, 20, {});
  ASSERT_TRUE(dom.ok());
  std::set<uint64_t> seen;
  for (uint64_t x = 0; x < 50000; ++x) {
    ASSERT_TRUE(seen.insert(static_cast<uint64_t>((*ff1)->Encrypt(*dom, x))).second);
  }
}

TEST(Ff1, DifferentKeysAndTweaksGiveDifferentPermutations) {
  auto a = Ff1::Create(Hex(kKey256));
  auto b = Ff1::Create(Hex(kKey128));
  ASSERT_TRUE(a.ok() && b.ok());
  auto da = (*a)->MakeDomain(10, 10, {});
  auto db = (*b)->MakeDomain(10, 10, {});
  auto dt = (*a)->MakeDomain(10, 10, Hex(kTweak2));
  int same_key = 0, same_tweak = 0;
  for (uint64_t x = 1000; x < 1100; ++x) {
    same_key += (*a)->Encrypt(*da, x) == (*b)->Encrypt(*db, x);
    same_tweak += (*a)->Encrypt(*da, x) == (*a)->Encrypt(*dt, x);
  }
  EXPECT_LT(same_key, 3);
  EXPECT_LT(same_tweak, 3);
}

TEST(Ff1, ManyAtOnceEqualsOneAtATime) {
  auto ff1 = Ff1::Create(Hex(kKey256));
  ASSERT_TRUE(ff1.ok());
  // Short and long tweaks (the long one fills Q with no padding), radix 2 and 10, and
  // halves of 4 and 8 bytes (S of 8 and 12 bytes).
  std::vector<Ff1::Domain> domains;
  for (auto [radix, n, tweak] : {std::tuple<uint32_t, uint32_t, std::string>{2, 63, ""},
                                 {2, 31, ""},
                                 {2, 128, ""},
                                 {10, 19, ""},
                                 {10, 10, std::string(kTweak2)},
                                 {36, 12, std::string(kTweak2) + std::string(kTweak2)},
                                 {65536, 8, "0011223344556677889900aabbccddeeff001122"}}) {
    auto dom = (*ff1)->MakeDomain(radix, n, Hex(tweak));
    ASSERT_TRUE(dom.ok()) << radix << " " << n;
    domains.push_back(*dom);
  }
  uint64_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed;
  };
  for (const auto& dom : domains) {
    const Uint128 size = dom.radix_u * dom.radix_v;  // 0: all of 2^128
    for (size_t count : {0, 1, 7, 8, 9, 100}) {
      std::vector<Uint128> xs(count);
      for (auto& x : xs) {
        x = (Uint128(next()) << 64) | next();
        if (size != 0) x %= size;
      }
      std::vector<Uint128> ys = xs;
      (*ff1)->EncryptMany(dom, ys);
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(ys[i], (*ff1)->Encrypt(dom, xs[i])) << "radix " << dom.radix << " n " << dom.n;
      }
      (*ff1)->DecryptMany(dom, ys);
      EXPECT_EQ(ys, xs);
    }
  }
}

}  // namespace
}  // namespace pgveil::mask
