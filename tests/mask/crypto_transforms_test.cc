// hash and pseudonym: determinism, key and domain separation, reversibility, formats.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "mask/codec.h"
#include "mask/hmac.h"
#include "pgveil/mask/transforms.h"
#include "transform_test_util.h"

namespace pgveil::mask {
namespace {

Key KeyOf(uint8_t seed) {
  std::array<uint8_t, 32> b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed * 31 + i);
  return Key(b);
}

std::string Apply(const Transform& t, uint32_t type, std::string_view in,
                  Format f = Format::kText) {
  std::string out;
  bool is_null = false;
  Status s = t.Apply(type, f, in, &out, &is_null);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(is_null);
  return out;
}

// RFC 4231 test case 2: the precomputed-midstate HMAC is ordinary HMAC-SHA-256.
TEST(Hmac, MatchesRfc4231) {
  HmacSha256 h(reinterpret_cast<const uint8_t*>("Jefe"), 4);
  uint8_t d[32];
  h.Compute("what do ya want ", "for nothing?", d);
  std::string hex;
  for (uint8_t b : d) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than a block is hashed first (RFC 4231 test case 6).
  std::string long_key(131, '\xaa');
  HmacSha256 h6(reinterpret_cast<const uint8_t*>(long_key.data()), long_key.size());
  h6.Compute("Test Using Larger Than Block-Size Key - Hash Key First", "", d);
  EXPECT_EQ(d[0], 0x60);
  EXPECT_EQ(d[31], 0x54);
}

TEST(Hash, DeterministicKeyedAndFormatIndependent) {
  auto h = MakeHash({.key = KeyOf(1), .length = 16});
  auto h2 = MakeHash({.key = KeyOf(2), .length = 16});
  ASSERT_TRUE(h.ok() && h2.ok());
  const std::string a = Apply(**h, oid::kText, "13812345678");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Apply(**h, oid::kText, "13812345678"), a);
  EXPECT_NE(Apply(**h2, oid::kText, "13812345678"), a);
  EXPECT_NE(Apply(**h, oid::kText, "13812345679"), a);
  EXPECT_EQ(Apply(**h, oid::kText, ""), Apply(**h, oid::kVarchar, ""));
  // Text and binary forms of the same value hash alike.
  for (auto [type, text] : {std::pair<uint32_t, const char*>{oid::kInt8, "-9223372036854775808"},
                            {oid::kDate, "0044-03-15 BC"},
                            {oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
                            {oid::kTimestamp, "infinity"}}) {
    std::string bin;
    ASSERT_TRUE(codec::EncodeLiteral(type, Format::kBinary, text, &bin).ok());
    EXPECT_EQ(Apply(**h, type, bin, Format::kBinary), Apply(**h, type, text)) << text;
  }
  EXPECT_EQ((*h)->Output(oid::kInt8, -1).oid, oid::kText);
  auto full = MakeHash({.key = KeyOf(1), .length = 64});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(Apply(**full, oid::kText, "13812345678").substr(0, 16), a);
  EXPECT_FALSE(MakeHash({.key = KeyOf(1), .length = 7}).ok());
  EXPECT_FALSE(MakeHash({.key = KeyOf(1), .length = 65}).ok());
  std::string out = "x";
  bool is_null;
  EXPECT_FALSE((*h)->Apply(oid::kInt4, Format::kText, "abc", &out, &is_null).ok());
  EXPECT_EQ(out, "x");
}

TEST(Pseudonym, IntegersAreReversibleAndTypePreserving) {
  auto p = MakePseudonym({.key = KeyOf(3), .domain = "member"});
  ASSERT_TRUE(p.ok());
  const Transform& t = **p;
  EXPECT_TRUE(t.Reversible());
  std::mt19937_64 rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 3000; ++i) {
    const uint32_t type = i % 2 ? oid::kInt8 : oid::kInt4;
    const int64_t v = static_cast<int64_t>(rng() >> (type == oid::kInt8 ? 1 : 33));
    for (Format f : {Format::kText, Format::kBinary}) {
      std::string in;
      ASSERT_TRUE(codec::EncodeInt(type, f, v, &in).ok());
      std::string out = Apply(t, type, in, f);
      int64_t pv;
      ASSERT_TRUE(codec::DecodeInt(type, f, out, &pv).ok());
      ASSERT_GE(pv, 0);
      ASSERT_EQ(Apply(t, type, in, f), out);  // deterministic
      std::string back;
      ASSERT_TRUE(t.Reverse(type, f, out, &back).ok());
      ASSERT_EQ(back, in);
      if (f == Format::kText) seen.insert(std::to_string(type) + ":" + out);
    }
  }
  EXPECT_EQ(seen.size(), 3000u);  // no collisions among distinct inputs
  // Text and binary agree.
  std::string bin;
  ASSERT_TRUE(codec::EncodeInt(oid::kInt8, Format::kBinary, 1234567, &bin).ok());
  int64_t via_bin;
  ASSERT_TRUE(codec::DecodeInt(oid::kInt8, Format::kBinary,
                               Apply(t, oid::kInt8, bin, Format::kBinary), &via_bin)
                  .ok());
  EXPECT_EQ(std::to_string(via_bin), Apply(t, oid::kInt8, "1234567"));
  // The extremes of the domain.
  for (const char* v : {"0", "9223372036854775807"}) {
    std::string out = Apply(t, oid::kInt8, v), back;
    ASSERT_TRUE(t.Reverse(oid::kInt8, Format::kText, out, &back).ok());
    EXPECT_EQ(back, v);
  }
  // Negative values are outside the domain: an error, never the value.
  std::string out = "keep";
  bool is_null;
  EXPECT_FALSE(t.Apply(oid::kInt8, Format::kText, "-9223372036854775808", &out, &is_null).ok());
  EXPECT_EQ(out, "keep");
  EXPECT_FALSE(t.Accepts(oid::kInt2));
}

TEST(Pseudonym, DomainsAndKeysSeparate) {
  auto member = MakePseudonym({.key = KeyOf(3), .domain = "member"});
  auto member2 = MakePseudonym({.key = KeyOf(3), .domain = "member"});
  auto staff = MakePseudonym({.key = KeyOf(3), .domain = "staff"});
  auto other_key = MakePseudonym({.key = KeyOf(4), .domain = "member"});
  ASSERT_TRUE(member.ok() && member2.ok() && staff.ok() && other_key.ok());
  int same_domain = 0, cross = 0;
  for (int v = 1; v <= 200; ++v) {
    const std::string s = std::to_string(v);
    const std::string a = Apply(**member, oid::kInt8, s);
    same_domain += a == Apply(**member2, oid::kInt8, s);
    cross += a == Apply(**staff, oid::kInt8, s) || a == Apply(**other_key, oid::kInt8, s);
  }
  EXPECT_EQ(same_domain, 200);  // two columns of one domain join
  EXPECT_EQ(cross, 0);
}

TEST(Pseudonym, UuidAndText) {
  auto p = MakePseudonym({.key = KeyOf(5), .domain = "d", .prefix = "m_", .text_length = 12});
  ASSERT_TRUE(p.ok());
  const Transform& t = **p;
  const std::string u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
  const std::string pu = Apply(t, oid::kUuid, u);
  EXPECT_NE(pu, u);
  uint8_t raw[16];
  ASSERT_TRUE(codec::DecodeUuid(Format::kText, pu, raw).ok());
  std::string back;
  ASSERT_TRUE(t.Reverse(oid::kUuid, Format::kText, pu, &back).ok());
  EXPECT_EQ(back, u);
  std::string bin;
  codec::EncodeUuid(Format::kBinary, raw, &bin);
  std::string back_bin, back_text;
  ASSERT_TRUE(t.Reverse(oid::kUuid, Format::kBinary, bin, &back_bin).ok());
  ASSERT_TRUE(codec::Canonical(oid::kUuid, Format::kBinary, back_bin, &back_text).ok());
  EXPECT_EQ(back_text, u);

  const std::string tok = Apply(t, oid::kText, "张三丰");
  EXPECT_EQ(tok.size(), 2u + 12u);
  EXPECT_EQ(tok.substr(0, 2), "m_");
  EXPECT_EQ(tok.find_first_not_of("m_abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
  EXPECT_EQ(Apply(t, oid::kVarchar, "张三丰"), tok);
  EXPECT_NE(Apply(t, oid::kText, "张三"), tok);
  EXPECT_EQ(t.Output(oid::kVarchar, 20).oid, oid::kText);
  EXPECT_EQ(t.Output(oid::kInt8, -1).oid, oid::kInt8);
  EXPECT_FALSE(t.Reverse(oid::kText, Format::kText, tok, &back).ok());
  EXPECT_FALSE(MakePseudonym({.key = KeyOf(5), .domain = ""}).ok());
  EXPECT_FALSE(MakePseudonym({.key = KeyOf(5), .domain = "d", .text_length = 4}).ok());
}

}  // namespace
}  // namespace pgveil::mask
