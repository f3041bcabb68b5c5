// A number read from an int, float or numeric column, for bucket and round.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mask/codec.h"
#include "mask/util.h"

namespace pgveil::mask {

struct Number {
  bool is_int = false;  // int2/int4/int8: `i` holds the value; otherwise `d`
  int64_t i = 0;
  double d = 0;
};

inline Status DecodeNumber(uint32_t type_oid, Format format, std::string_view in, Number* n) {
  switch (FamilyOf(type_oid)) {
    case TypeFamily::kInt:
      n->is_int = true;
      return codec::DecodeInt(type_oid, format, in, &n->i);
    case TypeFamily::kFloat:
      return codec::DecodeFloat(type_oid, format, in, &n->d);
    case TypeFamily::kNumeric: {
      std::string& dec = Scratch();
      if (Status s = codec::DecodeNumeric(format, in, &dec); !s.ok()) return s;
      return codec::NumericToDouble(dec, &n->d);
    }
    default:
      return Unsupported("not a number type");
  }
}

inline bool IsNumberType(uint32_t type_oid) {
  TypeFamily f = FamilyOf(type_oid);
  return f == TypeFamily::kInt || f == TypeFamily::kFloat || f == TypeFamily::kNumeric;
}

}  // namespace pgveil::mask
