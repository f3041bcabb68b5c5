// Factories for every masking transform. Each validates its options and returns a ready,
// immutable Transform (see transform.h), or kInvalidArgument with a message naming the
// offending option (never a key or a value).
//
// The rules loader (src/rules) maps JSON parameters to these option structs one to one;
// docs/rules.md documents them for DBAs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgveil/mask/key.h"
#include "pgveil/mask/redact.h"
#include "pgveil/mask/transform.h"
#include "pgveil/status.h"

namespace pgveil::mask {

using TransformPtr = std::shared_ptr<const Transform>;

// show: every value as stored. Accepts every type.
TransformPtr MakeShow();

// null: every value becomes NULL. Accepts every type.
TransformPtr MakeNull();

// constant: every non-NULL value becomes `value` (text format; encoded per column type).
// Accepts only the types `value` is a valid literal of. NULL stays NULL unless
// `replace_null`.
struct ConstantOptions {
  std::string value;
  bool replace_null = false;
};
StatusOr<TransformPtr> MakeConstant(const ConstantOptions& options);

// partial: keeps `keep_first` leading and `keep_last` trailing Unicode code points of a
// text value and replaces each hidden code point by `fill` (or the hidden part by exactly
// `fill_length` copies of `fill` when set, hiding the length). With `keep_after` set (for
// example "@"), the part from the last occurrence of that string on is kept as is and
// keep_first/keep_last apply to the part before it. A value of at most
// keep_first + keep_last code points is hidden entirely, so a value is never revealed
// whole. Output type: text. Accepts text, varchar, bpchar, name.
struct PartialOptions {
  int keep_first = 0;
  int keep_last = 0;
  std::string fill = "*";
  std::optional<int> fill_length;
  std::string keep_after;
};
inline constexpr int kPartialMaxKeep = 16;
StatusOr<TransformPtr> MakePartial(const PartialOptions& options);

// hash: lowercase hex of HMAC-SHA-256(key, canonical value), truncated to `length` hex
// digits (8..64). The canonical value is the text form for text types and the decoded
// value for others, so text and binary formats hash alike. Output type: text.
struct HashOptions {
  Key key;
  int length = 16;
};
StatusOr<TransformPtr> MakeHash(const HashOptions& options);

// pseudonym: deterministic under (key, domain); the same input gives the same output in
// every column using the same key and domain, so joins keep working.
//  - int4/int8: FF1 (NIST SP 800-38G, AES-256) over the non-negative values of the
//    type (radix 2, 15/31/63 bits): output is a non-negative value of the same type,
//    reversible. Negative inputs are an error (the caller masks them to NULL).
//  - uuid: FF1 over the 128 bits, reversible.
//  - text, varchar, bpchar, name: `prefix` + base32 of HMAC-SHA-256, `text_length`
//    characters (8..52) after the prefix; not reversible. Output type: text.
struct PseudonymOptions {
  Key key;
  std::string domain;
  std::string prefix;
  int text_length = 16;
};
StatusOr<TransformPtr> MakePseudonym(const PseudonymOptions& options);

// redact: text with contact and identity details replaced by labels (see redact.h).
// Accepts text, varchar, bpchar, name; output type text.
StatusOr<TransformPtr> MakeRedact(const RedactOptions& options);
// Same, over an existing Redactor (lets several columns share one compiled set).
TransformPtr MakeRedact(std::shared_ptr<const Redactor> redactor);

// bucket: numbers (int2/int4/int8/float4/float8/numeric) into buckets.
//  - `bounds` (strictly increasing, at least one): buckets [b0,b1), [b1,b2), ..., [bn,∞);
//    values below b0 fall into (-∞,b0).
//  - or `width` (>= 2) with `origin`: buckets [origin + k*width, origin + (k+1)*width);
//    negative values floor downward (-3 with width 5 → [-5,0)).
// Output `label` (text, e.g. "8000-11999", "50000+", "<0") or the bucket's lower bound
// in the column's own type (below the first bound: NULL). Labels describe integer ranges.
struct BucketOptions {
  std::vector<int64_t> bounds;
  std::optional<int64_t> width;
  int64_t origin = 0;
  bool label = true;
};
StatusOr<TransformPtr> MakeBucket(const BucketOptions& options);

// round: numbers to the nearest multiple of `multiple` (ties away from zero; type kept;
// an integer result that would overflow the type rounds toward zero instead).
// Integer types need an integral multiple >= 2.
struct RoundOptions {
  double multiple = 0;
};
StatusOr<TransformPtr> MakeRound(const RoundOptions& options);

// truncate: date, timestamp, timestamptz down to the start of the unit (type kept;
// ±infinity unchanged). Text timestamptz values are truncated in the time zone they are
// printed in (the session's TimeZone); binary values, which carry no zone, in UTC.
// `day` and `hour` do not apply to date.
enum class TruncateUnit { kYear, kMonth, kDay, kHour };
struct TruncateOptions {
  TruncateUnit unit = TruncateUnit::kDay;
  // timestamptz values are truncated on the clock of this fixed UTC offset (seconds
  // east), whatever zone the session prints them in: a session choosing its TimeZone
  // must not move the unit boundaries across a value.
  int32_t zone_offset_s = 0;
};
StatusOr<TransformPtr> MakeTruncate(const TruncateOptions& options);

// age_band: a birth date (date, timestamp, timestamptz) to the text band of `width`
// years (>= 2) that the age in whole years falls in, e.g. "30-34". The age is computed
// against today(): days since 2000-01-01 in UTC; tests inject a fixed day. Birth dates in
// the future and ±infinity give NULL. Output type: text.
struct AgeBandOptions {
  int width = 5;
  std::function<int32_t()> today;  // empty: the system clock
};
StatusOr<TransformPtr> MakeAgeBand(const AgeBandOptions& options);

// map: text lookup (exact bytes). Values not in `table` become `default_value`
// (std::nullopt: NULL). Accepts text, varchar, bpchar, name; output type text.
struct MapOptions {
  std::map<std::string, std::string, std::less<>> table;
  std::optional<std::string> default_value;
};
StatusOr<TransformPtr> MakeMap(const MapOptions& options);

}  // namespace pgveil::mask
