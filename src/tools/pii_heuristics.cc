// Why names and values both: a column of WeChat IDs is invisible to the detectors (they
// need a context word such as 微信 in front of an ID), while a `note` column is only
// personal when people actually write contact details into it. Names are matched by
// whole `_`-separated words so that `display_name`, `nickname` or `store_id` do not count.
#include "tools/pii_heuristics.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "pgveil/mask/redact.h"

namespace pgveil::tools {
namespace {

std::vector<std::string> Words(std::string_view name) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

struct NameRule {
  const char* kind;
  std::vector<std::string> words;    // any single word
  std::vector<std::string> phrases;  // consecutive words joined by '_'
  std::vector<std::string> han;      // substrings (Chinese column names)
};

const std::vector<NameRule>& NameRules() {
  static const std::vector<NameRule> rules = {
      {kKindPhone, {"phone", "mobile", "tel", "telephone", "cellphone"}, {}, {"手机", "电话"}},
      {kKindIdNumber,
       {"idcard", "passport", "ssn", "nric"},
       {"id_card", "id_no", "id_number", "national_id", "citizen_id", "identity_no"},
       {"身份证", "证件"}},
      {kKindBankCard,
       {"iban", "bankcard"},
       {"bank_card", "card_number", "bank_account", "account_no"},
       {"银行卡"}},
      {kKindEmail, {"email", "mail", "e_mail"}, {}, {"邮箱"}},
      {kKindWeChat, {"wechat", "weixin", "wx"}, {}, {"微信"}},
      {kKindQQ, {"qq"}, {}, {}},
      {kKindName,
       {"surname"},
       {"real_name", "full_name", "legal_name", "first_name", "last_name", "given_name",
        "family_name", "true_name"},
       {"姓名"}},
      {kKindBirthDate, {"birth", "birthday", "birthdate", "dob"}, {"birth_date"}, {"生日", "出生"}},
      {kKindIncome, {"income", "salary", "wage", "wages", "earnings"}, {}, {"收入", "薪"}},
      {kKindAddress, {"address", "addr", "street", "postcode", "zipcode"}, {}, {"地址", "住址"}},
      {kKindBody, {"height", "weight", "bmi"}, {}, {"身高", "体重"}},
      {kKindPhoto, {"photo", "avatar", "portrait", "selfie"}, {}, {"头像", "照片"}},
      {kKindIpAddress, {"ip", "ipaddr"}, {"ip_address"}, {}},
      {kKindFreeText,
       {"note", "notes", "remark", "remarks", "comment", "comments", "memo", "about", "bio",
        "description", "message", "body", "content"},
       {},
       {"备注", "留言", "内容"}},
  };
  return rules;
}

bool Matches(const NameRule& rule, const std::string& name, const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    if (std::find(rule.words.begin(), rule.words.end(), w) != rule.words.end()) return true;
  }
  std::string joined = "_";
  for (const std::string& w : words) joined += w + "_";
  for (const std::string& p : rule.phrases) {
    if (joined.find("_" + p + "_") != std::string::npos) return true;
  }
  for (const std::string& h : rule.han) {
    if (name.find(h) != std::string::npos) return true;
  }
  return false;
}

bool IsTextType(const std::string& type) {
  return type == "text" || type.starts_with("character") || type == "name" || type == "inet" ||
         type.starts_with("varchar");
}
bool IsNumericType(const std::string& type) {
  return type == "smallint" || type == "integer" || type == "bigint" || type == "real" ||
         type == "double precision" || type.starts_with("numeric");
}
bool IsDateType(const std::string& type) { return type == "date" || type.starts_with("timestamp"); }

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

const mask::Redactor* Detectors() {
  static const std::shared_ptr<const mask::Redactor> redactor = [] {
    auto r = mask::Redactor::Create({.detectors = mask::AllDetectors()});
    return r.ok() ? *r : nullptr;
  }();
  return redactor.get();
}

const char* KindOfDetector(mask::Detector d) {
  switch (d) {
    case mask::Detector::kMobile:
      return kKindPhone;
    case mask::Detector::kIdCard:
      return kKindIdNumber;
    case mask::Detector::kBankCard:
      return kKindBankCard;
    case mask::Detector::kEmail:
      return kKindEmail;
    case mask::Detector::kWeChat:
      return kKindWeChat;
    case mask::Detector::kQQ:
      return kKindQQ;
    case mask::Detector::kIPv4:
      return kKindIpAddress;
    default:
      return nullptr;  // URLs alone are not personal
  }
}

}  // namespace

Classification Classify(const ColumnSample& column) {
  std::set<std::string> kinds;
  std::vector<std::string> evidence;
  const std::vector<std::string> words = Words(column.name);
  const bool text = IsTextType(column.type);

  // Values: how many are entirely one detected item, how many embed one.
  size_t non_null = 0, long_text = 0, total_len = 0;
  std::map<mask::Detector, size_t> whole, embedded;
  size_t embedding_values = 0;
  std::set<std::string> distinct;
  const mask::Redactor* detectors = Detectors();
  for (const auto& v : column.values) {
    if (!v) continue;
    ++non_null;
    const size_t len = CodePoints(*v);
    total_len += len;
    if (len >= 8) ++long_text;
    if (distinct.size() < 10000) distinct.insert(*v);
    if (!text || detectors == nullptr) continue;
    std::vector<mask::RedactHit> hits = detectors->Find(*v);
    if (hits.empty()) continue;
    if (hits.size() == 1 && (hits[0].end - hits[0].begin) * 10 >= v->size() * 9) {
      ++whole[hits[0].detector];
      if (KindOfDetector(hits[0].detector) != nullptr) {
        ++embedded[hits[0].detector];
        ++embedding_values;
      }
      continue;
    }
    bool counted = false;
    for (const auto& h : hits) {
      if (KindOfDetector(h.detector) == nullptr && h.detector != mask::Detector::kUrl) continue;
      ++embedded[h.detector];
      if (!counted) ++embedding_values;
      counted = true;
    }
  }
  for (const auto& [d, n] : whole) {
    const char* kind = KindOfDetector(d);
    if (kind != nullptr && n * 2 >= non_null && n >= 3) {
      kinds.insert(kind);
      evidence.push_back("values: " + std::to_string(n) + " of " + std::to_string(non_null) +
                         " are " + std::string(mask::DetectorName(d)));
    }
  }
  // Names.
  for (const NameRule& rule : NameRules()) {
    if (!Matches(rule, column.name, words)) continue;
    const std::string kind = rule.kind;
    if ((kind == kKindIncome || kind == kKindBody) && !IsNumericType(column.type) && !text)
      continue;
    if (kind == kKindBirthDate && !IsDateType(column.type) && !text) continue;
    if (kind == kKindFreeText) {
      // Only free-form text: long enough and varied (not a status code or category).
      const bool free_form = text && non_null > 0 && total_len >= 8 * non_null &&
                             long_text * 2 >= non_null && distinct.size() * 10 >= non_null * 3;
      if (!free_form) continue;
    } else if (!text && !IsNumericType(column.type) && !IsDateType(column.type)) {
      continue;  // booleans, arrays, bytea ... named like personal data
    }
    kinds.insert(kind);
    evidence.push_back("name: " + kind);
  }
  // Free text by its values: only for columns nothing more specific explains.
  const bool only_free = kinds.empty() || (kinds.size() == 1 && kinds.count(kKindFreeText));
  if (only_free && embedding_values >= 2 && embedding_values * 100 >= non_null) {
    kinds.insert(kKindFreeText);
    std::string what;
    for (const auto& [d, n] : embedded) {
      what += (what.empty() ? "" : ", ") + std::string(mask::DetectorName(d));
    }
    evidence.insert(evidence.begin(), "values: " + std::to_string(embedding_values) + " of " +
                                          std::to_string(non_null) + " embed " + what);
  }

  return {std::vector<std::string>(kinds.begin(), kinds.end()), std::move(evidence)};
}

}  // namespace pgveil::tools
