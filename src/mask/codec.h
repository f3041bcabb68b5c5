// Value codecs: PostgreSQL text and binary formats of the types the transforms read.
//
// Decoders validate the whole input and never echo it in errors. Encoders append to the
// caller's buffer. Text formats are the output functions' (DateStyle ISO for dates).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pgveil/mask/types.h"
#include "pgveil/status.h"

namespace pgveil::mask::codec {

// Common error for values that do not parse; names the type, never the value.
Status BadValue(uint32_t type_oid, Format format);

// int2 / int4 / int8.
Status DecodeInt(uint32_t type_oid, Format format, std::string_view in, int64_t* out);
// Fails if v does not fit the type.
Status EncodeInt(uint32_t type_oid, Format format, int64_t v, std::string* out);
int64_t IntMin(uint32_t type_oid);
int64_t IntMax(uint32_t type_oid);

// float4 / float8. Text: "NaN", "Infinity", "-Infinity" as PostgreSQL prints them.
Status DecodeFloat(uint32_t type_oid, Format format, std::string_view in, double* out);
void EncodeFloat(uint32_t type_oid, Format format, double v, std::string* out);

Status DecodeBool(Format format, std::string_view in, bool* out);
void EncodeBool(Format format, bool v, std::string* out);

Status DecodeUuid(Format format, std::string_view in, uint8_t out[16]);
void EncodeUuid(Format format, const uint8_t in[16], std::string* out);

// numeric as a canonical decimal string ("-12.50", "NaN", "Infinity", "-Infinity").
Status DecodeNumeric(Format format, std::string_view in, std::string* decimal);
Status EncodeNumeric(Format format, std::string_view decimal, std::string* out);
// Parses a canonical decimal string (as DecodeNumeric produces) into a double.
Status NumericToDouble(std::string_view decimal, double* out);

// The value in a format-independent canonical form (the text form for every type
// handled here; the raw bytes for text types). Used where text and binary must agree,
// e.g. hashing. Types without a codec accept only the text format.
Status Canonical(uint32_t type_oid, Format format, std::string_view in, std::string* out);

// Encodes a text literal (as a DBA writes it in rules) in the column's type and format;
// fails if the literal is not valid for the type.
Status EncodeLiteral(uint32_t type_oid, Format format, std::string_view literal, std::string* out);

// Big-endian helpers for binary formats.
inline void PutBe(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint64_t GetBe(std::string_view in) {
  uint64_t v = 0;
  for (unsigned char c : in) v = (v << 8) | c;
  return v;
}

}  // namespace pgveil::mask::codec
