// age_band: a birth date to the band of ages it falls in, relative to today.
#include <charconv>
#include <chrono>

#include "mask/datetime.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

int32_t SystemToday() {
  using namespace std::chrono;
  const auto days = floor<std::chrono::days>(system_clock::now()).time_since_epoch().count();
  return static_cast<int32_t>(days - 10957);  // Unix epoch → 2000-01-01
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

class AgeBand final : public Transform {
 public:
  AgeBand(int width, std::function<int32_t()> today) : width_(width), today_(std::move(today)) {}
  std::string_view Name() const override { return "age_band"; }
  bool Accepts(uint32_t type_oid) const override {
    TypeFamily f = FamilyOf(type_oid);
    return f == TypeFamily::kDate || f == TypeFamily::kTimestamp || f == TypeFamily::kTimestampTz;
  }
  OutputType Output(uint32_t, int32_t) const override { return TextOutput(); }
  bool BoundariesMove() const override { return true; }

  // Groups of birth dates start where the band changes from one day to the next (as of
  // today). Dates only; `d > c` is `d >= c + 1 day`.
  bool AlignedComparison(uint32_t type_oid, std::string_view op,
                         std::string_view constant) const override {
    if (type_oid != oid::kDate) return false;
    int32_t d;
    if (!datetime::DecodeDate(Format::kText, constant, &d).ok()) return false;
    if (d == datetime::kDatePosInf || d == datetime::kDateNegInf) return false;
    int64_t day = d;
    if (op == ">" || op == "<=") {
      ++day;
    } else if (op != ">=" && op != "<") {
      return false;
    }
    const int64_t today = today_ ? today_() : SystemToday();
    return Band(day, today) != Band(day - 1, today);
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool* out_null) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    int64_t birth;
    if (type_oid == oid::kDate) {
      int32_t d;
      if (Status s = datetime::DecodeDate(format, value, &d); !s.ok()) return s;
      if (d == datetime::kDatePosInf || d == datetime::kDateNegInf) {
        *out_null = true;
        return Status::Ok();
      }
      birth = d;
    } else {
      datetime::Timestamp ts;
      if (Status s = datetime::DecodeTimestamp(type_oid, format, value, &ts); !s.ok()) return s;
      if (ts.IsInfinite()) {
        *out_null = true;
        return Status::Ok();
      }
      birth = datetime::FloorDiv(ts.us, datetime::kUsPerDay);
    }
    const int64_t today = today_ ? today_() : SystemToday();
    const int64_t lo = Band(birth, today);
    if (lo < 0) {
      *out_null = true;
      return Status::Ok();
    }
    AppendInt(lo, out);
    out->push_back('-');
    AppendInt(lo + width_ - 1, out);
    return Status::Ok();
  }

 private:
  // The lower age of the band of a birth day (days since 2000-01-01), or -1 if not born.
  int64_t Band(int64_t birth, int64_t today) const {
    int64_t by, ty;
    int bm, bd, tm, td;
    datetime::CivilFromDays(birth, &by, &bm, &bd);
    datetime::CivilFromDays(today, &ty, &tm, &td);
    int64_t age = ty - by - ((tm < bm || (tm == bm && td < bd)) ? 1 : 0);
    if (age < 0) return -1;
    return age / width_ * width_;
  }

  int width_;
  std::function<int32_t()> today_;
};

}  // namespace

StatusOr<TransformPtr> MakeAgeBand(const AgeBandOptions& o) {
  if (o.width < 2 || o.width > 100) {
    return InvalidArgument("width must be in 2..100 (a band of 1 year reveals the age)");
  }
  return TransformPtr(std::make_shared<AgeBand>(o.width, o.today));
}

}  // namespace pgveil::mask
