// round: numbers to the nearest multiple.
#include <charconv>
#include <cmath>

#include "mask/numeric_value.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

__extension__ typedef __int128 Int128;

class Round final : public Transform {
 public:
  Round(double multiple, int decimals)
      : multiple_(multiple), imultiple_(static_cast<int64_t>(multiple)), decimals_(decimals) {}
  std::string_view Name() const override { return "round"; }
  bool Accepts(uint32_t type_oid) const override {
    if (FamilyOf(type_oid) == TypeFamily::kInt) return decimals_ == 0;
    return IsNumberType(type_oid);
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool*) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    Number n;
    if (Status s = DecodeNumber(type_oid, format, value, &n); !s.ok()) return s;
    if (n.is_int) {
      const Int128 v = n.i, m = imultiple_;
      Int128 down = v - ((v % m) + m) % m;  // floor to a multiple
      Int128 up = down + m;
      Int128 r;
      const Int128 dd = v - down, du = up - v;
      if (dd != du) {
        r = dd < du ? down : up;
      } else {
        r = v >= 0 ? up : down;  // ties away from zero
      }
      // Out of the type's range: take the other neighbour, which is toward zero.
      if (r > codec::IntMax(type_oid)) r = down;
      if (r < codec::IntMin(type_oid)) r = up;
      return codec::EncodeInt(type_oid, format, static_cast<int64_t>(r), out);
    }
    double r = n.d;
    if (std::isfinite(r)) r = std::round(r / multiple_) * multiple_;
    if (FamilyOf(type_oid) == TypeFamily::kFloat) {
      codec::EncodeFloat(type_oid, format, r, out);
      return Status::Ok();
    }
    // numeric: print with the multiple's number of decimals.
    if (!std::isfinite(r)) {
      return codec::EncodeNumeric(format,
                                  std::isnan(r) ? "NaN"
                                  : r > 0       ? "Infinity"
                                                : "-Infinity",
                                  out);
    }
    char buf[400];
    auto res = std::to_chars(buf, buf + sizeof(buf), r, std::chars_format::fixed, decimals_);
    if (res.ec != std::errc()) return InvalidArgument("numeric value out of range for round");
    std::string_view dec(buf, res.ptr - buf);
    if (dec.starts_with("-") && dec.find_first_not_of("-0.") == std::string_view::npos) {
      dec.remove_prefix(1);  // no negative zero
    }
    return codec::EncodeNumeric(format, dec, out);
  }

 private:
  double multiple_;
  int64_t imultiple_;
  int decimals_;
};

}  // namespace

StatusOr<TransformPtr> MakeRound(const RoundOptions& o) {
  if (!(o.multiple > 0) || !std::isfinite(o.multiple) || o.multiple > 1e15) {
    return InvalidArgument("multiple must be a positive number up to 10^15");
  }
  int decimals = 0;
  while (decimals <= 6) {
    const double scaled = o.multiple * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-9 * scaled) break;
    ++decimals;
  }
  if (decimals > 6) return InvalidArgument("multiple must have at most 6 decimals");
  if (decimals == 0 && o.multiple < 2) {
    return InvalidArgument("rounding to a multiple of 1 keeps integers unchanged; use at least 2");
  }
  return TransformPtr(std::make_shared<Round>(o.multiple, decimals));
}

}  // namespace pgveil::mask
