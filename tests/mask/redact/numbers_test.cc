#include "mask/redact/numbers.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mask/redact/text.h"

namespace pgveil::mask::redact_internal {
namespace {

// Joinable over a gap given as text between two digits: "1" + gap + "2".
int Gap(const std::string& gap, bool after_digits = true) {
  const std::string s = "1" + gap + "2";
  return Joinable(s, 1, 1 + gap.size(), after_digits);
}

TEST(JoinableTest, SeparatorsAreFree) {
  EXPECT_EQ(Gap(""), 0);
  EXPECT_EQ(Gap(" "), 0);
  EXPECT_EQ(Gap("-"), 0);
  EXPECT_EQ(Gap("\n"), 0);
  EXPECT_EQ(Gap("😀"), 0);
  EXPECT_EQ(Gap("️⃣"), 0);
  EXPECT_EQ(Gap(" - . _ "), 0);
}

TEST(JoinableTest, FewWordsAllowed) {
  EXPECT_EQ(Gap("哈"), 1);
  EXPECT_EQ(Gap("，后面是"), 3);
  EXPECT_EQ(Gap(" and "), 3);
  EXPECT_EQ(Gap("哈哈哈哈"), -1);
  EXPECT_EQ(Gap(" years old "), -1);
}

TEST(JoinableTest, LongGapsBreak) {
  EXPECT_EQ(Gap("        "), 0);    // eight code points
  EXPECT_EQ(Gap("         "), -1);  // nine
}

TEST(JoinableTest, UnitsAndCurrencyBreak) {
  EXPECT_EQ(Gap("岁 "), -1);
  EXPECT_EQ(Gap("元"), -1);
  EXPECT_EQ(Gap("cm "), -1);
  EXPECT_EQ(Gap("KG,"), -1);
  EXPECT_EQ(Gap("% "), -1);
  EXPECT_EQ(Gap(" ¥"), -1);
  EXPECT_EQ(Gap(" $"), -1);
  // After a context word (QQ号 123) a unit character is filler.
  EXPECT_EQ(Gap("号", false), 1);
  // Units only count right after the digits.
  EXPECT_EQ(Gap(" 号 "), 1);
}

std::vector<Span> Scan(std::string_view text, const std::vector<Context>& contexts = {}) {
  std::string norm;
  std::vector<uint32_t> weak;
  (void)Normalize(text, &norm, &weak);
  NumberScanner scanner;
  std::vector<Span> spans;
  scanner.Scan(norm, weak, contexts, {true, true, true}, &spans);
  return spans;
}

TEST(NumberScannerTest, FindsPhoneBehindInnocentNumber) {
  const std::string text = "1999元 13812345678";
  const auto spans = Scan(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].detector, Detector::kMobile);
  EXPECT_EQ(text.substr(spans[0].begin, spans[0].end - spans[0].begin), "13812345678");
}

TEST(NumberScannerTest, ReportsEveryValidRunOfGroups) {
  // 1 3 8 ... 9 has two 11-digit windows; only the first is a mobile number.
  const std::string text = "1 3 8 1 2 3 4 5 6 7 8 9";
  const auto spans = Scan(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].begin, 0u);
  EXPECT_EQ(spans[0].end, 21u);
}

TEST(NumberScannerTest, IdCardWithCheckCharacterX) {
  const std::string text = "号码11010519491231002X。";
  const auto spans = Scan(text);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].detector, Detector::kIdCard);
  EXPECT_EQ(text.substr(spans[0].begin, spans[0].end - spans[0].begin), "11010519491231002X");
}

TEST(NumberScannerTest, TightRunsOfOtherLengthsAreNotSplit) {
  EXPECT_TRUE(Scan("138123456789").empty());
  EXPECT_TRUE(Scan("20240512193012345678").empty());
  EXPECT_TRUE(Scan("1381234567").empty());
}

TEST(NumberScannerTest, LoneNumeralBetweenWordsIsAWord) {
  EXPECT_TRUE(Scan("有一个").empty());
  // ... but not when it is glued to digits.
  const auto spans = Scan("138123456七八哈");
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].detector, Detector::kMobile);
}

TEST(NumberScannerTest, ContextDigitsAfterAndBefore) {
  const std::string after = "QQ 12345";
  auto spans = Scan(after, {{0, 3, Detector::kQQ, true}});
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].detector, Detector::kQQ);
  EXPECT_EQ(spans[0].begin, 3u);
  EXPECT_EQ(spans[0].end, 8u);
  // Too short for a QQ number.
  EXPECT_TRUE(Scan("QQ 1234", {{0, 3, Detector::kQQ, true}}).empty());
  // Before the word: only strong words look back.
  const std::string before = "12345 QQ";
  EXPECT_EQ(Scan(before, {{6, 8, Detector::kQQ, true}}).size(), 1u);
  EXPECT_TRUE(Scan(before, {{6, 8, Detector::kWeChat, false}}).empty());
  // A quantity is not a QQ number.
  EXPECT_TRUE(Scan("12345个QQ", {{8, 10, Detector::kQQ, true}}).empty());
}

}  // namespace
}  // namespace pgveil::mask::redact_internal
