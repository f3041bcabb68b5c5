// Context words and the WeChat IDs they introduce.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "mask/redact/spans.h"

namespace pgveil::mask::redact_internal {

struct ContextValue {
  size_t pos;       // where the value may start
  bool introduced;  // the filler held more than spaces (':', 是, is, id, ...)
};

// Given a context word matched at norm[begin, end), finds where its value may start:
// after filler such as 号, 号码, 账号, 是, 为, id, is, ':' and spaces, and once after a short
// Han phrase ending in ':' or 是 (V信聊吧：). Returns nullopt when the word is really the
// start of a longer Latin word (vxworks, qqq).
std::optional<ContextValue> ContextValueStart(std::string_view norm, size_t begin, size_t end);

// A WeChat ID written after a context word, starting at norm[pos]: a letter, then
// letters, digits, '_' or '-', 6 to 20 characters, possibly split by spaces or dots
// (zhang san 88, z h a n g s a n 8 8). An ID of letters only is taken when `plain` is
// set (the caller's judgement that the context makes that safe); otherwise it must contain
// a digit, '_' or '-', so that ordinary words are left alone. After generic words
// (`strong` false: 加我, add me) only a single token is taken and it must be marked.
std::optional<Span> WeChatIdAt(std::string_view norm, size_t pos, bool strong, bool plain);

// Trims characters that end a sentence rather than a URL (.,;:!?'" and closing brackets).
size_t TrimUrlEnd(std::string_view norm, size_t begin, size_t end);

// True if the dotted quad at norm[begin, end) stands alone (not part of 1.2.3.4.5 or a
// longer digit run) and every part is 0..255.
bool IsStandaloneIPv4(std::string_view norm, size_t begin, size_t end);

}  // namespace pgveil::mask::redact_internal
