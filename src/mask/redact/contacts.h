// Context words and the WeChat IDs they introduce.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "mask/redact/spans.h"

namespace pgveil::mask::redact_internal {

// Given a context word matched at norm[begin, end), returns the offset where its value
// may start: after filler such as 号, 号码, 账号, 是, 为, id, is, ':' and spaces. Returns
// nullopt when the word is really the start of a longer Latin word (vxworks, qqq).
std::optional<size_t> ContextValueStart(std::string_view norm, size_t begin, size_t end);

// A WeChat ID written after a context word, starting at norm[pos]: a letter, then
// letters, digits, '_' or '-', 6 to 20 characters, possibly split by spaces or dots
// (zhang san 88). After generic words (`strong` false: 加我, add me) the ID must also
// contain a digit, '_' or '-', so that ordinary words are left alone.
std::optional<Span> WeChatIdAt(std::string_view norm, size_t pos, bool strong);

// Trims characters that end a sentence rather than a URL (.,;:!?'" and closing brackets).
size_t TrimUrlEnd(std::string_view norm, size_t begin, size_t end);

// True if the dotted quad at norm[begin, end) stands alone (not part of 1.2.3.4.5 or a
// longer digit run) and every part is 0..255.
bool IsStandaloneIPv4(std::string_view norm, size_t begin, size_t end);

}  // namespace pgveil::mask::redact_internal
