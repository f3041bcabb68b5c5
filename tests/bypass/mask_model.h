// MaskModel: the sales policy of masking-rules/crm.json, loaded with the rules library and
// the demo key file, used to compute what a sales rep must receive from what the
// unmasked matcher receives: pseudonyms of real member ids (and back), and the masked
// form of any cell of a base column.
//
// The masking suites (tests/masking) check every transform against independently written
// expectations; these suites check the query guard, so they take the transforms as given
// and ask only whether the guard let the right statement through, with the right
// pseudonyms translated, and masked the right way.
//
// Thread-safety: immutable after Load(); every method is const.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pgveil/rules/rule_set.h"
#include "pgveil/status.h"

namespace pgveil::bypass {

using Cell = std::optional<std::string>;

class MaskModel {
 public:
  // Loads the rules and keys from the source tree and reads the type of every column
  // of the crm schema (as the superuser, straight from the server).
  static StatusOr<MaskModel> Load();

  // The pseudonym sales sees for a real member id (decimal text), and the reverse.
  StatusOr<std::string> Pseudonym(const std::string& real_id) const;
  StatusOr<std::string> RealId(const std::string& pseudonym) const;

  // The masked text form of `value` of base column `column` ("members.phone" or
  // "crm.members.phone") for the sales policy. kNotFound for an unknown column.
  StatusOr<Cell> Mask(const std::string& column, const Cell& value) const;

  // True if the column exists in the crm schema.
  bool Knows(const std::string& column) const;
  // Columns of a crm table in attnum order ("members" → {"member_id", ...}).
  std::vector<std::string> TableColumns(const std::string& table) const;

 private:
  std::shared_ptr<const rules::RuleSet> rules_;
  std::shared_ptr<const rules::Policy> sales_;
  std::map<std::string, uint32_t> column_types_;  // "members.phone" → type OID
  std::map<std::string, std::vector<std::string>> tables_;
};

}  // namespace pgveil::bypass
