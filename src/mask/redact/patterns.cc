// Patterns are deliberately loose where a validator follows (context words, IPv4) and
// exact where the match is the whole verdict (emails, URLs). No pattern crosses a line
// break (spaces are [ \t], URLs stop at controls), so long texts can be searched line
// block by line block.
#include "mask/redact/patterns.h"

namespace pgveil::mask::redact_internal {

namespace {

#define PGVEIL_AT \
  R"((?:[ \t]*@[ \t]*|[ \t]*\([ \t]*at[ \t]*\)[ \t]*|[ \t]*\[[ \t]*at[ \t]*\][ \t]*|[ \t]*\{[ \t]*at[ \t]*\}[ \t]*|[ \t]*<[ \t]*at[ \t]*>[ \t]*|[ \t]+at[ \t]+|[ \t]*艾特[ \t]*|[ \t]*圈a[ \t]*|#))"
#define PGVEIL_DOT \
  R"((?:[ \t]*(?:\.|点|。|\([ \t]*dot[ \t]*\)|\[[ \t]*dot[ \t]*\])[ \t]*|[ \t]+dot[ \t]+))"
#define PGVEIL_TLD \
  R"((?:com|cn|net|org|edu|gov|io|me|co|cc|top|xyz|info|biz|vip|hk|tw|jp|uk|us|de|fr|sg))"
// Characters that end a URL: whitespace, controls, quotes, Han, symbols and CJK punctuation.
#define PGVEIL_URL_CHAR R"([^\x00-\x20<>"'\p{Han}\p{So}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}])"

constexpr BuiltinPattern kPatterns[] = {
    {PatternKind::kEmail,
     R"((?i)[a-z0-9][a-z0-9._%+\-]*[ \t]?@[ \t]?[a-z0-9\-]+(?:[ \t]?\.[ \t]?[a-z0-9\-]+)*[ \t]?\.[ \t]?[a-z]{2,})"},
    {PatternKind::kEmailSpelled,
     R"((?i)[a-z0-9][a-z0-9._%+\-]*)" PGVEIL_AT R"([a-z0-9\-]+(?:)" PGVEIL_DOT
     R"([a-z0-9\-]+)*)" PGVEIL_DOT PGVEIL_TLD R"(\b)"},
    {PatternKind::kUrl,
     R"((?i)\b(?:(?:https?|ftp)://|www\.))" PGVEIL_URL_CHAR
     R"(+|(?i)\b(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:com|cn|net|org|me|io|co|cc|ly|gl|la|tv|top|xyz|info|biz|vip|site|link|hk|tw|jp)(?::\d+)?/)" PGVEIL_URL_CHAR
     "*"},
    {PatternKind::kIPv4, R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})"},
    {PatternKind::kWeChatWord,
     R"((?i)微信|威信|薇信|维信|卫信|徽信|魏信|微心|微芯|v信|微x|绿泡泡|\bvx|\bwx|\bweixin|\bwechat|\bv[ \t]*:|加[ \t]*v|\+[ \t]*v|➕[ \t]*v)"},
    {PatternKind::kWeChatGeneric, R"((?i)加我|\badd[ \t]+me\b)"},
    {PatternKind::kWeChatSystemId, R"((?i)\bwxid_[a-z0-9_\-]{4,})"},
    {PatternKind::kQQWord, R"((?i)\bqq|扣扣|抠抠|寇寇|蔻蔻|叩叩|企鹅|球球|秋秋|\bq号)"},
    {PatternKind::kIdCardWord, R"((?i)身份证|证件号|身份号|\bid[ \t]*card|\bid[ \t]*number)"},
    {PatternKind::kBankCardWord,
     R"((?i)银行卡|卡号|银行账号|银行帐号|收款账号|收款帐号|银行账户|\bcard[ \t]*(?:no|number|num)\b)"},
};

#undef PGVEIL_AT
#undef PGVEIL_DOT
#undef PGVEIL_TLD
#undef PGVEIL_URL_CHAR

}  // namespace

const BuiltinPattern* BuiltinPatterns(size_t* count) {
  *count = sizeof(kPatterns) / sizeof(kPatterns[0]);
  return kPatterns;
}

}  // namespace pgveil::mask::redact_internal
