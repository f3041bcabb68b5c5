#include "mask/redact/spans.h"

#include <algorithm>

namespace pgveil::mask::redact_internal {

namespace {

// True if a names the merged span better than b.
bool Better(const Span& a, const Span& b) {
  const uint32_t la = a.end - a.begin;
  const uint32_t lb = b.end - b.begin;
  if (la != lb) return la > lb;
  return a.rank < b.rank;
}

}  // namespace

void MergeSpans(std::vector<Span>* spans) {
  if (spans->size() < 2) return;
  std::sort(spans->begin(), spans->end(), [](const Span& a, const Span& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  size_t out = 0;
  Span cur = (*spans)[0];
  Span best = cur;
  for (size_t i = 1; i < spans->size(); ++i) {
    const Span& s = (*spans)[i];
    if (s.begin < cur.end) {
      if (Better(s, best)) best = s;
      cur.end = std::max(cur.end, s.end);
      continue;
    }
    best.begin = cur.begin;
    best.end = cur.end;
    (*spans)[out++] = best;
    cur = s;
    best = s;
  }
  best.begin = cur.begin;
  best.end = cur.end;
  (*spans)[out++] = best;
  spans->resize(out);
}

}  // namespace pgveil::mask::redact_internal
