// PostgreSQL type identities and value formats as the masking transforms see them.
//
// Values arrive exactly as they travel in DataRow messages: NULL, or bytes in the text
// format (what the type's output function prints, with DateStyle ISO) or in the binary
// format (the type's send function). Nothing here allocates or keeps state.
#pragma once

#include <cstdint>
#include <string_view>

namespace pgveil::mask {

// Built-in type OIDs (pg_type.oid); stable across PostgreSQL versions.
namespace oid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kChar = 18;  // "char", the one-byte internal type
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestampTz = 1184;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
}  // namespace oid

// A column's result format code, as in Bind and RowDescription.
enum class Format : int16_t { kText = 0, kBinary = 1 };

// The type of a result column after a transform: what the proxy writes into the
// RowDescription in place of the original column's type.
struct OutputType {
  uint32_t oid = 0;
  int16_t typlen = -1;  // pg_type.typlen: -1 variable, else the fixed byte width
  int32_t typmod = -1;
  friend bool operator==(const OutputType&, const OutputType&) = default;
};

// Families of types that share one value representation inside the transforms.
enum class TypeFamily {
  kInt,      // int2, int4, int8
  kFloat,    // float4, float8
  kNumeric,  // numeric (binary format supported)
  kBool,
  kText,  // text, varchar, bpchar, name: the bytes are the same in both formats
  kBytea,
  kDate,
  kTimestamp,  // timestamp without time zone
  kTimestampTz,
  kUuid,
  kOther,  // anything else: only show/null/constant/hash (text format) apply
};

TypeFamily FamilyOf(uint32_t type_oid);

// pg_type.typlen of a built-in type (-1 for variable-length and unknown types).
int16_t TypeLength(uint32_t type_oid);

// The SQL name of a built-in type ("bigint", "text", ...), or "oid N" style "unknown".
std::string_view TypeName(uint32_t type_oid);

// Parses a type name as a DBA writes it in rules ("bigint", "int8", "character varying",
// "timestamptz", ...). Returns 0 for an unknown name.
uint32_t ParseTypeName(std::string_view name);

}  // namespace pgveil::mask
