// Helpers for the masking tests: whole results fetched over libpq (text or binary), and
// the expected masked values of the CRM rules computed independently of pgveil's code
// (from the rule semantics in docs/rules.md and CRM-DEMO.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/pq_util.h"
#include "pgveil/status.h"

namespace pgveil::masking {

using Cell = std::optional<std::string>;

// A result as the client saw it: column names, type OIDs and values (bytes as sent).
struct Table {
  std::vector<std::string> names;
  std::vector<uint32_t> types;
  std::vector<std::vector<Cell>> rows;

  // Index of a column by name; -1 if absent.
  int Col(std::string_view name) const;
};

// Runs `sql` (no parameters) with PQexecParams and the given result format (0 text,
// 1 binary) on a fresh connection.
StatusOr<Table> Fetch(const std::string& conninfo, const std::string& sql, int format = 0);
// Same, on an open connection.
StatusOr<Table> Fetch(PGconn* conn, const std::string& sql, int format = 0);

// "" when `got` and `want` hold the same cells; otherwise where they first differ and how
// many rows differ (no values: they may be raw).
std::string DiffRows(const std::vector<std::vector<Cell>>& got,
                     const std::vector<std::vector<Cell>>& want,
                     const std::vector<std::string>& names = {});

// ---- Expected values of the CRM sales rules ----

// partial: keeps the first `first` and last `last` code points and fills the rest with
// '*' one per hidden code point; with `keep_after` the part from its last occurrence on
// is kept as is. A value not longer than first + last is hidden entirely.
std::string ExpectedPartial(std::string_view value, int first, int last,
                            std::string_view keep_after = "");
// Bucket label of monthly_income under the bounds 0/3000/…/50000: "8000-11999".
std::string ExpectedIncomeBracket(int64_t income);
// Width bucket (origin 0): 172 → "170-174".
std::string ExpectedWidthBand(int64_t value, int64_t width);
// Age band (width 5) of an ISO date "YYYY-MM-DD" on the UTC day `today` ("YYYY-MM-DD").
// nullopt for a birth date after today.
Cell ExpectedAgeBand(std::string_view birth, std::string_view today);
// Today's date in UTC, ISO.
std::string UtcToday();

// ---- Binary decoding ----
int64_t BinaryInt(std::string_view bytes);  // int2/int4/int8, big-endian

// Digits of `s` in order ("+86 138-1234-5678" → "8613812345678"); full-width digits
// count as digits.
std::string DigitsOf(std::string_view s);

// Lower-case hex of bytes, for failure messages without raw values.
std::string Hex(std::string_view bytes);

}  // namespace pgveil::masking
