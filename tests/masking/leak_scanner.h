// Finds protected raw values of crm.members in bytes a masked session received.
//
// The needles are every member's phone, id_card_no, wechat_id, qq, email, real_name and
// monthly_income, read directly from PostgreSQL as the superuser. Matching is by token
// so that one scan of a large byte stream is cheap and so that innocent bytes do not
// match by accident:
//   phone        as a digit sequence: ASCII and full-width digits, joined across the
//                separators people write in phone numbers (space, '-', '.', '(', ')')
//   id_card_no   inside runs of [0-9Xx]
//   qq           a whole run of digits
//   email        inside runs of e-mail characters around '@'
//   wechat_id    inside runs of [A-Za-z0-9_-]
//   real_name    anywhere (UTF-8 byte match)
//   income       a whole run of digits, for incomes whose decimal form cannot be there
//                innocently (bucket bounds, years and numbers that occur in any raw free
//                text or nickname are left out; see the constructor)
// Reports name the kind and where the match was, never the value.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "harness/raw_client.h"
#include "pgveil/status.h"

namespace pgveil::masking {

class LeakScanner {
 public:
  // Reads the needles from the demo database (superuser, direct).
  static StatusOr<LeakScanner> Load();

  // Descriptions of every needle found in `bytes` (empty: no leak). `where` prefixes
  // each description.
  std::vector<std::string> Scan(std::string_view bytes, const std::string& where) const;
  // Scans the type byte and body of every message.
  std::vector<std::string> Scan(const std::vector<it::BackendMessage>& messages) const;

  size_t needle_count() const;

 private:
  std::unordered_set<std::string> phones_, id_cards_, qqs_, emails_, wechats_, names_, incomes_;
};

}  // namespace pgveil::masking
