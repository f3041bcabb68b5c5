#include "mask/redact/text.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgveil::mask::redact_internal {
namespace {

Decoded Decode(std::string_view s) { return DecodeUtf8(s.data(), s.data() + s.size()); }

TEST(DecodeUtf8Test, ValidSequences) {
  EXPECT_EQ(Decode("a").cp, U'a');
  EXPECT_EQ(Decode("é").cp, U'é');
  EXPECT_EQ(Decode("é").len, 2);
  EXPECT_EQ(Decode("中").cp, U'中');
  EXPECT_EQ(Decode("😀").cp, U'😀');
  EXPECT_EQ(Decode("😀").len, 4);
}

TEST(DecodeUtf8Test, InvalidSequencesAreOneBadByte) {
  for (std::string_view bad : {"\xC0\xAF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                               "\xE4\xB8", "\x80", "\xFF", "\xF0\x9F\x98"}) {
    const Decoded d = Decode(bad);
    EXPECT_FALSE(d.valid) << testing::PrintToString(std::string(bad));
    EXPECT_EQ(d.len, 1);
  }
}

TEST(DigitValueTest, DigitLikeCharacters) {
  struct Case {
    char32_t cp;
    int value;
    bool weak;
  };
  for (const Case& c : std::vector<Case>{{U'7', 7, false},
                                         {U'０', 0, false},
                                         {U'９', 9, false},
                                         {U'幺', 1, true},
                                         {U'两', 2, true},
                                         {U'〇', 0, true},
                                         {U'捌', 8, true},
                                         {U'⑧', 8, false},
                                         {U'❺', 5, false},
                                         {U'㈢', 3, false},
                                         {U'³', 3, false},
                                         {U'٣', 3, false},
                                         {U'𝟗', 9, false},
                                         {U'a', -1, false},
                                         {U'十', -1, false},
                                         {U'中', -1, false}}) {
    bool weak = !c.weak;
    EXPECT_EQ(DigitValue(c.cp, &weak), c.value) << static_cast<uint32_t>(c.cp);
    if (c.value >= 0) {
      EXPECT_EQ(weak, c.weak) << static_cast<uint32_t>(c.cp);
    }
  }
}

TEST(NormalizeTest, FoldsDigitsAndFullWidth) {
  std::string out;
  std::vector<uint32_t> weak;
  const NormalizeResult r = Normalize("１３８一二ＡＢ＠", &out, &weak);
  EXPECT_EQ(out, "13812AB@");
  EXPECT_EQ(weak, (std::vector<uint32_t>{3, 4}));
  EXPECT_FALSE(r.identical);
  EXPECT_TRUE(r.valid_utf8);
  EXPECT_TRUE(r.has_digit);
  EXPECT_TRUE(r.has_trigger);
}

TEST(NormalizeTest, PlainTextIsIdentical) {
  std::string out;
  std::vector<uint32_t> weak;
  const NormalizeResult r = Normalize("你好，今天天气不错", &out, &weak);
  EXPECT_EQ(out, "你好,今天天气不错");  // the full-width comma folds
  EXPECT_FALSE(r.has_digit);
  EXPECT_FALSE(r.has_trigger);
  EXPECT_TRUE(Normalize("你好", &out, &weak).identical);
}

TEST(NormalizeTest, TriggersOnContextWordsOnly) {
  std::string out;
  std::vector<uint32_t> weak;
  EXPECT_FALSE(Normalize("身高一米七", &out, &weak).has_trigger);
  EXPECT_TRUE(Normalize("身份证", &out, &weak).has_trigger);
  EXPECT_FALSE(Normalize("加班", &out, &weak).has_trigger);
  EXPECT_TRUE(Normalize("加我", &out, &weak).has_trigger);
  EXPECT_TRUE(Normalize("我的微信", &out, &weak).has_trigger);
  EXPECT_TRUE(Normalize("ok", &out, &weak).has_trigger);
  EXPECT_TRUE(Normalize("1.2", &out, &weak).has_trigger);
}

TEST(NormalizeTest, InvalidBytesBecomeSeparators) {
  std::string out;
  std::vector<uint32_t> weak;
  const NormalizeResult r = Normalize(
      "1\xFF"
      "2\xE4\xB8",
      &out, &weak);
  EXPECT_EQ(out, std::string("1") + kInvalidByte + "2" + kInvalidByte + kInvalidByte);
  EXPECT_FALSE(r.valid_utf8);
  EXPECT_FALSE(r.identical);
}

TEST(OffsetMapperTest, MapsNormalizedOffsetsBack) {
  const std::string in = "a１中\xFF一b";
  std::string out;
  std::vector<uint32_t> weak;
  (void)Normalize(in, &out, &weak);
  ASSERT_EQ(out, std::string("a1中") + kInvalidByte + "1b");
  OffsetMapper mapper(in);
  EXPECT_EQ(mapper.ToInput(0), 0u);
  EXPECT_EQ(mapper.ToInput(1), 1u);  // １ starts at input byte 1
  EXPECT_EQ(mapper.ToInput(2), 4u);  // 中
  EXPECT_EQ(mapper.ToInput(5), 7u);  // the invalid byte
  EXPECT_EQ(mapper.ToInput(6), 8u);  // 一
  EXPECT_EQ(mapper.ToInput(7), 11u);
  EXPECT_EQ(mapper.ToInput(8), in.size());
}

TEST(AppendSanitizedTest, ReplacesInvalidBytes) {
  std::string out = "x";
  AppendSanitized(
      "a\xFF"
      "b\xE4\xB8",
      &out);
  EXPECT_EQ(out,
            "xa\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
  out.clear();
  AppendSanitized("中文 ok", &out);
  EXPECT_EQ(out, "中文 ok");
}

}  // namespace
}  // namespace pgveil::mask::redact_internal
