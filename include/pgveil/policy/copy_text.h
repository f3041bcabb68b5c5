// The field encodings of COPY's text and CSV formats, shared by the masking of
// COPY ... TO rows (CopyPlan) and the translation of COPY ... FROM rows.
#pragma once

#include <string>
#include <string_view>

#include "pgveil/guard/copy_inspect.h"

namespace pgveil::policy {

// Text format: decodes the backslash escapes of one field into *out (replacing it).
void UnescapeCopyText(std::string_view in, std::string* out);

// Text format: appends `in` with what must be escaped escaped (backslash, newline,
// carriage return, tab, the delimiter, ...).
void EscapeCopyText(std::string_view in, char delimiter, std::string* out);

// CSV: appends `in`, quoted when it must be (delimiter, quote, escape, line breaks, the
// empty string, the NULL string).
void QuoteCopyCsv(std::string_view in, const guard::CopyStatement& s, std::string* out);

}  // namespace pgveil::policy
