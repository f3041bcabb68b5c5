// Redactor: scrubs contact and identity details out of free text.
//
// One Redactor is built once (RE2 set compiled, validators ready) from RedactOptions and
// shared as std::shared_ptr<const Redactor>; Redact() and Find() are const and
// thread-safe. Input is UTF-8 text; invalid UTF-8 is handled without crashing and
// without ever passing a detected value through.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/status.h"

namespace pgveil::mask {

enum class Detector {
  kMobile,    // mainland mobile numbers, in every obfuscated form
  kIdCard,    // 18-digit resident ID numbers (MOD 11-2 check digit)
  kBankCard,  // bank card numbers (Luhn; UnionPay 62 prefix)
  kEmail,     // emails, also with full-width ＠
  kWeChat,    // WeChat IDs introduced by context words (微信, vx, V信, wx, …)
  kQQ,        // QQ numbers introduced by context words (扣扣, QQ, …)
  kUrl,
  kIPv4,
  kCustom,    // a pattern from the rules
};

// The stable name used in rules files: "mobile", "id_card", "bank_card", "email",
// "wechat", "qq", "url", "ipv4".
std::string_view DetectorName(Detector d);
// Parses a detector name; false if unknown.
bool ParseDetector(std::string_view name, Detector* out);
// Default replacement label, e.g. "[手机号]" for kMobile.
std::string_view DefaultLabel(Detector d);
// All built-in detectors (everything but kCustom), in a stable order.
const std::vector<Detector>& AllDetectors();

struct CustomPattern {
  std::string name;     // for error messages and hit reports
  std::string pattern;  // RE2 syntax
  std::string label;    // replacement text
};

struct RedactOptions {
  std::vector<Detector> detectors;             // built-in detectors to run; may not all be empty
  std::map<Detector, std::string> labels;      // overrides of DefaultLabel()
  std::vector<CustomPattern> custom;           // extra patterns, validated by Create()
};

struct RedactHit {
  Detector detector;
  std::string_view custom_name;  // for kCustom, the pattern's name
  size_t begin;                  // byte offsets into the input
  size_t end;
};

class Redactor {
 public:
  // Validates the options (non-empty detector list, custom patterns that compile and
  // cannot match the empty string) and builds the matcher. Errors name the offending
  // pattern but never echo input text.
  static StatusOr<std::shared_ptr<const Redactor>> Create(const RedactOptions& options);

  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Appends `text` with every detected span replaced by its label to *out.
  // Returns the number of replacements.
  size_t Redact(std::string_view text, std::string* out) const;

  // The detected spans, non-overlapping, in order.
  std::vector<RedactHit> Find(std::string_view text) const;

 private:
  struct Impl;
  explicit Redactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::mask
