#include "pgveil/mask/types.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace pgveil::mask {

TypeFamily FamilyOf(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
      return TypeFamily::kInt;
    case oid::kFloat4:
    case oid::kFloat8:
      return TypeFamily::kFloat;
    case oid::kNumeric:
      return TypeFamily::kNumeric;
    case oid::kBool:
      return TypeFamily::kBool;
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName:
      return TypeFamily::kText;
    case oid::kBytea:
      return TypeFamily::kBytea;
    case oid::kDate:
      return TypeFamily::kDate;
    case oid::kTimestamp:
      return TypeFamily::kTimestamp;
    case oid::kTimestampTz:
      return TypeFamily::kTimestampTz;
    case oid::kUuid:
      return TypeFamily::kUuid;
    default:
      return TypeFamily::kOther;
  }
}

int16_t TypeLength(uint32_t type_oid) {
  switch (type_oid) {
    case oid::kBool:
    case oid::kChar:
      return 1;
    case oid::kInt2:
      return 2;
    case oid::kInt4:
    case oid::kOid:
    case oid::kFloat4:
    case oid::kDate:
      return 4;
    case oid::kInt8:
    case oid::kFloat8:
    case oid::kTime:
    case oid::kTimestamp:
    case oid::kTimestampTz:
      return 8;
    case oid::kUuid:
      return 16;
    case oid::kName:
      return 64;
    default:
      return -1;
  }
}

namespace {
struct NamedType {
  std::string_view name;
  uint32_t oid;
};
// The first name of each OID is the canonical one (as format_type prints it).
constexpr NamedType kNames[] = {
    {"boolean", oid::kBool},
    {"bool", oid::kBool},
    {"bytea", oid::kBytea},
    {"name", oid::kName},
    {"bigint", oid::kInt8},
    {"int8", oid::kInt8},
    {"smallint", oid::kInt2},
    {"int2", oid::kInt2},
    {"integer", oid::kInt4},
    {"int", oid::kInt4},
    {"int4", oid::kInt4},
    {"text", oid::kText},
    {"real", oid::kFloat4},
    {"float4", oid::kFloat4},
    {"double precision", oid::kFloat8},
    {"float8", oid::kFloat8},
    {"character", oid::kBpchar},
    {"char", oid::kBpchar},
    {"bpchar", oid::kBpchar},
    {"character varying", oid::kVarchar},
    {"varchar", oid::kVarchar},
    {"date", oid::kDate},
    {"time without time zone", oid::kTime},
    {"time", oid::kTime},
    {"timestamp without time zone", oid::kTimestamp},
    {"timestamp", oid::kTimestamp},
    {"timestamp with time zone", oid::kTimestampTz},
    {"timestamptz", oid::kTimestampTz},
    {"numeric", oid::kNumeric},
    {"decimal", oid::kNumeric},
    {"uuid", oid::kUuid},
    {"json", oid::kJson},
    {"jsonb", oid::kJsonb},
    {"oid", oid::kOid},
};
}  // namespace

std::string_view TypeName(uint32_t type_oid) {
  for (const auto& t : kNames) {
    if (t.oid == type_oid) return t.name;
  }
  return "unknown type";
}

uint32_t ParseTypeName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& t : kNames) {
    if (t.name == lower) return t.oid;
  }
  return 0;
}

}  // namespace pgveil::mask
