// Why groups and not one regular expression: a regex scanning left to right commits to the
// first digits it can use, so an innocent price in front of a phone number (1999元
// 13812345678) would swallow the phone's first digits and leave the rest readable.
// Groups keep the writer's own boundaries and every valid run of them is checked.
#include "mask/redact/numbers.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "mask/redact/text.h"
#include "mask/redact/validators.h"

namespace pgveil::mask::redact_internal {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

// Letters that stand in for digits between two digits: 138l2345678, 2O24.
char Lookalike(char c) {
  switch (c) {
    case 'o':
    case 'O':
      return '0';
    case 'l':
    case 'I':
      return '1';
    default:
      return 0;
  }
}

// A unit written in Latin letters right after a number: 175cm, 65kg, 8k, 2w, 10pm.
bool IsAsciiUnit(std::string_view word) {
  static constexpr std::string_view kUnits[] = {
      "cm", "mm", "km",  "kg",   "ml",  "kb",   "mb", "gb",  "tb", "k",   "w",     "h",
      "am", "pm", "rmb", "yuan", "min", "mins", "hr", "hrs", "yr", "yrs", "years", "kcal",
  };
  std::array<char, 8> lower{};
  if (word.size() > lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) lower[i] = static_cast<char>(word[i] | 0x20);
  const std::string_view w(lower.data(), word.size());
  return std::find(std::begin(kUnits), std::end(kUnits), w) != std::end(kUnits);
}

// The offset of the first ASCII digit at or after `i` (norm.size() if none). Skips eight
// bytes at a time: most text has few digits.
size_t NextDigit(std::string_view norm, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (i + 8 <= norm.size()) {
    uint64_t w;
    std::memcpy(&w, norm.data() + i, 8);
    // A byte x is a digit iff x < 0x80 and 0x2F < x < 0x3A ("hasbetween" bit trick).
    const uint64_t low7 = w & (kOnes * 0x7F);
    const uint64_t between =
        ((kOnes * (0x7F + 0x3A)) - low7) & ~w & (low7 + kOnes * (0x7F - 0x2F)) & kHigh;
    if (between != 0) break;
    i += 8;
  }
  while (i < norm.size() && !IsDigit(norm[i])) ++i;
  return i;
}

// True if the code points right before norm[b] and right at norm[e] are both letters.
bool BetweenWords(std::string_view norm, size_t b, size_t e) {
  if (b == 0 || e >= norm.size()) return false;
  size_t p = b - 1;
  while (p > 0 && (static_cast<unsigned char>(norm[p]) & 0xC0) == 0x80) --p;
  const Decoded before = DecodeUtf8(norm.data() + p, norm.data() + b);
  const Decoded after = DecodeUtf8(norm.data() + e, norm.data() + norm.size());
  return before.cp >= 0x80 && after.cp >= 0x80 && (CpFlags(before.cp) & kCpWord) &&
         (CpFlags(after.cp) & kCpWord);
}

}  // namespace

int Joinable(std::string_view norm, size_t a, size_t b, bool after_digits) {
  int cps = 0;
  int words = 0;
  char32_t last = 0;
  const char* p = norm.data() + a;
  const char* end = norm.data() + b;
  while (p < end) {
    if (++cps > kMaxGapCodePoints) return -1;
    const bool first = cps == 1;
    const char c = *p;
    if (static_cast<unsigned char>(c) < 0x80) {
      last = static_cast<unsigned char>(c);
      if (IsAsciiLetter(c)) {
        if (first && after_digits) {
          const char* q = p;
          while (q < end && IsAsciiLetter(*q)) ++q;
          if (IsAsciiUnit(std::string_view(p, q - p))) return -1;
        }
        ++words;
      } else if (c == '%' && first && after_digits) {
        return -1;
      }
      ++p;
    } else {
      const Decoded d = DecodeUtf8(p, end);
      const uint8_t flags = CpFlags(d.cp);
      if ((flags & kCpUnit) && first && after_digits) return -1;
      if (flags & kCpWord) ++words;
      last = d.cp;
      p += d.len;
    }
    if (words > kMaxGapWords) return -1;
  }
  if (last == '$' || (last >= 0x80 && (CpFlags(last) & kCpCurrency))) return -1;
  return words;
}

namespace {

// Digits a context word takes: WeChat/QQ numbers, ID numbers (15 or 18), card numbers.
struct ContextDigits {
  uint32_t min;
  uint32_t max;
};

ContextDigits DigitsFor(Detector d) {
  switch (d) {
    case Detector::kIdCard:
      return {15, 18};
    case Detector::kBankCard:
      return {16, 19};
    default:
      return {5, 12};
  }
}

Rank RankFor(Detector d, bool before) {
  if (d == Detector::kIdCard) return Rank::kIdCard;
  if (d == Detector::kBankCard) return Rank::kBankCard;
  return before ? Rank::kContextBefore : Rank::kContextAfter;
}

}  // namespace

void NumberScanner::Scan(std::string_view norm, const std::vector<uint32_t>& weak_digits,
                         const std::vector<Context>& contexts, NumberDetectors detectors,
                         std::vector<Span>* out) {
  FindGroups(norm, weak_digits);
  if (groups_.empty()) return;
  CheckRuns(norm, detectors, out);
  for (size_t i = 0; i < contexts.size(); ++i) {
    const uint32_t prev_end = i > 0 ? contexts[i - 1].end : 0;
    const uint32_t next_begin =
        i + 1 < contexts.size() ? contexts[i + 1].begin : static_cast<uint32_t>(norm.size());
    CheckContext(norm, contexts[i], prev_end, next_begin, out);
  }
}

void NumberScanner::FindGroups(std::string_view norm, const std::vector<uint32_t>& weak_digits) {
  groups_.clear();
  digits_.clear();
  size_t wi = 0;  // cursor into weak_digits
  auto is_weak = [&](size_t pos) {
    while (wi < weak_digits.size() && weak_digits[wi] < pos) ++wi;
    return wi < weak_digits.size() && weak_digits[wi] == pos;
  };
  const size_t n = norm.size();
  size_t i = 0;
  while (i < n) {
    i = NextDigit(norm, i);
    if (i >= n) break;
    // A lookalike letter right before the digits: I38I2345678.
    if (i > 0 && Lookalike(norm[i - 1]) &&
        (i == 1 || (!IsDigit(norm[i - 2]) && !IsAsciiLetter(norm[i - 2])))) {
      --i;
    }
    const size_t run_begin = i;
    size_t j = i + 1;
    while (j < n) {
      if (IsDigit(norm[j])) {
        ++j;
      } else if (Lookalike(norm[j]) && j + 1 < n && IsDigit(norm[j + 1])) {
        ++j;  // norm[j - 1] is a digit: the run started with one
      } else {
        break;
      }
    }
    // A lone Chinese numeral between two Han words (有一个, 去三天) is a word, not a digit.
    if (j == i + 1 && is_weak(i) && BetweenWords(norm, i, j)) {
      i = j;
      continue;
    }
    // ... and right after them, before a non-letter: 1381234567l.
    if (j < n && Lookalike(norm[j]) &&
        (j + 1 == n || (!IsDigit(norm[j + 1]) && !IsAsciiLetter(norm[j + 1])))) {
      ++j;
    }
    // Every Chinese numeral is a group; other digits group by runs. All stay joined.
    const size_t run_first_group = groups_.size();
    size_t k = run_begin;
    while (k < j) {
      const bool weak = is_weak(k);
      size_t m = k + 1;
      while (!weak && m < j && !is_weak(m)) ++m;
      Group g{};
      g.begin = static_cast<uint32_t>(k);
      g.end = static_cast<uint32_t>(m);
      g.dbegin = static_cast<uint32_t>(digits_.size());
      g.dlen = static_cast<uint32_t>(m - k);
      g.weak = weak;
      g.join_next = true;
      for (size_t q = k; q < m; ++q) {
        digits_.push_back(IsDigit(norm[q]) ? norm[q] : Lookalike(norm[q]));
      }
      groups_.push_back(g);
      k = m;
    }
    groups_.back().join_next = false;
    // Count how many numerals stand together (一 alone is a word, 一三八 is a number).
    for (size_t a = run_first_group; a < groups_.size();) {
      size_t b = a;
      while (b < groups_.size() && groups_[b].weak) ++b;
      for (size_t q = a; q < b; ++q) groups_[q].weak_run = static_cast<uint32_t>(b - a);
      a = b == a ? a + 1 : b;
    }
    if (j < n) {
      const Decoded d = DecodeUtf8(norm.data() + j, norm.data() + n);
      const size_t after = j + d.len;
      if ((CpFlags(d.cp) & kCpIdX) &&
          (after >= n || (!IsDigit(norm[after]) && !IsAsciiLetter(norm[after])))) {
        groups_.back().x_end = static_cast<uint32_t>(after);
      }
    }
    i = j;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    Group& cur = groups_[g];
    if (cur.end < n) {
      const Decoded d = DecodeUtf8(norm.data() + cur.end, norm.data() + n);
      cur.quantity = (CpFlags(d.cp) & kCpUnit) != 0 || d.cp == '%';
    }
    if (cur.begin > 0) {
      size_t p = cur.begin - 1;
      while (p > 0 && (static_cast<unsigned char>(norm[p]) & 0xC0) == 0x80) --p;
      const Decoded d = DecodeUtf8(norm.data() + p, norm.data() + n);
      cur.quantity |= d.cp == '$' || (CpFlags(d.cp) & kCpCurrency) != 0;
    }
    if (g + 1 == groups_.size() || cur.end == groups_[g + 1].begin) continue;  // split run
    const int words = Joinable(norm, cur.end, groups_[g + 1].begin, true);
    cur.join_next = words >= 0;
    cur.gap_words = static_cast<int8_t>(words);
  }
}

void NumberScanner::CheckRuns(std::string_view norm, NumberDetectors det, std::vector<Span>* out) {
  if (!det.mobile && !det.id_card && !det.bank_card) return;
  std::array<char, 20> buf;
  for (size_t i = 0; i < groups_.size(); ++i) {
    size_t len = 0;
    for (size_t j = i; j < groups_.size(); ++j) {
      const Group& g = groups_[j];
      if (j > i && !groups_[j - 1].join_next) break;
      if (len + g.dlen > 19) break;
      std::copy_n(digits_.data() + g.dbegin, g.dlen, buf.data() + len);
      len += g.dlen;
      const std::string_view d(buf.data(), len);
      const uint32_t begin = groups_[i].begin;
      if (det.id_card && len == 17 && g.x_end != 0) {
        buf[17] = 'X';
        if (IsIdCardNumber(std::string_view(buf.data(), 18))) {
          out->push_back({begin, g.x_end, Detector::kIdCard, Rank::kIdCard});
          continue;
        }
      }
      if (det.id_card && len == 18 && IsIdCardNumber(d)) {
        out->push_back({begin, g.end, Detector::kIdCard, Rank::kIdCard});
        continue;
      }
      if (det.mobile && (len == 11 || len == 13 || len == 15) && IsMobileNumber(d)) {
        // Keep the '+' of +86 inside the replacement.
        const uint32_t b = (len > 11 && begin > 0 && norm[begin - 1] == '+') ? begin - 1 : begin;
        out->push_back({b, g.end, Detector::kMobile, Rank::kMobile});
        continue;
      }
      if (det.bank_card && len >= 16 && IsBankCardNumber(d)) {
        out->push_back({begin, g.end, Detector::kBankCard, Rank::kBankCard});
      }
    }
  }
}

// A lone Chinese numeral followed by a letter is a word (一起, 两个), not part of a number.
bool NumberScanner::WordLike(std::string_view norm, const Group& g) const {
  if (!g.weak || g.weak_run != 1 || g.end >= norm.size()) return false;
  const Decoded d = DecodeUtf8(norm.data() + g.end, norm.data() + norm.size());
  return (CpFlags(d.cp) & kCpWord) != 0;
}

// Whether a context value of `total` digits so far continues into group g + 1. A gap
// with more than one letter or Han character is only crossed while the value is still
// too short to be one (扣扣 1二3哈4五6七8), and quantities (28岁) are never taken.
bool NumberScanner::Extends(std::string_view norm, size_t g, uint32_t total, uint32_t max) const {
  if (g + 1 >= groups_.size() || !groups_[g].join_next) return false;
  const Group& next = groups_[g + 1];
  if (total + next.dlen > max || next.quantity || WordLike(norm, next)) return false;
  return groups_[g].gap_words <= 1 || total < 5;
}

void NumberScanner::CheckContext(std::string_view norm, const Context& ctx, uint32_t prev_end,
                                 uint32_t next_begin, std::vector<Span>* out) {
  const auto [min, max] = DigitsFor(ctx.detector);
  // Digits after the word: 微信 123456789, QQ号：一二三四五六七八, 身份证 ...
  auto after = std::lower_bound(groups_.begin(), groups_.end(), ctx.end,
                                [](const Group& g, uint32_t pos) { return g.begin < pos; });
  if (after != groups_.end() && after->begin <= next_begin &&
      Joinable(norm, ctx.end, after->begin, false) >= 0 && !WordLike(norm, *after)) {
    const size_t first = after - groups_.begin();
    size_t last = first;
    uint32_t total = groups_[first].dlen;
    while (Extends(norm, last, total, max)) total += groups_[++last].dlen;
    uint32_t end = groups_[last].end;
    if (ctx.detector == Detector::kIdCard && total == 17 && groups_[last].x_end != 0) {
      end = groups_[last].x_end;
      ++total;
    }
    if (total >= min) {
      out->push_back({groups_[first].begin, end, ctx.detector, RankFor(ctx.detector, true)});
    }
  }
  // Digits before the word: 123456789是我扣扣. Generic words (加我) only look ahead.
  if (!ctx.strong) return;
  auto before = std::lower_bound(groups_.begin(), groups_.end(), ctx.begin,
                                 [](const Group& g, uint32_t pos) { return g.end <= pos; });
  if (before == groups_.begin()) return;
  --before;
  if (before->end < prev_end) return;
  if (before->quantity || Joinable(norm, before->end, ctx.begin, true) < 0) return;
  const size_t last = before - groups_.begin();
  size_t first = last;
  uint32_t total = groups_[last].dlen;
  while (first > 0 && groups_[first - 1].join_next && !groups_[first - 1].quantity &&
         total + groups_[first - 1].dlen <= max &&
         (groups_[first - 1].gap_words <= 1 || total < 5)) {
    --first;
    total += groups_[first].dlen;
  }
  if (total >= min) {
    out->push_back(
        {groups_[first].begin, groups_[last].end, ctx.detector, RankFor(ctx.detector, false)});
  }
}

}  // namespace pgveil::mask::redact_internal
