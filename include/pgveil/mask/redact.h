// Redactor: scrubs contact and identity details out of free text.
//
// One Redactor is built once (RE2 set compiled, validators ready) from RedactOptions and
// shared as std::shared_ptr<const Redactor>; Redact() and Find() are const and
// thread-safe (each thread keeps its own scratch buffers).
//
// What it finds. Detectors read a normalized copy of the text in which every digit-like
// character (full-width ０-９, Chinese numerals 〇零一二…九 and 幺 两, financial numerals
// 壹贰叁…, circled and parenthesized digits, other scripts' digits) is an ASCII digit and
// full-width ASCII is ASCII. Numbers are found across short junk between their digits
// (spaces, dashes, dots, line breaks, emoji, a few letters or Han characters), so
// `1 3 8-1234😀5678`, `+86 138 1234 5678`, `幺三八一二三四五六七八` are phone numbers, while
// quantities (28岁, 1999元, ¥12800, 175cm), dates, times and numbers of other lengths are
// left alone. WeChat and QQ values are only taken after (or right before) a context word
// (微信, vx, V信, wx, 加我, QQ, 扣扣, 企鹅, ...). Where detections overlap, the union is
// replaced, labelled after the longest one.
//
// Input is UTF-8 text. Invalid UTF-8 never crashes and never hides a value: invalid bytes
// read as separators, and Redact() writes each invalid byte as U+FFFD, so its output is
// always valid UTF-8.
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
  kMobile,    // mainland mobile numbers (1[3-9] + 9 digits, optional +86/0086), any disguise
  kIdCard,    // 18-digit resident ID numbers (MOD 11-2 check character, birth date)
  kBankCard,  // card numbers: 16-19 digits, leading 3-6 (UnionPay 62...), Luhn
  kEmail,     // emails, also with full-width ＠ and spelled out (name at qq dot com, 艾特)
  kWeChat,    // WeChat IDs introduced by context words (微信, vx, V信, wx, 加我, …)
  kQQ,        // QQ numbers introduced by context words (扣扣, QQ, 企鹅, …)
  kUrl,       // scheme://..., www...., host.tld/path
  kIPv4,
  kCustom,  // a pattern from the rules
};

// The stable name used in rules files: "mobile", "id_card", "bank_card", "email",
// "wechat", "qq", "url", "ipv4" (and "custom" for kCustom, which ParseDetector rejects).
std::string_view DetectorName(Detector d);
// Parses a built-in detector name; false if unknown (or "custom").
bool ParseDetector(std::string_view name, Detector* out);
// Default replacement label: "[手机号]" "[身份证号]" "[银行卡号]" "[邮箱]" "[微信号]"
// "[QQ号]" "[网址]" "[IP地址]", and "[已脱敏]" for custom patterns without a label.
std::string_view DefaultLabel(Detector d);
// All built-in detectors (everything but kCustom), in a stable order.
const std::vector<Detector>& AllDetectors();

struct CustomPattern {
  std::string name;  // non-empty, unique; used in error messages and hit reports
  // RE2 syntax, matched against the NORMALIZED text: write \d or [0-9] for digits and
  // ASCII for full-width characters (`\d{6}` also finds "１２３４５６" and "一二三四五六").
  // Must compile and must not be able to match the empty string.
  std::string pattern;
  std::string label;  // replacement text (valid UTF-8); empty means DefaultLabel(kCustom)
};

struct RedactOptions {
  // Built-in detectors to run; duplicates are ignored, kCustom is not allowed here.
  // Together with `custom` it must not be empty.
  std::vector<Detector> detectors;
  // Overrides of DefaultLabel() for built-in detectors; valid UTF-8, may be empty.
  std::map<Detector, std::string> labels;
  std::vector<CustomPattern> custom;  // extra patterns, validated by Create()
};

struct RedactHit {
  Detector detector;
  std::string_view custom_name;  // for kCustom, the pattern's name (owned by the Redactor)
  size_t begin;                  // byte offsets into the input, on code point boundaries
  size_t end;
};

class Redactor {
 public:
  // Validates the options (something to detect, no kCustom among the built-ins, labels
  // that are valid UTF-8, custom patterns with unique non-empty names that compile and
  // cannot match the empty string) and builds the matcher. Errors name the offending
  // pattern but never echo input text.
  static StatusOr<std::shared_ptr<const Redactor>> Create(const RedactOptions& options);

  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Appends `text` with every detected span replaced by its label to *out (and invalid
  // UTF-8 bytes by U+FFFD). Returns the number of replaced spans.
  size_t Redact(std::string_view text, std::string* out) const;

  // The detected spans, non-overlapping, in order. Offsets are into `text`.
  std::vector<RedactHit> Find(std::string_view text) const;

 private:
  struct Impl;
  explicit Redactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::mask
