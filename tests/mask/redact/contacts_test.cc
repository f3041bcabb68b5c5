#include "mask/redact/contacts.h"

#include <string>

#include "gtest/gtest.h"

namespace pgveil::mask::redact_internal {
namespace {

std::string ValueAfter(std::string_view norm, size_t word_len, bool* introduced = nullptr) {
  const auto v = ContextValueStart(norm, 0, word_len);
  if (!v) return "<none>";
  if (introduced) *introduced = v->introduced;
  return std::string(norm.substr(v->pos));
}

TEST(ContextValueStartTest, SkipsFiller) {
  bool introduced = false;
  EXPECT_EQ(ValueAfter("微信号:abc", 6, &introduced), "abc");
  EXPECT_TRUE(introduced);
  EXPECT_EQ(ValueAfter("QQ 123", 2, &introduced), "123");
  EXPECT_FALSE(introduced);
  EXPECT_EQ(ValueAfter("wechat is lily", 6, &introduced), "lily");
  EXPECT_TRUE(introduced);
  EXPECT_EQ(ValueAfter("wechatid: lily", 6), "lily");
  EXPECT_EQ(ValueAfter("V信聊吧:mei", 4), "mei");
  EXPECT_EQ(ValueAfter("微信聊天记录", 6), "聊天记录");
}

TEST(ContextValueStartTest, LatinWordMustEnd) {
  EXPECT_EQ(ValueAfter("vxworks 1", 2), "<none>");
  EXPECT_EQ(ValueAfter("qqq", 2), "<none>");
  EXPECT_EQ(ValueAfter("wx123", 2), "123");
}

std::string IdAt(std::string_view norm, bool strong = true, bool plain = true) {
  const auto span = WeChatIdAt(norm, 0, strong, plain);
  if (!span) return "<none>";
  return std::string(norm.substr(span->begin, span->end - span->begin));
}

TEST(WeChatIdTest, Shapes) {
  EXPECT_EQ(IdAt("zhang_san88，周末见"), "zhang_san88");
  EXPECT_EQ(IdAt("zhang san 88 见"), "zhang san 88");
  EXPECT_EQ(IdAt("z h a n g s a n 8 8"), "z h a n g s a n 8 8");
  EXPECT_EQ(IdAt("lily_rose see you"), "lily_rose");
  EXPECT_EQ(IdAt("abc"), "<none>");
  EXPECT_EQ(IdAt("a23456789012345678901"), "<none>");  // 21 characters
  EXPECT_EQ(IdAt("1abcdef"), "<none>");                // digits are the number scanner's
}

TEST(WeChatIdTest, PlainWordsNeedPermission) {
  EXPECT_EQ(IdAt("sunnyday", true, true), "sunnyday");
  EXPECT_EQ(IdAt("sunnyday", true, false), "<none>");
  EXPECT_EQ(IdAt("sunny_day", true, false), "sunny_day");
}

TEST(WeChatIdTest, GenericContextTakesOneMarkedToken) {
  EXPECT_EQ(IdAt("on facebook", false), "<none>");
  EXPECT_EQ(IdAt("abc_123456", false), "abc_123456");
  EXPECT_EQ(IdAt("abc 123456", false), "<none>");
}

TEST(WeChatIdTest, LeavesOtherDetectorsAlone) {
  EXPECT_EQ(IdAt("qq123456789"), "<none>");
  EXPECT_EQ(IdAt("lily2024@163.com"), "<none>");
}

TEST(UrlEndTest, TrimsSentencePunctuation) {
  const std::string s = "https://a.cn/x).";
  EXPECT_EQ(TrimUrlEnd(s, 0, s.size()), s.size() - 2);
  EXPECT_EQ(TrimUrlEnd("a/b", 0, 3), 3u);
}

TEST(StandaloneIPv4Test, Boundaries) {
  const std::string s = "at 10.0.0.1:80";
  EXPECT_TRUE(IsStandaloneIPv4(s, 3, 11));
  const std::string v = "v1.2.3.4.5";
  EXPECT_FALSE(IsStandaloneIPv4(v, 1, 8));
  EXPECT_FALSE(IsStandaloneIPv4(v, 3, 10));
  EXPECT_FALSE(IsStandaloneIPv4("1.2.3.456", 0, 9));
}

}  // namespace
}  // namespace pgveil::mask::redact_internal
