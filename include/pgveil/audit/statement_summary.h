// StatementSummary: what the audit log may say about a statement — its fingerprint and
// its normalised text — and never a literal from it.
//
// SummarizeStatement() parses the statement with libpg_query:
//  - fingerprint: pg_query_fingerprint (16 hex digits); equal for statements that differ
//    only in their constants;
//  - text: pg_query_normalize (every constant becomes $1, $2, ...), then a second pass of
//    our own over the result: comments are dropped, whitespace is folded, any literal the
//    normaliser left (strings of every kind, dollar-quoted strings, numbers) becomes `?`,
//    identifiers with non-ASCII characters or runs of digits become `?`, and if the PII
//    detectors (mask/redact.h) still find anything, the text is dropped.
// If libpg_query cannot parse the statement, or the second pass meets something it does
// not understand, the summary has no text and no fingerprint (`parsed` false): the raw
// text is never a fallback.
//
// Thread-safe (libpg_query keeps per-thread state); costs one parse plus one normalise.
#pragma once

#include <string>
#include <string_view>

namespace pgveil::audit {

struct StatementSummary {
  bool parsed = false;      // libpg_query parsed the statement
  std::string fingerprint;  // 16 lowercase hex digits; empty if !parsed
  std::string text;         // normalised, literal-free; empty if withheld
  // Why `text` is empty: "" (it is not), "unparsed", "unsafe" (the second pass refused),
  // "detector" (a PII detector fired on the normalised text).
  std::string withheld;
};

// Summarises one statement (or a ;-separated string of them). Never fails; see above.
StatementSummary SummarizeStatement(std::string_view sql);

// A name the client chose (a result column's alias) as the audit log may show it: itself
// when the second pass would keep it as an identifier (plain ASCII, no run of 4 or more
// digits) and no PII detector fires on it; "?" otherwise.
std::string SafeName(std::string_view name);

// The second pass alone, over text that pg_query_normalize produced: true and the cleaned
// text in *out, or false if the text must be withheld. Exposed for tests.
bool ScrubNormalized(std::string_view normalized, std::string* out);

}  // namespace pgveil::audit
