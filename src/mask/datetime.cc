#include "mask/datetime.h"

#include <charconv>

#include "mask/codec.h"

namespace pgveil::mask::datetime {

namespace {

constexpr int64_t kUnixToPgDays = 10957;  // 1970-01-01 → 2000-01-01
// PostgreSQL's date range: 4713-11-24 BC (Julian day 0) .. 5874897-12-31.
constexpr int64_t kMinYear = -4713;
constexpr int64_t kMaxYear = 5874897;

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses exactly `n` digits (n > 0) or, with n == 0, one or more digits.
bool ParseDigits(std::string_view* in, size_t n, int64_t* out) {
  size_t len = 0;
  while (len < in->size() && (*in)[len] >= '0' && (*in)[len] <= '9' && (n == 0 || len < n)) ++len;
  if (len == 0 || (n != 0 && len != n) || len > 10) return false;
  std::from_chars(in->data(), in->data() + len, *out);
  in->remove_prefix(len);
  return true;
}

bool Consume(std::string_view* in, char c) {
  if (in->empty() || (*in)[0] != c) return false;
  in->remove_prefix(1);
  return true;
}

// "YYYY-MM-DD" (year of 4 or more digits); leaves the rest in *in.
bool ParseDatePart(std::string_view* in, int64_t* y, int* m, int* d) {
  int64_t year, mon, day;
  if (in->size() < 10) return false;
  size_t dash = in->find('-');
  if (dash == std::string_view::npos || dash < 4) return false;
  if (!ParseDigits(in, dash, &year) || !Consume(in, '-') || !ParseDigits(in, 2, &mon) ||
      !Consume(in, '-') || !ParseDigits(in, 2, &day)) {
    return false;
  }
  *y = year;
  *m = static_cast<int>(mon);
  *d = static_cast<int>(day);
  return true;
}

// Applies a trailing " BC" and validates the calendar date.
bool FinishDate(std::string_view* in, int64_t* y, int m, int d) {
  if (*y == 0) return false;  // there is no year 0 in either era
  if (*in == " BC") {
    *y = 1 - *y;
    in->remove_prefix(3);
  }
  if (*y < kMinYear || *y > kMaxYear) return false;
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(*y, m)) return false;
  return true;
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  int len = static_cast<int>(res.ptr - buf);
  if (len < width) out->append(width - len, '0');
  out->append(buf, res.ptr);
}

void AppendDate(int64_t days, std::string* out, bool* bc) {
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  *bc = y <= 0;
  AppendPadded(*bc ? 1 - y : y, 4, out);
  out->push_back('-');
  AppendPadded(m, 2, out);
  out->push_back('-');
  AppendPadded(d, 2, out);
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  // Howard Hinnant's days_from_civil, shifted to the PostgreSQL epoch.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 - kUnixToPgDays;
}

void CivilFromDays(int64_t days, int64_t* year, int* month, int* day) {
  int64_t z = days + kUnixToPgDays + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

Status DecodeDate(Format format, std::string_view in, int32_t* days) {
  if (format == Format::kBinary) {
    if (in.size() != 4) return codec::BadValue(oid::kDate, format);
    *days = static_cast<int32_t>(static_cast<uint32_t>(codec::GetBe(in)));
    return Status::Ok();
  }
  if (in == "infinity") {
    *days = kDatePosInf;
    return Status::Ok();
  }
  if (in == "-infinity") {
    *days = kDateNegInf;
    return Status::Ok();
  }
  int64_t y;
  int m, d;
  if (!ParseDatePart(&in, &y, &m, &d) || !FinishDate(&in, &y, m, d) || !in.empty()) {
    return codec::BadValue(oid::kDate, format);
  }
  *days = static_cast<int32_t>(DaysFromCivil(y, m, d));
  return Status::Ok();
}

void EncodeDate(Format format, int32_t days, std::string* out) {
  if (format == Format::kBinary) {
    codec::PutBe(static_cast<uint32_t>(days), 4, out);
    return;
  }
  if (days == kDatePosInf) {
    out->append("infinity");
    return;
  }
  if (days == kDateNegInf) {
    out->append("-infinity");
    return;
  }
  bool bc;
  AppendDate(days, out, &bc);
  if (bc) out->append(" BC");
}

Status DecodeTimestamp(uint32_t type_oid, Format format, std::string_view in, Timestamp* out) {
  const bool tz = type_oid == oid::kTimestampTz;
  *out = Timestamp();
  if (format == Format::kBinary) {
    if (in.size() != 8) return codec::BadValue(type_oid, format);
    out->us = static_cast<int64_t>(codec::GetBe(in));
    return Status::Ok();
  }
  if (in == "infinity" || in == "-infinity") {
    out->us = in[0] == '-' ? kTsNegInf : kTsPosInf;
    return Status::Ok();
  }
  int64_t y, hh, mi, ss, frac = 0;
  int m, d;
  if (!ParseDatePart(&in, &y, &m, &d) || !Consume(&in, ' ') || !ParseDigits(&in, 2, &hh) ||
      !Consume(&in, ':') || !ParseDigits(&in, 2, &mi) || !Consume(&in, ':') ||
      !ParseDigits(&in, 2, &ss) || hh > 24 || mi > 59 || ss > 60) {
    return codec::BadValue(type_oid, format);
  }
  if (Consume(&in, '.')) {
    size_t len = 0;
    while (len < in.size() && in[len] >= '0' && in[len] <= '9') ++len;
    if (len == 0 || len > 6) return codec::BadValue(type_oid, format);
    std::from_chars(in.data(), in.data() + len, frac);
    for (size_t i = len; i < 6; ++i) frac *= 10;
    in.remove_prefix(len);
  }
  if (!in.empty() && (in[0] == '+' || in[0] == '-')) {
    if (!tz) return codec::BadValue(type_oid, format);
    const int sign = in[0] == '-' ? -1 : 1;
    in.remove_prefix(1);
    int64_t oh, om = 0, os = 0;
    if (!ParseDigits(&in, 2, &oh)) return codec::BadValue(type_oid, format);
    if (Consume(&in, ':')) {
      if (!ParseDigits(&in, 2, &om)) return codec::BadValue(type_oid, format);
      if (Consume(&in, ':') && !ParseDigits(&in, 2, &os)) return codec::BadValue(type_oid, format);
    }
    if (oh > 15 || om > 59 || os > 59) return codec::BadValue(type_oid, format);
    out->has_offset = true;
    out->offset_s = static_cast<int32_t>(sign * (oh * 3600 + om * 60 + os));
  } else if (tz) {
    return codec::BadValue(type_oid, format);
  }
  if (!FinishDate(&in, &y, m, d) || !in.empty()) return codec::BadValue(type_oid, format);
  out->us = DaysFromCivil(y, m, d) * kUsPerDay + ((hh * 60 + mi) * 60 + ss) * 1000000 + frac;
  return Status::Ok();
}

void EncodeTimestamp(uint32_t type_oid, Format format, const Timestamp& ts, std::string* out) {
  if (format == Format::kBinary) {
    codec::PutBe(static_cast<uint64_t>(ts.us), 8, out);
    return;
  }
  if (ts.us == kTsPosInf || ts.us == kTsNegInf) {
    out->append(ts.us == kTsPosInf ? "infinity" : "-infinity");
    return;
  }
  const int64_t days = FloorDiv(ts.us, kUsPerDay);
  int64_t rem = ts.us - days * kUsPerDay;
  bool bc;
  AppendDate(days, out, &bc);
  out->push_back(' ');
  const int64_t secs = rem / 1000000;
  const int64_t frac = rem % 1000000;
  AppendPadded(secs / 3600, 2, out);
  out->push_back(':');
  AppendPadded(secs / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(secs % 60, 2, out);
  if (frac != 0) {
    std::string f;
    AppendPadded(frac, 6, &f);
    while (f.back() == '0') f.pop_back();
    out->push_back('.');
    out->append(f);
  }
  if (type_oid == oid::kTimestampTz) {
    int32_t off = ts.has_offset ? ts.offset_s : 0;
    out->push_back(off < 0 ? '-' : '+');
    if (off < 0) off = -off;
    AppendPadded(off / 3600, 2, out);
    if (off % 3600 != 0) {
      out->push_back(':');
      AppendPadded(off / 60 % 60, 2, out);
      if (off % 60 != 0) {
        out->push_back(':');
        AppendPadded(off % 60, 2, out);
      }
    }
  }
  if (bc) out->append(" BC");
}

}  // namespace pgveil::mask::datetime
