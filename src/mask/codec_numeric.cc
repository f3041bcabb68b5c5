// numeric: the text form is a plain decimal; the binary form (numeric_send) is
//   int16 ndigits, int16 weight, uint16 sign, int16 dscale, ndigits x int16 base-10000
// digits, value = sum digit[i] * 10000^(weight - i).
#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "mask/codec.h"

namespace pgveil::mask::codec {

namespace {

constexpr uint16_t kPos = 0x0000, kNeg = 0x4000, kNaN = 0xC000, kPinf = 0xD000, kNinf = 0xF000;
constexpr size_t kMaxDigits = 1000;  // numeric allows 131072 + 16383 digits; we bound work

bool IsDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits a plain decimal into sign, integer digits and fraction digits.
bool SplitDecimal(std::string_view in, bool* neg, std::string_view* ip, std::string_view* fp) {
  *neg = false;
  if (!in.empty() && (in[0] == '-' || in[0] == '+')) {
    *neg = in[0] == '-';
    in.remove_prefix(1);
  }
  size_t dot = in.find('.');
  *ip = in.substr(0, dot);
  *fp = dot == std::string_view::npos ? std::string_view() : in.substr(dot + 1);
  if (ip->empty() && fp->empty()) return false;
  if (ip->size() + fp->size() > kMaxDigits) return false;
  return IsDigits(*ip) && IsDigits(*fp);
}

int16_t Get16(std::string_view in, size_t off) {
  return static_cast<int16_t>((static_cast<uint8_t>(in[off]) << 8) |
                              static_cast<uint8_t>(in[off + 1]));
}

void AppendGroup(int d, bool pad, std::string* out) {
  char buf[8];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  if (pad) out->append(4 - (res.ptr - buf), '0');
  out->append(buf, res.ptr);
}

}  // namespace

Status DecodeNumeric(Format format, std::string_view in, std::string* out) {
  if (format == Format::kText) {
    if (in == "NaN" || in == "Infinity" || in == "-Infinity") {
      out->append(in);
      return Status::Ok();
    }
    bool neg;
    std::string_view ip, fp;
    if (!SplitDecimal(in, &neg, &ip, &fp) || in[0] == '+') return BadValue(oid::kNumeric, format);
    out->append(in);
    return Status::Ok();
  }
  if (in.size() < 8) return BadValue(oid::kNumeric, format);
  const int ndigits = Get16(in, 0);
  const int weight = Get16(in, 2);
  const uint16_t sign = static_cast<uint16_t>(Get16(in, 4));
  const int dscale = Get16(in, 6);
  if (ndigits < 0 || dscale < 0 || dscale > 0x3FFF ||
      in.size() != 8 + 2 * static_cast<size_t>(ndigits) ||
      ndigits * 4 > static_cast<int>(kMaxDigits)) {
    return BadValue(oid::kNumeric, format);
  }
  if (sign == kNaN || sign == kPinf || sign == kNinf) {
    if (ndigits != 0) return BadValue(oid::kNumeric, format);
    out->append(sign == kNaN ? "NaN" : sign == kPinf ? "Infinity" : "-Infinity");
    return Status::Ok();
  }
  if (sign != kPos && sign != kNeg) return BadValue(oid::kNumeric, format);
  if (weight > static_cast<int>(kMaxDigits) / 4 || weight < -static_cast<int>(kMaxDigits) / 4 ||
      dscale > static_cast<int>(kMaxDigits)) {
    return BadValue(oid::kNumeric, format);
  }
  auto digit = [&](int i) -> int {
    if (i < 0 || i >= ndigits) return 0;
    return Get16(in, 8 + 2 * static_cast<size_t>(i));
  };
  for (int i = 0; i < ndigits; ++i) {
    if (digit(i) < 0 || digit(i) > 9999) return BadValue(oid::kNumeric, format);
  }
  if (sign == kNeg && ndigits > 0) out->push_back('-');
  if (weight < 0) {
    out->push_back('0');
  } else {
    for (int i = 0; i <= weight; ++i) AppendGroup(digit(i), i != 0, out);
  }
  if (dscale > 0) {
    out->push_back('.');
    size_t start = out->size();
    for (int i = weight + 1; static_cast<int>(out->size() - start) < dscale; ++i) {
      AppendGroup(digit(i), true, out);
    }
    out->resize(start + dscale);
  }
  return Status::Ok();
}

Status EncodeNumeric(Format format, std::string_view decimal, std::string* out) {
  if (format == Format::kText) {
    out->append(decimal);
    return Status::Ok();
  }
  uint16_t sign = kPos;
  if (decimal == "NaN") sign = kNaN;
  if (decimal == "Infinity") sign = kPinf;
  if (decimal == "-Infinity") sign = kNinf;
  if (sign != kPos) {
    PutBe(0, 2, out);
    PutBe(0, 2, out);
    PutBe(sign, 2, out);
    PutBe(0, 2, out);
    return Status::Ok();
  }
  bool neg;
  std::string_view ip, fp;
  if (!SplitDecimal(decimal, &neg, &ip, &fp)) return BadValue(oid::kNumeric, Format::kText);
  // Pad the integer part on the left and the fraction on the right to whole groups.
  std::string digits((4 - ip.size() % 4) % 4, '0');
  digits.append(ip);
  const int int_groups = static_cast<int>(digits.size() / 4);
  digits.append(fp);
  digits.append((4 - fp.size() % 4) % 4, '0');
  std::vector<int> groups;
  for (size_t i = 0; i < digits.size(); i += 4) {
    groups.push_back((digits[i] - '0') * 1000 + (digits[i + 1] - '0') * 100 +
                     (digits[i + 2] - '0') * 10 + (digits[i + 3] - '0'));
  }
  int weight = int_groups - 1;
  size_t first = 0;
  while (first < groups.size() && groups[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  if (first == last) {
    weight = 0;
    neg = false;
  }
  PutBe(last - first, 2, out);
  PutBe(static_cast<uint16_t>(weight), 2, out);
  PutBe(neg ? kNeg : kPos, 2, out);
  PutBe(fp.size(), 2, out);
  for (size_t i = first; i < last; ++i) PutBe(groups[i], 2, out);
  return Status::Ok();
}

Status NumericToDouble(std::string_view decimal, double* out) {
  if (decimal == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return Status::Ok();
  }
  if (decimal == "Infinity" || decimal == "-Infinity") {
    *out = decimal[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return Status::Ok();
  }
  auto [end, ec] = std::from_chars(decimal.data(), decimal.data() + decimal.size(), *out);
  if (ec != std::errc() || end != decimal.data() + decimal.size()) {
    return BadValue(oid::kNumeric, Format::kText);
  }
  return Status::Ok();
}

}  // namespace pgveil::mask::codec
