// The number scanner: finds mobile, ID-card and bank-card numbers however their digits
// are spread out, and the digits that follow (or precede) a context word (微信, QQ,
// 身份证, 卡号, ...).
//
// It reads the normalized text (see text.h), where every digit-like character is already
// an ASCII digit. Digits are cut into groups: maximal digit runs, with every Chinese
// numeral a group of its own (numerals are also words, so 13812345678一直 and
// 一三九一二三四五六七八两年 must still yield the phone). Groups of one run always join.
// Neighbouring groups join when the gap between them is short junk: at most
// kMaxGapCodePoints code points of which at most kMaxGapWords are letters or Han
// characters, not starting with a unit (岁 元 年 cm ...) and not ending with a currency
// sign. Every run of consecutive joined groups whose digits validate is reported, so an
// innocent number next to a phone number cannot hide it; overlaps are merged later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mask/redact/spans.h"

namespace pgveil::mask::redact_internal {

inline constexpr int kMaxGapCodePoints = 8;
inline constexpr int kMaxGapWords = 3;

// If digits ending at norm[a] and digits starting at norm[b] may be one number, returns
// the number of letters and Han characters between them, else -1. `after_digits` is false
// when a is the end of a context word rather than of digits; then a unit at the start of
// the gap (号 in QQ号) does not break it.
int Joinable(std::string_view norm, size_t a, size_t b, bool after_digits);

struct NumberDetectors {
  bool mobile = false;
  bool id_card = false;
  bool bank_card = false;
};

// Reusable scanner state (one per thread; not thread-safe itself).
class NumberScanner {
 public:
  // Appends the spans found in `norm` to *out. `weak_digits` are the normalized offsets
  // of Chinese-numeral digits (ascending); `contexts` are sorted by begin.
  void Scan(std::string_view norm, const std::vector<uint32_t>& weak_digits,
            const std::vector<Context>& contexts, NumberDetectors detectors,
            std::vector<Span>* out);

 private:
  struct Group {
    uint32_t begin;   // first digit
    uint32_t end;     // after the last digit
    uint32_t x_end;   // after an ID-card check character X right behind, or 0
    uint32_t dbegin;  // digits in digits_
    uint32_t dlen;
    bool weak;          // a Chinese numeral (each is a group of its own)
    uint32_t weak_run;  // for weak groups: how many Chinese numerals stand together
    bool join_next;     // may form one number with the next group
    bool quantity;      // followed by a unit (28岁) or preceded by a currency sign
    int8_t gap_words;   // letters and Han characters between this group and the next
  };

  void FindGroups(std::string_view norm, const std::vector<uint32_t>& weak_digits);
  void CheckRuns(std::string_view norm, NumberDetectors detectors, std::vector<Span>* out);
  // `prev_end` / `next_begin` bound the neighbouring context words: digits belong to the
  // nearest word only.
  void CheckContext(std::string_view norm, const Context& ctx, uint32_t prev_end,
                    uint32_t next_begin, std::vector<Span>* out);
  bool WordLike(std::string_view norm, const Group& g) const;
  bool Extends(std::string_view norm, size_t g, uint32_t total, uint32_t max) const;

  std::vector<Group> groups_;
  std::string digits_;
};

}  // namespace pgveil::mask::redact_internal
