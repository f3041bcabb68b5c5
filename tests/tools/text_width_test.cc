#include "tools/text_width.h"

#include <gtest/gtest.h>

namespace pgveil::tools {
namespace {

TEST(TextWidthTest, EastAsianWideTakesTwoColumns) {
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("张三丰"), 6);
  EXPECT_EQ(DisplayWidth("ＡＢ"), 4);       // fullwidth forms
  EXPECT_EQ(DisplayWidth("한국"), 4);       // Hangul syllables
  EXPECT_EQ(DisplayWidth("😀"), 2);          // emoji presentation
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1);  // e + combining acute
  EXPECT_EQ(DisplayWidth("½·é"), 3);        // ambiguous and narrow: one column
  EXPECT_EQ(DisplayWidth("\xFF\xFE"), 2);   // invalid bytes: one column each
}

TEST(TextWidthTest, FitWidthPadsAndCutsWithoutSplittingWideCharacters) {
  EXPECT_EQ(FitWidth("ab", 4), "ab  ");
  EXPECT_EQ(FitWidth("张三", 4), "张三");
  EXPECT_EQ(FitWidth("张三丰", 4), "张… ");  // 2 + 1 + padding
  EXPECT_EQ(FitWidth("abcdef", 4), "abc…");
  EXPECT_EQ(DisplayWidth(FitWidth("不吃香菜的旅人", 9)), 9);
  EXPECT_EQ(FitWidth("a\tb\nc", 5), "a b c");
  EXPECT_EQ(FitWidth("a\xFF", 3), "a\xEF\xBF\xBD ");
}

}  // namespace
}  // namespace pgveil::tools
