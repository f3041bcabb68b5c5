// truncate: dates and timestamps down to the start of a year, month, day or hour.
#include "mask/datetime.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

using datetime::CivilFromDays;
using datetime::DaysFromCivil;
using datetime::FloorDiv;
using datetime::kUsPerDay;
using datetime::kUsPerHour;

class Truncate final : public Transform {
 public:
  Truncate(TruncateUnit unit, int32_t zone_s) : unit_(unit), zone_s_(zone_s) {}
  std::string_view Name() const override { return "truncate"; }
  bool Accepts(uint32_t type_oid) const override {
    switch (FamilyOf(type_oid)) {
      case TypeFamily::kDate:
        return unit_ == TruncateUnit::kYear || unit_ == TruncateUnit::kMonth;
      case TypeFamily::kTimestamp:
      case TypeFamily::kTimestampTz:
        return true;
      default:
        return false;
    }
  }

  // Groups start at truncated values. Dates: `d > c` is `d >= c + 1 day`. Timestamps
  // without time zone only (a timestamptz literal is read in the session's time zone,
  // which pgveil does not follow), and only >= and <.
  bool AlignedComparison(uint32_t type_oid, std::string_view op,
                         std::string_view constant) const override {
    if (!Accepts(type_oid)) return false;
    if (type_oid == oid::kDate) {
      int32_t days;
      if (!datetime::DecodeDate(Format::kText, constant, &days).ok()) return false;
      if (days == datetime::kDatePosInf || days == datetime::kDateNegInf) return false;
      if (op == ">" || op == "<=") {
        ++days;
      } else if (op != ">=" && op != "<") {
        return false;
      }
      return TruncDays(days) == days;
    }
    if (type_oid != oid::kTimestamp || (op != ">=" && op != "<")) return false;
    datetime::Timestamp ts;
    if (!datetime::DecodeTimestamp(type_oid, Format::kText, constant, &ts).ok()) return false;
    if (ts.IsInfinite()) return false;
    if (unit_ == TruncateUnit::kHour) return ts.us % kUsPerHour == 0;
    if (ts.us % kUsPerDay != 0) return false;
    const int64_t days = FloorDiv(ts.us, kUsPerDay);
    return TruncDays(days) == days;
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool*) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    if (type_oid == oid::kDate) {
      int32_t days;
      if (Status s = datetime::DecodeDate(format, value, &days); !s.ok()) return s;
      if (days != datetime::kDatePosInf && days != datetime::kDateNegInf) {
        days = static_cast<int32_t>(TruncDays(days));
      }
      datetime::EncodeDate(format, days, out);
      return Status::Ok();
    }
    if (format == Format::kText && TruncateIsoText(type_oid, value, out)) return Status::Ok();
    datetime::Timestamp ts;
    if (Status s = datetime::DecodeTimestamp(type_oid, format, value, &ts); !s.ok()) return s;
    if (!ts.IsInfinite()) {
      if (type_oid == oid::kTimestampTz) {
        // On the rule's clock: from the printed wall-clock time (binary: UTC) to the
        // rule's zone, truncated there. Text is printed on that clock too, not at the
        // value's own offset: that is the session's offset at the original instant, and
        // a time zone whose daylight-saving rule the session chose (TimeZone =
        // 'AAA0BBB-1,J100/0,J300/0') would tell on which side of its switch the value lies.
        const int64_t shift = (static_cast<int64_t>(zone_s_) - ts.offset_s) * 1000000;
        const int64_t on_clock = TruncUs(ts.us + shift);
        if (format == Format::kText) {
          ts.us = on_clock;
          ts.offset_s = zone_s_;
        } else {
          ts.us = on_clock - shift;
        }
      } else {
        ts.us = TruncUs(ts.us);
      }
    }
    datetime::EncodeTimestamp(type_oid, format, ts, out);
    return Status::Ok();
  }

 private:
  int64_t TruncUs(int64_t us) const {
    if (unit_ == TruncateUnit::kHour) return FloorDiv(us, kUsPerHour) * kUsPerHour;
    return TruncDays(FloorDiv(us, kUsPerDay)) * kUsPerDay;
  }

  int64_t TruncDays(int64_t days) const {
    if (unit_ == TruncateUnit::kDay || unit_ == TruncateUnit::kHour) return days;
    int64_t y;
    int m, d;
    CivilFromDays(days, &y, &m, &d);
    return DaysFromCivil(y, unit_ == TruncateUnit::kYear ? 1 : m, 1);
  }

  // Fast path for the common text form "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]" (AD years
  // of four digits) printed on the rule's clock: the fields are truncated as text, the
  // zone suffix kept. Returns false, appending nothing, for any other shape or offset
  // (the full parser handles it).
  bool TruncateIsoText(uint32_t type_oid, std::string_view v, std::string* out) const {
    auto digit = [&](size_t i) { return i < v.size() && v[i] >= '0' && v[i] <= '9'; };
    static constexpr size_t kDigits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    if (v.size() < 19 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' ||
        v[16] != ':') {
      return false;
    }
    for (size_t i : kDigits) {
      if (!digit(i)) return false;
    }
    size_t i = 19;
    if (i < v.size() && v[i] == '.') {
      ++i;
      while (digit(i)) ++i;
    }
    std::string_view zone = v.substr(i);
    // timestamptz always prints its offset; timestamp never has one.
    if (zone.empty() != (type_oid == oid::kTimestamp)) return false;
    if (!zone.empty()) {
      // +HH, +HH:MM or +HH:MM:SS, as PostgreSQL prints offsets.
      if ((zone[0] != '+' && zone[0] != '-') ||
          (zone.size() != 3 && zone.size() != 6 && zone.size() != 9)) {
        return false;
      }
      int32_t offset = 0;
      for (size_t k = 1; k < zone.size(); k += 3) {
        if (!digit(i + k) || !digit(i + k + 1) || (k > 1 && zone[k - 1] != ':')) return false;
        const int32_t part = (zone[k] - '0') * 10 + (zone[k + 1] - '0');
        offset += part * (k == 1 ? 3600 : k == 4 ? 60 : 1);
      }
      if ((zone[0] == '-' ? -offset : offset) != zone_s_) return false;
    }
    switch (unit_) {
      case TruncateUnit::kYear:
        out->append(v.substr(0, 4)).append("-01-01 00:00:00");
        break;
      case TruncateUnit::kMonth:
        out->append(v.substr(0, 7)).append("-01 00:00:00");
        break;
      case TruncateUnit::kDay:
        out->append(v.substr(0, 10)).append(" 00:00:00");
        break;
      case TruncateUnit::kHour:
        out->append(v.substr(0, 13)).append(":00:00");
        break;
    }
    out->append(zone);
    return true;
  }

  TruncateUnit unit_;
  int32_t zone_s_;
};

}  // namespace

StatusOr<TransformPtr> MakeTruncate(const TruncateOptions& o) {
  if (o.zone_offset_s <= -16 * 3600 || o.zone_offset_s >= 16 * 3600) {
    return InvalidArgument("truncate: zone offset out of range");
  }
  return TransformPtr(std::make_shared<Truncate>(o.unit, o.zone_offset_s));
}

}  // namespace pgveil::mask
