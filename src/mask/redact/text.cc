// Normalization is the one place that knows how characters are disguised; detectors only
// ever see ASCII digits. It runs over every value, so it is a single pass with one table
// lookup per non-ASCII code point.
#include "mask/redact/text.h"

#include <array>
#include <string_view>

namespace pgveil::mask::redact_internal {

namespace {

struct CpInfo {
  int8_t digit = -1;  // 0..9, or -1
  bool weak = false;
  uint8_t flags = 0;
};

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
// First characters of the Han context words (微信, 扣扣, 企鹅, 艾特, 加我, 身份证, 银行卡, ...):
// text without any of them (and without letters) skips the pattern pass.
constexpr std::string_view kTriggerLeads = "微威薇维卫徽魏扣抠寇蔻叩企球秋绿加艾➕圈身证银卡收";

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
  ForEachCp(kTriggerLeads, [&](char32_t c) { t[c].flags |= kCpTrigger; });
  return t;
}

const std::array<CpInfo, 0x10000>& Table() {
  static const std::array<CpInfo, 0x10000> table = BuildTable();
  return table;
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
char FoldToAscii(char32_t c, bool* weak) {
  *weak = false;
  if (c >= 0xFF01 && c <= 0xFF5E) return static_cast<char>(c - 0xFEE0);
  if (c == 0x3000) return ' ';
  if (c == 0xFE6B) return '@';
  int v = DigitValue(c, weak);
  if (v >= 0) return static_cast<char>('0' + v);
  return 0;
}

}  // namespace

Decoded DecodeUtf8(const char* p, const char* end) {
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

int DigitValue(char32_t cp, bool* weak) {
  if (cp < 0x10000) {
    const CpInfo& info = Table()[cp];
    *weak = info.weak;
    return info.digit;
  }
  *weak = false;
  if (cp >= 0x1D7CE && cp <= 0x1D7FF) return static_cast<int>((cp - 0x1D7CE) % 10);  // 𝟎..𝟿
  if (cp >= 0x1F100 && cp <= 0x1F10A) return cp == 0x1F100 ? 0 : static_cast<int>(cp - 0x1F101);
  if (cp >= 0x1FBF0 && cp <= 0x1FBF9) return static_cast<int>(cp - 0x1FBF0);  // segmented
  return -1;
}

uint8_t CpFlags(char32_t cp) {
  if (cp < 0x10000) return Table()[cp].flags;
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
  NormalizeResult r;
  out->clear();
  weak_digits->clear();
  out->reserve(in.size());
  const char* p = in.data();
  const char* end = p + in.size();
  while (p < end) {
    const auto b = static_cast<unsigned char>(*p);
    if (b < 0x80) {
      // ASCII fast path: copy a run of plain bytes at once.
      const char* q = p;
      while (q < end && static_cast<unsigned char>(*q) < 0x80) {
        const char c = *q;
        if (c >= '0' && c <= '9') {
          r.has_digit = true;
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
          r.has_trigger = true;
        } else if (c == '@' || c == '#' || c == '.') {
          r.has_trigger = true;
        }
        ++q;
      }
      out->append(p, q);
      p = q;
      continue;
    }
    const Decoded d = DecodeUtf8(p, end);
    if (!d.valid) {
      r.valid_utf8 = false;
      r.identical = false;
      out->push_back(kInvalidByte);
      p += 1;
      continue;
    }
    bool weak = false;
    const char folded = FoldToAscii(d.cp, &weak);
    if (folded != 0) {
      r.identical = false;
      if (folded >= '0' && folded <= '9') {
        r.has_digit = true;
        if (weak) weak_digits->push_back(static_cast<uint32_t>(out->size()));
      } else {
        r.has_trigger = true;  // full-width letters and punctuation
      }
      out->push_back(folded);
    } else {
      if (CpFlags(d.cp) & kCpTrigger) r.has_trigger = true;
      out->append(p, d.len);
    }
    p += d.len;
  }
  return r;
}

void BuildOffsetMap(std::string_view in, size_t normalized_size, std::vector<uint32_t>* map) {
  map->clear();
  map->reserve(normalized_size + 1);
  const char* p = in.data();
  const char* end = p + in.size();
  while (p < end) {
    const auto offset = static_cast<uint32_t>(p - in.data());
    const Decoded d = DecodeUtf8(p, end);
    bool weak = false;
    const size_t produced = (!d.valid || FoldToAscii(d.cp, &weak) != 0) ? 1 : d.len;
    for (size_t i = 0; i < produced; ++i) map->push_back(offset);
    p += d.len;
  }
  map->push_back(static_cast<uint32_t>(in.size()));
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
