#include "leak_scanner.h"

#include <algorithm>

#include "masking_env.h"

namespace pgveil::masking {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsEmailChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsPhoneSeparator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t';
}

// A full-width digit (U+FF10..U+FF19, EF BC 90..99) at s[i]: its value, or -1.
int FullWidthDigit(std::string_view s, size_t i) {
  if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF &&
      static_cast<unsigned char>(s[i + 1]) == 0xBC &&
      static_cast<unsigned char>(s[i + 2]) >= 0x90 &&
      static_cast<unsigned char>(s[i + 2]) <= 0x99) {
    return static_cast<unsigned char>(s[i + 2]) - 0x90;
  }
  return -1;
}

// Maximal runs of characters satisfying `pred`, with their start offsets.
template <typename Pred>
std::vector<std::pair<size_t, std::string_view>> Runs(std::string_view s, Pred pred) {
  std::vector<std::pair<size_t, std::string_view>> out;
  size_t i = 0;
  while (i < s.size()) {
    if (!pred(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && pred(s[j])) ++j;
    out.emplace_back(i, s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Every substring of `run` whose length is in [min_len, max_len] that is in `set`.
bool AnySubstringIn(std::string_view run, size_t min_len, size_t max_len,
                    const std::unordered_set<std::string>& set, size_t* at) {
  for (size_t len = min_len; len <= max_len && len <= run.size(); ++len) {
    for (size_t i = 0; i + len <= run.size(); ++i) {
      if (set.count(std::string(run.substr(i, len))) > 0) {
        *at = i;
        return true;
      }
    }
  }
  return false;
}

std::pair<size_t, size_t> LengthRange(const std::unordered_set<std::string>& set) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& s : set) {
    lo = std::min(lo, s.size());
    hi = std::max(hi, s.size());
  }
  return {lo == SIZE_MAX ? 1 : lo, hi};
}

void AddDigitTokens(std::string_view s, std::unordered_set<std::string>* tokens) {
  for (const auto& [at, run] : Runs(s, IsDigit)) tokens->emplace(run);
}

}  // namespace

StatusOr<LeakScanner> LeakScanner::Load() {
  auto members = Env().Query(
      "SELECT phone, id_card_no, wechat_id, qq, email, real_name, monthly_income::text "
      "FROM crm.members");
  if (!members.ok()) return members.status();
  // Numbers that legitimately reach a sales session: in free text (innocent numbers
  // survive redaction), nicknames, and shown ids and counts.
  auto texts = Env().Query(
      "SELECT coalesce(about_me, '') || ' ' || coalesce(nickname, '') FROM crm.members "
      "UNION ALL SELECT body FROM crm.chat_messages "
      "UNION ALL SELECT coalesce(note, '') || ' ' || coalesce(outcome, '') FROM crm.contact_log "
      "UNION ALL SELECT (SELECT max(contact_id) FROM crm.contact_log)::text "
      "UNION ALL SELECT (SELECT count(*) FROM crm.chat_messages)::text");
  if (!texts.ok()) return texts.status();
  std::unordered_set<std::string> innocent;
  int64_t max_shown_number = 0;
  for (const auto& row : *texts) {
    if (!row[0]) continue;
    AddDigitTokens(*row[0], &innocent);
    if (!row[0]->empty() && std::all_of(row[0]->begin(), row[0]->end(), IsDigit)) {
      max_shown_number = std::max<int64_t>(max_shown_number, std::stoll(*row[0]));
    }
  }
  static const std::unordered_set<std::string> kBucketNumbers = {
      "0",     "2999",  "3000",  "4999",  "5000",  "7999",  "8000", "11999",
      "12000", "19999", "20000", "29999", "30000", "49999", "50000"};
  LeakScanner s;
  for (const auto& row : *members) {
    if (row[0]) s.phones_.insert(*row[0]);
    if (row[1]) s.id_cards_.insert(*row[1]);
    if (row[2]) s.wechats_.insert(*row[2]);
    if (row[3]) s.qqs_.insert(*row[3]);
    if (row[4]) s.emails_.insert(*row[4]);
    if (row[5]) s.names_.insert(*row[5]);
    if (row[6]) {
      const std::string& income = *row[6];
      const int64_t v = std::stoll(income);
      if (income.size() >= 4 && !(v >= 1900 && v <= 2100) && v > max_shown_number &&
          kBucketNumbers.count(income) == 0 && innocent.count(income) == 0) {
        s.incomes_.insert(income);
      }
    }
  }
  if (s.phones_.size() < 100 || s.incomes_.size() < 50) {
    return Internal("too few needles: " + std::to_string(s.phones_.size()) + " phones, " +
                    std::to_string(s.incomes_.size()) + " incomes");
  }
  return s;
}

size_t LeakScanner::needle_count() const {
  return phones_.size() + id_cards_.size() + qqs_.size() + emails_.size() + wechats_.size() +
         names_.size() + incomes_.size();
}

std::vector<std::string> LeakScanner::Scan(std::string_view bytes, const std::string& where) const {
  std::vector<std::string> found;
  auto report = [&](const char* kind, size_t at) {
    found.push_back(where + ": " + kind + " at byte " + std::to_string(at));
  };
  // Phones as digit sequences across separators and full-width digits.
  {
    std::string digits;
    std::vector<size_t> origin;
    auto flush = [&] {
      size_t at = 0;
      if (digits.size() >= 11 && AnySubstringIn(digits, 11, 11, phones_, &at)) {
        report("phone digits", origin[at]);
      }
      digits.clear();
      origin.clear();
    };
    for (size_t i = 0; i < bytes.size(); ++i) {
      int fw = FullWidthDigit(bytes, i);
      if (IsDigit(bytes[i]) || fw >= 0) {
        digits.push_back(fw >= 0 ? static_cast<char>('0' + fw) : bytes[i]);
        origin.push_back(i);
        if (fw >= 0) i += 2;
      } else if (!(IsPhoneSeparator(bytes[i]) && !digits.empty())) {
        flush();
      }
    }
    flush();
  }
  auto [id_lo, id_hi] = LengthRange(id_cards_);
  for (const auto& [at, run] :
       Runs(bytes, [](char c) { return IsDigit(c) || c == 'X' || c == 'x'; })) {
    size_t off = 0;
    if (AnySubstringIn(run, id_lo, id_hi, id_cards_, &off)) report("id_card_no", at + off);
  }
  for (const auto& [at, run] : Runs(bytes, IsDigit)) {
    std::string token(run);
    if (qqs_.count(token) > 0) report("qq", at);
    if (incomes_.count(token) > 0) report("monthly_income", at);
  }
  auto [em_lo, em_hi] = LengthRange(emails_);
  for (const auto& [at, run] : Runs(bytes, [](char c) { return IsEmailChar(c) || c == '@'; })) {
    if (run.find('@') == std::string_view::npos) continue;
    size_t off = 0;
    if (AnySubstringIn(run, em_lo, em_hi, emails_, &off)) report("email", at + off);
  }
  auto [wx_lo, wx_hi] = LengthRange(wechats_);
  for (const auto& [at, run] :
       Runs(bytes, [](char c) { return IsAlnum(c) || c == '_' || c == '-'; })) {
    size_t off = 0;
    if (AnySubstringIn(run, wx_lo, wx_hi, wechats_, &off)) report("wechat_id", at + off);
  }
  auto [nm_lo, nm_hi] = LengthRange(names_);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if ((static_cast<unsigned char>(bytes[i]) & 0xC0) == 0x80) continue;  // not a lead byte
    for (size_t len = nm_lo; len <= nm_hi && i + len <= bytes.size(); ++len) {
      if (names_.count(std::string(bytes.substr(i, len))) > 0) {
        report("real_name", i);
        break;
      }
    }
  }
  return found;
}

std::vector<std::string> LeakScanner::Scan(const std::vector<it::BackendMessage>& messages) const {
  std::vector<std::string> found;
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string bytes(1, messages[i].type);
    bytes += messages[i].body;
    auto f =
        Scan(bytes, "message " + std::to_string(i) + " '" + std::string(1, messages[i].type) + "'");
    found.insert(found.end(), f.begin(), f.end());
  }
  return found;
}

}  // namespace pgveil::masking
