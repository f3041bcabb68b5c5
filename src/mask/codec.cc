#include "mask/codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "mask/datetime.h"

namespace pgveil::mask::codec {

Status BadValue(uint32_t type_oid, Format format) {
  return InvalidArgument(std::string("value is not a valid ") + std::string(TypeName(type_oid)) +
                         (format == Format::kBinary ? " (binary format)" : " (text format)"));
}

int64_t IntMin(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kInt2:
      return std::numeric_limits<int16_t>::min();
    case oid::kInt4:
      return std::numeric_limits<int32_t>::min();
    default:
      return std::numeric_limits<int64_t>::min();
  }
}

int64_t IntMax(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kInt2:
      return std::numeric_limits<int16_t>::max();
    case oid::kInt4:
      return std::numeric_limits<int32_t>::max();
    default:
      return std::numeric_limits<int64_t>::max();
  }
}

static int IntWidth(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kInt2:
      return 2;
    case oid::kInt4:
      return 4;
    case oid::kInt8:
      return 8;
    default:
      return 0;
  }
}

Status DecodeInt(uint32_t type_oid, Format format, std::string_view in, int64_t* out) {
  const int width = IntWidth(type_oid);
  if (width == 0) return BadValue(type_oid, format);
  if (format == Format::kBinary) {
    if (static_cast<int>(in.size()) != width) return BadValue(type_oid, format);
    uint64_t raw = GetBe(in);
    // Sign-extend from `width` bytes.
    const int shift = 64 - 8 * width;
    *out = static_cast<int64_t>(raw << shift) >> shift;
    return Status::Ok();
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), v);
  if (ec != std::errc() || end != in.data() + in.size() || in.empty() || v < IntMin(type_oid) ||
      v > IntMax(type_oid)) {
    return BadValue(type_oid, format);
  }
  *out = v;
  return Status::Ok();
}

Status EncodeInt(uint32_t type_oid, Format format, int64_t v, std::string* out) {
  const int width = IntWidth(type_oid);
  if (width == 0 || v < IntMin(type_oid) || v > IntMax(type_oid)) {
    return InvalidArgument("result out of range for " + std::string(TypeName(type_oid)));
  }
  if (format == Format::kBinary) {
    PutBe(static_cast<uint64_t>(v), width, out);
    return Status::Ok();
  }
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
  return Status::Ok();
}

Status DecodeFloat(uint32_t type_oid, Format format, std::string_view in, double* out) {
  if (format == Format::kBinary) {
    if (type_oid == oid::kFloat4 && in.size() == 4) {
      uint32_t bits = static_cast<uint32_t>(GetBe(in));
      float f;
      std::memcpy(&f, &bits, 4);
      *out = f;
      return Status::Ok();
    }
    if (type_oid == oid::kFloat8 && in.size() == 8) {
      uint64_t bits = GetBe(in);
      std::memcpy(out, &bits, 8);
      return Status::Ok();
    }
    return BadValue(type_oid, format);
  }
  if (in == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
  } else if (in == "Infinity") {
    *out = std::numeric_limits<double>::infinity();
  } else if (in == "-Infinity") {
    *out = -std::numeric_limits<double>::infinity();
  } else {
    auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), *out);
    if (ec != std::errc() || end != in.data() + in.size() || in.empty()) {
      return BadValue(type_oid, format);
    }
  }
  return Status::Ok();
}

void EncodeFloat(uint32_t type_oid, Format format, double v, std::string* out) {
  if (format == Format::kBinary) {
    if (type_oid == oid::kFloat4) {
      float f = static_cast<float>(v);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      PutBe(bits, 4, out);
    } else {
      uint64_t bits;
      std::memcpy(&bits, &v, 8);
      PutBe(bits, 8, out);
    }
    return;
  }
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "Infinity" : "-Infinity");
  } else {
    char buf[40];
    auto res = type_oid == oid::kFloat4
                   ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v))
                   : std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, res.ptr);
  }
}

Status DecodeBool(Format format, std::string_view in, bool* out) {
  if (format == Format::kBinary) {
    if (in.size() != 1 || (in[0] != 0 && in[0] != 1)) return BadValue(oid::kBool, format);
    *out = in[0] == 1;
    return Status::Ok();
  }
  if (in == "t") {
    *out = true;
  } else if (in == "f") {
    *out = false;
  } else {
    return BadValue(oid::kBool, format);
  }
  return Status::Ok();
}

void EncodeBool(Format format, bool v, std::string* out) {
  if (format == Format::kBinary) {
    out->push_back(v ? 1 : 0);
  } else {
    out->push_back(v ? 't' : 'f');
  }
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status DecodeUuid(Format format, std::string_view in, uint8_t out[16]) {
  if (format == Format::kBinary) {
    if (in.size() != 16) return BadValue(oid::kUuid, format);
    std::memcpy(out, in.data(), 16);
    return Status::Ok();
  }
  if (in.size() != 36) return BadValue(oid::kUuid, format);
  size_t k = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (in[i] != '-') return BadValue(oid::kUuid, format);
      ++i;
      continue;
    }
    int hi = HexValue(in[i]), lo = HexValue(in[i + 1]);
    if (hi < 0 || lo < 0) return BadValue(oid::kUuid, format);
    out[k++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return Status::Ok();
}

void EncodeUuid(Format format, const uint8_t in[16], std::string* out) {
  if (format == Format::kBinary) {
    out->append(reinterpret_cast<const char*>(in), 16);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    out->push_back(kHex[in[i] >> 4]);
    out->push_back(kHex[in[i] & 15]);
  }
}

Status Canonical(uint32_t type_oid, Format format, std::string_view in, std::string* out) {
  switch (FamilyOf(type_oid)) {
    case TypeFamily::kText:
      out->append(in);
      return Status::Ok();
    case TypeFamily::kInt: {
      int64_t v = {};
      if (Status s = DecodeInt(type_oid, format, in, &v); !s.ok()) return s;
      return EncodeInt(type_oid, Format::kText, v, out);
    }
    case TypeFamily::kFloat: {
      double v = {};
      if (Status s = DecodeFloat(type_oid, format, in, &v); !s.ok()) return s;
      EncodeFloat(type_oid, Format::kText, v, out);
      return Status::Ok();
    }
    case TypeFamily::kNumeric:
      return DecodeNumeric(format, in, out);
    case TypeFamily::kBool: {
      bool v = {};
      if (Status s = DecodeBool(format, in, &v); !s.ok()) return s;
      EncodeBool(Format::kText, v, out);
      return Status::Ok();
    }
    case TypeFamily::kUuid: {
      uint8_t u[16];
      if (Status s = DecodeUuid(format, in, u); !s.ok()) return s;
      EncodeUuid(Format::kText, u, out);
      return Status::Ok();
    }
    case TypeFamily::kDate: {
      int32_t d;
      if (Status s = datetime::DecodeDate(format, in, &d); !s.ok()) return s;
      datetime::EncodeDate(Format::kText, d, out);
      return Status::Ok();
    }
    case TypeFamily::kTimestamp:
    case TypeFamily::kTimestampTz: {
      datetime::Timestamp ts;
      if (Status s = datetime::DecodeTimestamp(type_oid, format, in, &ts); !s.ok()) return s;
      datetime::EncodeTimestamp(type_oid, Format::kText, ts, out);
      return Status::Ok();
    }
    case TypeFamily::kBytea:
      if (format == Format::kBinary) {
        // The text form of bytea (bytea_output = hex): \x followed by lowercase hex.
        static constexpr char kHex[] = "0123456789abcdef";
        out->append("\\x");
        for (unsigned char c : in) {
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        }
      } else {
        out->append(in);
      }
      return Status::Ok();
    case TypeFamily::kOther:
      // Types without a codec are canonical only in their text form.
      if (format == Format::kBinary) {
        return Unsupported("binary format of " + std::string(TypeName(type_oid)));
      }
      out->append(in);
      return Status::Ok();
  }
  return Internal("unreachable");
}

Status EncodeLiteral(uint32_t type_oid, Format format, std::string_view literal, std::string* out) {
  // Decode as text, then encode in the requested format: validates the literal as well.
  switch (FamilyOf(type_oid)) {
    case TypeFamily::kText:
      out->append(literal);
      return Status::Ok();
    case TypeFamily::kInt: {
      int64_t v = {};
      if (Status s = DecodeInt(type_oid, Format::kText, literal, &v); !s.ok()) return s;
      return EncodeInt(type_oid, format, v, out);
    }
    case TypeFamily::kFloat: {
      double v = {};
      if (Status s = DecodeFloat(type_oid, Format::kText, literal, &v); !s.ok()) return s;
      EncodeFloat(type_oid, format, v, out);
      return Status::Ok();
    }
    case TypeFamily::kNumeric: {
      std::string dec;
      if (Status s = DecodeNumeric(Format::kText, literal, &dec); !s.ok()) return s;
      return EncodeNumeric(format, dec, out);
    }
    case TypeFamily::kBool: {
      bool v = {};
      if (Status s = DecodeBool(Format::kText, literal, &v); !s.ok()) return s;
      EncodeBool(format, v, out);
      return Status::Ok();
    }
    case TypeFamily::kUuid: {
      uint8_t u[16];
      if (Status s = DecodeUuid(Format::kText, literal, u); !s.ok()) return s;
      EncodeUuid(format, u, out);
      return Status::Ok();
    }
    case TypeFamily::kDate: {
      int32_t d;
      if (Status s = datetime::DecodeDate(Format::kText, literal, &d); !s.ok()) return s;
      datetime::EncodeDate(format, d, out);
      return Status::Ok();
    }
    case TypeFamily::kTimestamp:
    case TypeFamily::kTimestampTz: {
      datetime::Timestamp ts;
      if (Status s = datetime::DecodeTimestamp(type_oid, Format::kText, literal, &ts); !s.ok()) {
        return s;
      }
      if (format == Format::kBinary) ts.ToUtc();
      datetime::EncodeTimestamp(type_oid, format, ts, out);
      return Status::Ok();
    }
    case TypeFamily::kBytea:
    case TypeFamily::kOther:
      return Unsupported("constants of type " + std::string(TypeName(type_oid)));
  }
  return Internal("unreachable");
}

}  // namespace pgveil::mask::codec
