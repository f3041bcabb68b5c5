// Terminal display width of UTF-8 text (East Asian Width, UAX #11), for the aligned
// tables of `pgveil diff` and `pgveil scan`. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pgveil::tools {

// Columns one code point takes: 2 for East Asian Wide/Fullwidth, 0 for combining marks,
// format and control characters, else 1.
int CodePointWidth(char32_t c);

// Columns the text takes; invalid UTF-8 bytes count as one column each (shown as U+FFFD).
int DisplayWidth(std::string_view text);

// The text cut to at most `width` columns (with "…" when cut; a wide character that
// would straddle the edge is left out) and padded with spaces to exactly `width`.
// Control characters become spaces and invalid bytes U+FFFD, so the result is printable.
std::string FitWidth(std::string_view text, int width);

}  // namespace pgveil::tools
