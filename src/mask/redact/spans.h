// What the detectors report, in offsets of the normalized text, and how overlapping
// reports become one replacement.
#pragma once

#include <cstdint>
#include <vector>

#include "pgveil/mask/redact.h"

namespace pgveil::mask::redact_internal {

// Tie-breaking order between spans of equal length (lower wins): the more specific
// detector names the replacement.
enum class Rank : uint8_t {
  kEmail,
  kUrl,
  kIPv4,
  kIdCard,
  kMobile,
  kBankCard,
  kWeChatId,
  kContextBefore,  // digits after 微信/QQ/...
  kContextAfter,   // digits before 微信/QQ/...
  kCustom,
};

struct Span {
  uint32_t begin;  // normalized offsets, on code point boundaries
  uint32_t end;
  Detector detector;
  Rank rank;
  uint32_t custom = 0;  // index into RedactOptions::custom for kCustom
};

// A context word (微信, vx, QQ, 扣扣, ...) and where its value may start.
struct Context {
  uint32_t begin;     // start of the word
  uint32_t end;       // after the word and any filler (号, 是, :, id, ...)
  Detector detector;  // kWeChat or kQQ
  bool strong;        // false for generic words (加我, add me)
};

// Sorts *spans and merges every group of overlapping spans into one. A merged span takes
// the detector of its longest member (ties broken by Rank). Over-redaction is preferred
// to leaving part of an overlapping value behind.
void MergeSpans(std::vector<Span>* spans);

}  // namespace pgveil::mask::redact_internal
