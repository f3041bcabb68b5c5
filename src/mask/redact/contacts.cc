#include "mask/redact/contacts.h"

#include <string>

#include "mask/redact/text.h"
#include "mask/redact/validators.h"

namespace pgveil::mask::redact_internal {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsIdChar(char c) { return IsAsciiLetter(c) || IsDigit(c) || c == '_' || c == '-'; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
  }
  return true;
}

// Filler between a context word and its value.
constexpr std::string_view kFillerWords[] = {
    "号码",
    "号",
    "账号",
    "帐号",
    "是",
    "为",
    "搜索",
    "搜",
    "加",
    "我的",
    "id",
    "is",
    "no",
    // Particles people put between the word and the ID: 加个威信吧 xxx, 微信哦：xxx.
    "吧",
    "呀",
    "啊",
    "哦",
    "喔",
    "呢",
    "嘛",
    "哈",
    "啦",
    "了",
    "一下",
};
constexpr int kMaxFillerCodePoints = 12;
constexpr int kMaxPhraseWords = 3;

// Separators allowed inside the filler and between the parts of a split ID.
bool IsSeparatorAt(std::string_view norm, size_t pos, size_t* len) {
  const char c = norm[pos];
  if (static_cast<unsigned char>(c) < 0x80) {
    *len = 1;
    return !IsAsciiLetter(c) && !IsDigit(c) && c != '_' && c != '@' && c != '\n';
  }
  const Decoded d = DecodeUtf8(norm.data() + pos, norm.data() + norm.size());
  *len = d.len;
  bool weak = false;
  return (CpFlags(d.cp) & kCpWord) == 0 && DigitValue(d.cp, &weak) < 0;
}

}  // namespace

std::optional<ContextValue> ContextValueStart(std::string_view norm, size_t begin, size_t end) {
  // A Latin context word must not run on into more letters (vxworks), except into the
  // filler "id" / "is" (wechatid).
  if (end > begin && IsAsciiLetter(norm[end - 1]) && end < norm.size() &&
      IsAsciiLetter(norm[end])) {
    const std::string_view rest = norm.substr(end);
    const bool filler = (StartsWithNoCase(rest, "id") || StartsWithNoCase(rest, "is")) &&
                        (rest.size() == 2 || !IsAsciiLetter(rest[2]));
    if (!filler) return std::nullopt;
  }
  ContextValue v{end, false};
  int cps = 0;
  bool phrase_skipped = false;
  while (v.pos < norm.size() && cps < kMaxFillerCodePoints) {
    size_t len = 0;
    if (IsSeparatorAt(norm, v.pos, &len)) {
      v.introduced |= norm[v.pos] != ' ' && norm[v.pos] != '\t';
      v.pos += len;
      ++cps;
      continue;
    }
    bool matched = false;
    for (std::string_view w : kFillerWords) {
      if (!StartsWithNoCase(norm.substr(v.pos), w)) continue;
      // Latin filler must be a whole word.
      if (IsAsciiLetter(w[0]) && v.pos + w.size() < norm.size() &&
          IsAsciiLetter(norm[v.pos + w.size()])) {
        continue;
      }
      v.pos += w.size();
      v.introduced = true;
      ++cps;
      matched = true;
      break;
    }
    if (matched) continue;
    // Once, a short phrase that ends in a colon or 是: 加我V信聊吧：...
    if (phrase_skipped) break;
    size_t q = v.pos;
    int words = 0;
    while (q < norm.size() && words < kMaxPhraseWords &&
           static_cast<unsigned char>(norm[q]) >= 0x80) {
      const Decoded d = DecodeUtf8(norm.data() + q, norm.data() + norm.size());
      if ((CpFlags(d.cp) & kCpWord) == 0) break;
      q += d.len;
      ++words;
    }
    if (words == 0 || q >= norm.size() || (norm[q] != ':' && !norm.substr(q).starts_with("是"))) {
      break;
    }
    phrase_skipped = true;
    v.pos = q;
    cps += words;
  }
  return v;
}

namespace {

// Starts with another context word (qq123456, vx:...): that word's own match handles it.
bool StartsWithContextWord(std::string_view s) {
  for (std::string_view w : {"qq", "vx", "wx", "weixin", "wechat"}) {
    if (StartsWithNoCase(s, w) && (s.size() == w.size() || !IsAsciiLetter(s[w.size()]))) {
      return true;
    }
  }
  return false;
}

// Separators that may split an ID into parts: spaces, dots, dashes, symbols and emoji;
// not sentence punctuation (:,;!?) that introduces the next thing.
bool IsIdSplitAt(std::string_view norm, size_t pos, size_t* len) {
  const char c = norm[pos];
  if (static_cast<unsigned char>(c) < 0x80) {
    *len = 1;
    return c == ' ' || c == '.' || c == '-' || c == '*' || c == '~' || c == '/';
  }
  return IsSeparatorAt(norm, pos, len);
}

}  // namespace

std::optional<Span> WeChatIdAt(std::string_view norm, size_t pos, bool strong, bool plain) {
  constexpr size_t kMinLen = 6;
  constexpr size_t kMaxLen = 20;
  if (pos >= norm.size() || !IsAsciiLetter(norm[pos])) return std::nullopt;
  if (pos > 0 && IsIdChar(norm[pos - 1])) return std::nullopt;  // inside a longer word
  if (StartsWithContextWord(norm.substr(pos))) return std::nullopt;
  size_t len = 0;
  bool marked = false;  // has a digit, '_' or '-'
  bool spaced = false;  // written letter by letter: z h a n g s a n 8 8
  size_t end = pos;
  size_t p = pos;
  while (true) {
    size_t token_end = p;
    bool token_marked = false;
    while (token_end < norm.size() && IsIdChar(norm[token_end])) {
      token_marked |= !IsAsciiLetter(norm[token_end]);
      ++token_end;
    }
    const size_t token_len = token_end - p;
    if (p == pos) spaced = token_len == 1;
    const bool wanted = token_marked || (spaced ? token_len <= 2 : len < kMinLen);
    if (p != pos && (!wanted || StartsWithContextWord(norm.substr(p, token_len)))) break;
    if (len + token_len > kMaxLen) {
      if (p == pos) return std::nullopt;  // one token too long to be an ID
      break;
    }
    len += token_len;
    marked |= token_marked;
    end = token_end;
    // A continuation: at most two separators, then another ID token. Generic context
    // words take a single token only.
    if (!strong) break;
    size_t q = end;
    int seps = 0;
    while (q < norm.size() && seps < 2) {
      size_t sl = 0;
      if (!IsIdSplitAt(norm, q, &sl)) break;
      q += sl;
      ++seps;
    }
    if (seps == 0 || q >= norm.size() || !IsIdChar(norm[q])) break;
    p = q;
  }
  if (len < kMinLen || (!marked && (!strong || !plain))) return std::nullopt;
  if (end < norm.size() && norm[end] == '@') return std::nullopt;  // an email: its own detector
  return Span{static_cast<uint32_t>(pos), static_cast<uint32_t>(end), Detector::kWeChat,
              Rank::kWeChatId};
}

size_t TrimUrlEnd(std::string_view norm, size_t begin, size_t end) {
  while (end > begin) {
    const char c = norm[end - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
        c == '"' || c == ')' || c == ']' || c == '}') {
      --end;
    } else {
      break;
    }
  }
  return end;
}

bool IsStandaloneIPv4(std::string_view norm, size_t begin, size_t end) {
  if (!IsIPv4(norm.substr(begin, end - begin))) return false;
  if (begin > 0) {
    const char c = norm[begin - 1];
    if (IsDigit(c) || (c == '.' && begin > 1 && IsDigit(norm[begin - 2]))) return false;
  }
  if (end < norm.size()) {
    const char c = norm[end];
    if (IsDigit(c) || (c == '.' && end + 1 < norm.size() && IsDigit(norm[end + 1]))) return false;
  }
  return true;
}

}  // namespace pgveil::mask::redact_internal
