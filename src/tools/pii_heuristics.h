// Classification of one column as personal data, from its name, its type and a sample
// of its values (see include/pgveil/tools/scan.h for the overall contract).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgveil::tools {

// Kinds of personal data, by their report names.
inline constexpr char kKindPhone[] = "phone";
inline constexpr char kKindIdNumber[] = "id_number";
inline constexpr char kKindBankCard[] = "bank_card";
inline constexpr char kKindEmail[] = "email";
inline constexpr char kKindWeChat[] = "wechat";
inline constexpr char kKindQQ[] = "qq";
inline constexpr char kKindName[] = "name";
inline constexpr char kKindBirthDate[] = "birth_date";
inline constexpr char kKindIncome[] = "income";
inline constexpr char kKindAddress[] = "address";
inline constexpr char kKindBody[] = "body";
inline constexpr char kKindPhoto[] = "photo";
inline constexpr char kKindIpAddress[] = "ip_address";
inline constexpr char kKindFreeText[] = "free_text";
inline constexpr char kKindPersonId[] = "person_id";

struct ColumnSample {
  std::string name;
  std::string type;  // format_type(), e.g. "text", "bigint", "character(1)"
  std::vector<std::optional<std::string>> values;  // text form; nullopt for NULL
};

struct Classification {
  std::vector<std::string> kinds;     // sorted, unique; empty: not personal
  std::vector<std::string> evidence;  // e.g. "name: phone", "values: 96% mobile"
};

// Name heuristics and detector evidence. Thread-safe.
Classification Classify(const ColumnSample& column);

}  // namespace pgveil::tools
