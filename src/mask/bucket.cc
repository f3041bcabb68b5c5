// bucket: numbers into configured ranges, as a label or as the range's lower bound.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "mask/numeric_value.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

__extension__ typedef __int128 Int128;

// Bucket bounds can leave the int64 range (the bucket holding INT64_MIN), so labels
// print 128-bit integers.
void AppendInt(Int128 v, std::string* out) {
  if (v >= INT64_MIN && v <= INT64_MAX) {  // the common case, without 128-bit division
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    out->append(buf, res.ptr);
    return;
  }
  char buf[48];
  char* p = buf + sizeof(buf);
  const bool neg = v < 0;
  __extension__ unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : v;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  if (neg) *--p = '-';
  out->append(p, buf + sizeof(buf) - p);
}

class Bucket final : public Transform {
 public:
  explicit Bucket(const BucketOptions& o) : o_(o) {}
  std::string_view Name() const override { return "bucket"; }
  bool Accepts(uint32_t type_oid) const override { return IsNumberType(type_oid); }
  OutputType Output(uint32_t in_oid, int32_t in_typmod) const override {
    return o_.label ? TextOutput() : Transform::Output(in_oid, in_typmod);
  }

  // Groups start at the bucket bounds. `x >= b` and `x < b` need b on a bound; `x > c`
  // and `x <= c` are the same comparisons with b = c + 1, for integer columns only.
  bool AlignedComparison(uint32_t type_oid, std::string_view op,
                         std::string_view constant) const override {
    if (!Accepts(type_oid)) return false;
    int64_t c;
    auto res = std::from_chars(constant.data(), constant.data() + constant.size(), c);
    if (res.ec != std::errc() || res.ptr != constant.data() + constant.size()) return false;
    if (op == ">" || op == "<=") {
      if (FamilyOf(type_oid) != TypeFamily::kInt || c == INT64_MAX) return false;
      ++c;
    } else if (op != ">=" && op != "<") {
      return false;
    }
    if (o_.width) {
      const Int128 off = static_cast<Int128>(c) - o_.origin;
      return off % *o_.width == 0;
    }
    return std::binary_search(o_.bounds.begin(), o_.bounds.end(), c);
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool* out_null) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    Number n;
    if (Status s = DecodeNumber(type_oid, format, value, &n); !s.ok()) return s;
    // The bucket [lo, hi) that holds the value; has_lo/has_hi false for open ends.
    Int128 lo = 0, hi = 0;
    bool has_lo = true, has_hi = true;
    if (!n.is_int && std::isnan(n.d)) {
      *out_null = true;
      return Status::Ok();
    }
    if (o_.width) {
      const Int128 w = *o_.width;
      if (n.is_int) {
        const Int128 off = static_cast<Int128>(n.i) - o_.origin;
        Int128 k = off / w;
        if (off % w != 0 && off < 0) --k;  // floor toward negative infinity
        lo = o_.origin + k * w;
      } else {
        const double k =
            std::floor((n.d - static_cast<double>(o_.origin)) / static_cast<double>(w));
        if (!std::isfinite(k) || std::fabs(k) > 9e15) {
          *out_null = true;
          return Status::Ok();
        }
        lo = o_.origin + static_cast<Int128>(k) * w;
      }
      hi = lo + w;
    } else {
      // Index of the first bound above the value.
      size_t idx;
      if (n.is_int) {
        idx = std::upper_bound(o_.bounds.begin(), o_.bounds.end(), n.i) - o_.bounds.begin();
      } else {
        idx = std::upper_bound(o_.bounds.begin(), o_.bounds.end(), n.d,
                               [](double v, int64_t b) { return v < static_cast<double>(b); }) -
              o_.bounds.begin();
      }
      has_lo = idx > 0;
      has_hi = idx < o_.bounds.size();
      if (has_lo) lo = o_.bounds[idx - 1];
      if (has_hi) hi = o_.bounds[idx];
    }
    if (o_.label) {
      if (!has_lo) {
        out->push_back('<');
        AppendInt(hi, out);
      } else if (!has_hi) {
        AppendInt(lo, out);
        out->push_back('+');
      } else {
        AppendInt(lo, out);
        out->push_back('-');
        AppendInt(hi - 1, out);
      }
      return Status::Ok();
    }
    if (!has_lo) {
      *out_null = true;
      return Status::Ok();
    }
    switch (FamilyOf(type_oid)) {
      case TypeFamily::kInt:
        if (lo < codec::IntMin(type_oid) || lo > codec::IntMax(type_oid)) {
          return InvalidArgument("bucket bound out of range for the column type");
        }
        return codec::EncodeInt(type_oid, format, static_cast<int64_t>(lo), out);
      case TypeFamily::kFloat:
        codec::EncodeFloat(type_oid, format, static_cast<double>(lo), out);
        return Status::Ok();
      default: {
        std::string dec;
        AppendInt(lo, &dec);
        return codec::EncodeNumeric(format, dec, out);
      }
    }
  }

 private:
  BucketOptions o_;
};

}  // namespace

StatusOr<TransformPtr> MakeBucket(const BucketOptions& o) {
  if (o.width && !o.bounds.empty()) return InvalidArgument("give either bounds or width, not both");
  if (o.width) {
    if (*o.width < 2)
      return InvalidArgument("a bucket of width 1 reveals the value; width must be at least 2");
    if (*o.width > (int64_t{1} << 53) || o.origin > (int64_t{1} << 53) ||
        o.origin < -(int64_t{1} << 53)) {
      return InvalidArgument("width and origin must be at most 2^53 in magnitude");
    }
  } else {
    if (o.bounds.empty()) return InvalidArgument("bounds must not be empty");
    for (size_t i = 1; i < o.bounds.size(); ++i) {
      if (o.bounds[i] <= o.bounds[i - 1])
        return InvalidArgument("bounds must be strictly increasing");
      if (static_cast<Int128>(o.bounds[i]) - o.bounds[i - 1] < 2) {
        return InvalidArgument(
            "a bucket of width 1 reveals the value; bounds must differ by at least 2");
      }
    }
  }
  return TransformPtr(std::make_shared<Bucket>(o));
}

}  // namespace pgveil::mask
