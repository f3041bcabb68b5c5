// Dates and timestamps in PostgreSQL's representation: days (date) or microseconds
// (timestamp, timestamptz) since 2000-01-01, with ±infinity as the extreme integers.
// Years are astronomical internally (1 BC = 0); the text forms are DateStyle ISO
// ("2024-03-05", "0044-03-15 BC", "2024-03-05 14:23:11.5+08").
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "pgveil/mask/types.h"
#include "pgveil/status.h"

namespace pgveil::mask::datetime {

inline constexpr int32_t kDateNegInf = std::numeric_limits<int32_t>::min();
inline constexpr int32_t kDatePosInf = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kTsNegInf = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kTsPosInf = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kUsPerDay = 86400LL * 1000000;
inline constexpr int64_t kUsPerHour = 3600LL * 1000000;

// Days since 2000-01-01 of a proleptic Gregorian date (astronomical year) and back.
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day);

Status DecodeDate(Format format, std::string_view in, int32_t* days);
void EncodeDate(Format format, int32_t days, std::string* out);

struct Timestamp {
  // Microseconds since 2000-01-01 00:00 on the value's own clock: the wall-clock time
  // printed in a text timestamptz (whose zone is offset_s seconds east of UTC), UTC for
  // a binary timestamptz, the plain value for timestamp.
  int64_t us = 0;
  int32_t offset_s = 0;
  bool has_offset = false;

  bool IsInfinite() const { return us == kTsNegInf || us == kTsPosInf; }
  // Converts a zoned wall-clock time to UTC (drops the offset).
  void ToUtc() {
    if (has_offset && !IsInfinite()) us -= static_cast<int64_t>(offset_s) * 1000000;
    has_offset = false;
    offset_s = 0;
  }
};

// type_oid: kTimestamp or kTimestampTz. A text timestamptz must carry an offset, a text
// timestamp must not.
Status DecodeTimestamp(uint32_t type_oid, Format format, std::string_view in, Timestamp* out);
// Binary output writes ts.us as is (call ToUtc() first for a zoned value).
void EncodeTimestamp(uint32_t type_oid, Format format, const Timestamp& ts, std::string* out);

// Floor division that rounds toward negative infinity.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace pgveil::mask::datetime
