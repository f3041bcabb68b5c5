// The regular expressions of the textual detectors. They run over the normalized text
// (text.h), so they are written for ASCII digits and ASCII punctuation only, and none of
// them may match across a line break.
#pragma once

#include <string_view>

namespace pgveil::mask::redact_internal {

// What a match of a built-in pattern means.
enum class PatternKind {
  kEmail,         // name@example.com
  kEmailSpelled,  // name at qq dot com, name艾特qq点com, name(at)163.com
  kUrl,
  kIPv4,
  kWeChatWord,      // 微信, vx, V信, wx, weixin, wechat, 加v, ...
  kWeChatGeneric,   // 加我, add me
  kWeChatSystemId,  // wxid_...
  kQQWord,          // QQ, 扣扣, 企鹅, ...
  kIdCardWord,    // 身份证, 证件号, ID card: the number is taken even with a bad check digit
  kBankCardWord,  // 银行卡, 卡号, card number: the number is taken even without Luhn
  kCustom,
};

struct BuiltinPattern {
  PatternKind kind;
  std::string_view regex;
};

// All built-in patterns, in a stable order.
const BuiltinPattern* BuiltinPatterns(size_t* count);

}  // namespace pgveil::mask::redact_internal
