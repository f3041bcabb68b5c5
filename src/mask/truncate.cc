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
  explicit Truncate(TruncateUnit unit) : unit_(unit) {}
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
    datetime::Timestamp ts;
    if (Status s = datetime::DecodeTimestamp(type_oid, format, value, &ts); !s.ok()) return s;
    if (!ts.IsInfinite()) {
      if (unit_ == TruncateUnit::kHour) {
        ts.us = FloorDiv(ts.us, kUsPerHour) * kUsPerHour;
      } else {
        ts.us = TruncDays(FloorDiv(ts.us, kUsPerDay)) * kUsPerDay;
      }
    }
    datetime::EncodeTimestamp(type_oid, format, ts, out);
    return Status::Ok();
  }

 private:
  int64_t TruncDays(int64_t days) const {
    if (unit_ == TruncateUnit::kDay || unit_ == TruncateUnit::kHour) return days;
    int64_t y;
    int m, d;
    CivilFromDays(days, &y, &m, &d);
    return DaysFromCivil(y, unit_ == TruncateUnit::kYear ? 1 : m, 1);
  }

  TruncateUnit unit_;
};

}  // namespace

StatusOr<TransformPtr> MakeTruncate(const TruncateOptions& o) {
  return TransformPtr(std::make_shared<Truncate>(o.unit));
}

}  // namespace pgveil::mask
