// Text plumbing for the redactor: strict UTF-8 decoding, per-code-point classes, the
// normalized view that every detector reads, and the map back to input offsets.
//
// Normalization folds the ways people disguise characters into one spelling, so that a
// detector written once sees every disguise:
//   - every digit-like code point (full-width, Chinese numerals including 幺/两, financial
//     numerals, circled/parenthesized/superscript digits, other scripts' digits,
//     mathematical digits) becomes the ASCII digit of its value;
//   - full-width ASCII (U+FF01..U+FF5E) becomes ASCII, U+3000 and U+FE6B (small ＠)
//     become ' ' and '@';
//   - each byte of an invalid UTF-8 sequence becomes kInvalidByte (an ASCII control
//     character, so it reads as a separator);
//   - everything else is copied unchanged.
// The normalized text is therefore always valid UTF-8.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgveil::mask::redact_internal {

inline constexpr char kInvalidByte = '\x1a';

// One decoded code point. `len` is at least 1; an invalid sequence decodes as a single
// invalid byte (valid == false, cp == 0xFFFD).
struct Decoded {
  char32_t cp;
  uint8_t len;
  bool valid;
};

// Strict decoding: no overlong forms, no surrogates, nothing above U+10FFFF.
inline Decoded DecodeUtf8(const char* p, const char* end) {
  const auto b0 = static_cast<unsigned char>(p[0]);
  if (b0 < 0x80) return {b0, 1, true};
  const Decoded bad{0xFFFD, 1, false};
  int n;
  char32_t cp;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return bad;
  }
  if (end - p < n) return bad;
  for (int i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(p[i]);
    if ((b & 0xC0) != 0x80) return bad;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return bad;
  return {cp, static_cast<uint8_t>(n), true};
}

// Class bits of a code point.
enum CpFlag : uint8_t {
  kCpWord = 1 << 0,      // a letter: Han, kana, hangul, Latin, Cyrillic, ...
  kCpUnit = 1 << 1,      // a unit or counter word that ends a quantity: 岁 元 年 个 ...
  kCpCurrency = 1 << 2,  // a currency sign that starts a quantity: ¥ ￥ $ € £
  kCpIdX = 1 << 3,       // can stand for the ID-card check character X (X x ×)
  kCpTrigger = 1 << 4,   // first character of a Han context word (微 in 微信)
};

// What the BMP table says about one code point.
struct CpInfo {
  int8_t digit = -1;  // 0..9, or -1
  bool weak = false;
  uint8_t flags = 0;  // CpFlag bits
  char fold = 0;      // the ASCII byte it normalizes to, or 0 if kept
};
extern const std::array<CpInfo, 0x10000> kCpTable;
int DigitValueAstral(char32_t cp);
uint8_t CpFlagsAstral(char32_t cp);

// Digit value 0..9 of a digit-like code point, or -1. `weak` is set for digits that are
// also ordinary words (Chinese numerals such as 一 or 两).
inline int DigitValue(char32_t cp, bool* weak) {
  if (cp < 0x10000) {
    *weak = kCpTable[cp].weak;
    return kCpTable[cp].digit;
  }
  *weak = false;
  return DigitValueAstral(cp);
}
inline uint8_t CpFlags(char32_t cp) {
  return cp < 0x10000 ? kCpTable[cp].flags : CpFlagsAstral(cp);
}
// Combining marks, variation selectors and joiners: they belong to the character before
// them (the keycap in 8️⃣), so a replacement swallows them.
bool IsCombining(char32_t cp);

struct NormalizeResult {
  bool identical = true;     // the normalized text equals the input byte for byte
  bool valid_utf8 = true;    // the input had no invalid sequence
  bool has_digit = false;    // any digit after normalization
  bool has_trigger = false;  // a character some textual pattern needs: letters, '@', '#',
                             // '.', or the first character of a Han context word
};

// Writes the normalized form of `in` to *out (replacing its contents) and the offsets
// of weak digits in *out to *weak_digits (ascending).
NormalizeResult Normalize(std::string_view in, std::string* out,
                          std::vector<uint32_t>* weak_digits);

// Maps offsets in the normalized text back to offsets in the input. Queries must not
// decrease and must fall on code point boundaries of the normalized text (every span a
// detector reports does); each call walks only from the previous query.
class OffsetMapper {
 public:
  explicit OffsetMapper(std::string_view in) : in_(in) {}
  size_t ToInput(size_t normalized_offset);

 private:
  std::string_view in_;
  size_t in_pos_ = 0;
  size_t norm_pos_ = 0;
};

// Appends `in` to *out with each invalid UTF-8 byte replaced by U+FFFD.
void AppendSanitized(std::string_view in, std::string* out);

}  // namespace pgveil::mask::redact_internal
