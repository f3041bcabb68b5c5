// Normalization is the one place that knows how characters are disguised; detectors only
// ever see ASCII digits. It runs over every value, so it is a single pass with one table
// lookup per non-ASCII code point.
#include "mask/redact/text.h"

#include <array>
#include <string_view>

namespace pgveil::mask::redact_internal {

namespace {

// Characters written as digits in Chinese text. Han numerals are "weak": they are also
// words (一起, 两个), so the number scanner treats them with more suspicion.
constexpr std::string_view kHanDigits[10] = {
    "〇零洞", "一壹幺", "二贰貳两兩", "三叁參", "四肆",
    "五伍",   "六陆陸", "七柒拐",     "八捌",   "九玖勾",
};
// Counters and units: a number followed by one of these is a quantity (28岁, 1999元).
constexpr std::string_view kHanUnits =
    "岁元块年月日号斤米个天次楼层万千百十亿人位件张套周期平克度倍折名届后秒分时毛角页条本辆台只份"
    "瓶杯吨升";
constexpr std::string_view kCurrency = "¥￥$€£";
constexpr std::string_view kIdX = "Xx×";
// Han context words (微信, 扣扣, 企鹅, 艾特, 加我, 身份证, 银行卡, ...) by their first two
// characters: text with none of them (and no letters, '@', '#' or '.') skips the pattern
// pass. Each entry is a first character followed by the characters that may follow it.
constexpr std::string_view kTriggerBigrams[] = {
    "微信心芯xX", "威信", "薇信", "维信", "卫信", "徽信", "魏信", "扣扣",   "抠抠",
    "寇寇",       "蔻蔻", "叩叩", "企鹅", "球球", "秋秋", "绿泡", "加我vV", "艾特",
    "➕vV",        "圈a",  "身份", "证件", "银行", "卡号", "收款",
};

// First code points of the ranges of ten consecutive decimal digits (Unicode Nd, BMP).
constexpr char32_t kDigitBlocks[] = {
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66,
    0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810,
    0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0,
    0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x2080,  // subscripts ₀..₉
};
// Ranges holding the digits 1..9 (circled, parenthesized, with full stop, dingbats,
// parenthesized and circled ideographs).
constexpr char32_t kOneToNineBlocks[] = {
    0x2460, 0x2474, 0x2488, 0x24F5, 0x2776, 0x2780, 0x278A, 0x3220, 0x3280,
};

// Letter ranges (besides ASCII): they cost as words between digits.
constexpr std::pair<char32_t, char32_t> kWordRanges[] = {
    {0x00C0, 0x024F}, {0x0370, 0x052F}, {0x0531, 0x058F}, {0x05D0, 0x05EA}, {0x0620, 0x064A},
    {0x0904, 0x0939}, {0x0E01, 0x0E30}, {0x1100, 0x11FF}, {0x1E00, 0x1FFF}, {0x3040, 0x30FF},
    {0x3100, 0x318F}, {0x31A0, 0x31FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF},
    {0xAC00, 0xD7AF}, {0xF900, 0xFAFF}, {0xFF66, 0xFFDC},
};

void ForEachCp(std::string_view s, auto fn) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    Decoded d = DecodeUtf8(p, end);
    fn(d.cp);
    p += d.len;
  }
}

std::array<CpInfo, 0x10000> BuildTable() {
  std::array<CpInfo, 0x10000> t{};
  for (auto [lo, hi] : kWordRanges) {
    for (char32_t c = lo; c <= hi; ++c) t[c].flags |= kCpWord;
  }
  t[0xD7].flags &= ~kCpWord;  // × and ÷ sit inside Latin-1 letters
  t[0xF7].flags &= ~kCpWord;
  for (int c = 'A'; c <= 'Z'; ++c) t[c].flags |= kCpWord;
  for (int c = 'a'; c <= 'z'; ++c) t[c].flags |= kCpWord;
  for (int v = 0; v < 10; ++v) t['0' + v].digit = static_cast<int8_t>(v);
  for (char32_t base : kDigitBlocks) {
    for (int v = 0; v < 10; ++v) t[base + v].digit = static_cast<int8_t>(v);
  }
  for (char32_t base : kOneToNineBlocks) {
    for (int v = 1; v < 10; ++v) t[base + v - 1].digit = static_cast<int8_t>(v);
  }
  t[0x24EA].digit = 0;  // ⓪ ⓿
  t[0x24FF].digit = 0;
  t[0x00B9].digit = 1;  // superscripts ¹ ² ³ ⁰ ⁴..⁹
  t[0x00B2].digit = 2;
  t[0x00B3].digit = 3;
  t[0x2070].digit = 0;
  for (int v = 4; v < 10; ++v) t[0x2070 + v].digit = static_cast<int8_t>(v);
  for (int v = 0; v < 10; ++v) {
    ForEachCp(kHanDigits[v], [&](char32_t c) {
      t[c].digit = static_cast<int8_t>(v);
      t[c].weak = true;
    });
  }
  ForEachCp(kHanUnits, [&](char32_t c) { t[c].flags |= kCpUnit; });
  ForEachCp(kCurrency, [&](char32_t c) { t[c].flags |= kCpCurrency; });
  ForEachCp(kIdX, [&](char32_t c) { t[c].flags |= kCpIdX; });
  for (std::string_view bigram : kTriggerBigrams) {
    const Decoded first = DecodeUtf8(bigram.data(), bigram.data() + bigram.size());
    t[first.cp].flags |= kCpTrigger;
  }
  for (char32_t c = 0x80; c < 0x10000; ++c) {
    if (t[c].digit >= 0) t[c].fold = static_cast<char>('0' + t[c].digit);
  }
  for (char32_t c = 0xFF01; c <= 0xFF5E; ++c) t[c].fold = static_cast<char>(c - 0xFEE0);
  t[0x3000].fold = ' ';
  t[0xFE6B].fold = '@';
  return t;
}

// True if the code point at p (after a kCpTrigger character `first`) completes one of
// the context words.
bool CompletesBigram(char32_t first, const char* p, const char* end) {
  if (p >= end) return false;
  const Decoded next = DecodeUtf8(p, end);
  for (std::string_view bigram : kTriggerBigrams) {
    const Decoded f = DecodeUtf8(bigram.data(), bigram.data() + bigram.size());
    if (f.cp != first) continue;
    for (size_t i = f.len; i < bigram.size();) {
      const Decoded c = DecodeUtf8(bigram.data() + i, bigram.data() + bigram.size());
      if (c.cp == next.cp) return true;
      i += c.len;
    }
  }
  return false;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// The single ASCII byte a code point normalizes to, or 0 if it is kept as is.
char FoldToAscii(char32_t c) {
  if (c < 0x10000) return kCpTable[c].fold;
  const int v = DigitValueAstral(c);
  return v >= 0 ? static_cast<char>('0' + v) : 0;
}

}  // namespace

// Built when the library loads; nothing uses it from another static initializer.
const std::array<CpInfo, 0x10000> kCpTable = BuildTable();

int DigitValueAstral(char32_t cp) {
  if (cp >= 0x1D7CE && cp <= 0x1D7FF) return static_cast<int>((cp - 0x1D7CE) % 10);  // 𝟎..𝟿
  if (cp >= 0x1F100 && cp <= 0x1F10A) return cp == 0x1F100 ? 0 : static_cast<int>(cp - 0x1F101);
  if (cp >= 0x1FBF0 && cp <= 0x1FBF9) return static_cast<int>(cp - 0x1FBF0);  // segmented
  return -1;
}

uint8_t CpFlagsAstral(char32_t cp) {
  if (cp >= 0x20000 && cp <= 0x3FFFF) return kCpWord;  // CJK extensions B..H
  return 0;
}

bool IsCombining(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
         (cp >= 0xE0100 && cp <= 0xE01EF);
}

NormalizeResult Normalize(std::string_view in, std::string* out,
                          std::vector<uint32_t>* weak_digits) {
  // ASCII bytes that matter: 1 = digit, 2 = trigger (letters, '@', '#', '.').
  static constexpr auto kAscii = [] {
    std::array<uint8_t, 128> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = 1;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = 2;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = 2;
    t['@'] = t['#'] = t['.'] = 2;
    return t;
  }();
  NormalizeResult r;
  out->clear();
  weak_digits->clear();
  out->reserve(in.size());
  const char* p = in.data();
  const char* end = p + in.size();
  const char* run = p;  // bytes copied unchanged, not yet appended
  uint8_t ascii_seen = 0;
  while (p < end) {
    const auto b = static_cast<unsigned char>(*p);
    if (b < 0x80) {
      ascii_seen |= kAscii[b];
      ++p;
      continue;
    }
    // Most text here is Han: three-byte sequences with leads E1..EC and EE..EF cannot be
    // overlong or surrogates, so they need only the continuation check.
    if (b >= 0xE1 && b != 0xED && end - p >= 3 && b <= 0xEF &&
        (static_cast<unsigned char>(p[1]) & 0xC0) == 0x80 &&
        (static_cast<unsigned char>(p[2]) & 0xC0) == 0x80) {
      const char32_t cp = ((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
      const CpInfo& info = kCpTable[cp];
      if (info.fold == 0 && (info.flags & kCpTrigger) == 0) {
        p += 3;
        continue;
      }
    }
    const Decoded d = DecodeUtf8(p, end);
    char folded = 0;
    bool weak = false;
    if (!d.valid) {
      r.valid_utf8 = false;
      folded = kInvalidByte;
    } else if (d.cp < 0x10000) {
      const CpInfo& info = kCpTable[d.cp];
      folded = info.fold;
      weak = info.weak;
      if ((info.flags & kCpTrigger) && !r.has_trigger) {
        r.has_trigger = CompletesBigram(d.cp, p + d.len, end);
      }
    } else {
      folded = FoldToAscii(d.cp);
    }
    if (folded == 0) {
      p += d.len;
      continue;
    }
    out->append(run, p);
    r.identical = false;
    if (folded >= '0' && folded <= '9') {
      r.has_digit = true;
      if (weak) weak_digits->push_back(static_cast<uint32_t>(out->size()));
    } else if (static_cast<unsigned char>(folded) < 0x80 && kAscii[folded] == 2) {
      r.has_trigger = true;  // full-width letters, ＠, ．
    }
    out->push_back(folded);
    p += d.len;
    run = p;
  }
  out->append(run, p);
  r.has_digit |= (ascii_seen & 1) != 0;
  r.has_trigger |= (ascii_seen & 2) != 0;
  return r;
}

size_t OffsetMapper::ToInput(size_t normalized_offset) {
  const char* end = in_.data() + in_.size();
  while (norm_pos_ < normalized_offset && in_pos_ < in_.size()) {
    const char* p = in_.data() + in_pos_;
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++in_pos_;
      ++norm_pos_;
      continue;
    }
    const Decoded d = DecodeUtf8(p, end);
    norm_pos_ += (!d.valid || FoldToAscii(d.cp) != 0) ? 1 : d.len;
    in_pos_ += d.len;
  }
  return in_pos_;
}

void AppendSanitized(std::string_view in, std::string* out) {
  const char* p = in.data();
  const char* end = p + in.size();
  const char* run = p;
  while (p < end) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    const Decoded d = DecodeUtf8(p, end);
    if (d.valid) {
      p += d.len;
      continue;
    }
    out->append(run, p);
    AppendUtf8(0xFFFD, out);
    ++p;
    run = p;
  }
  out->append(run, p);
}

}  // namespace pgveil::mask::redact_internal
