#include "tools/pii_heuristics.h"

#include <gtest/gtest.h>

namespace pgveil::tools {
namespace {

using Kinds = std::vector<std::string>;

ColumnSample Sample(std::string name, std::string type, std::vector<std::string> values) {
  ColumnSample s{std::move(name), std::move(type), {}};
  for (auto& v : values) s.values.emplace_back(std::move(v));
  return s;
}

TEST(PiiHeuristicsTest, ValuesAloneRevealStructuredData) {
  EXPECT_EQ(Classify(Sample("c1", "text", {"13812345678", "15900001111", "18611112222"})).kinds,
            Kinds{"phone"});
  EXPECT_EQ(Classify(Sample("c2", "text", {"a@qq.com", "bo.li@163.com", "x_y@example.org"})).kinds,
            Kinds{"email"});
  EXPECT_EQ(Classify(Sample("c3", "text",
                            {"11010519491231002X", "320106198506121235", "440524198001010013"}))
                .kinds,
            Kinds{"id_number"});
}

TEST(PiiHeuristicsTest, NamesNeedWholeWords) {
  EXPECT_EQ(Classify(Sample("real_name", "text", {"张三"})).kinds, Kinds{"name"});
  EXPECT_EQ(Classify(Sample("id_card_no", "text", {})).kinds, Kinds{"id_number"});
  EXPECT_EQ(Classify(Sample("wechat_id", "text", {"zenggangtao1989"})).kinds, Kinds{"wechat"});
  EXPECT_EQ(Classify(Sample("monthly_income", "integer", {"8000"})).kinds, Kinds{"income"});
  EXPECT_TRUE(Classify(Sample("nickname", "text", {"小博"})).kinds.empty());
  EXPECT_TRUE(Classify(Sample("display_name", "text", {"陈然"})).kinds.empty());
  EXPECT_TRUE(Classify(Sample("store_id", "integer", {"1"})).kinds.empty());
  EXPECT_TRUE(Classify(Sample("telemetry", "text", {"ok"})).kinds.empty());
  EXPECT_TRUE(Classify(Sample("has_phone", "boolean", {"t"})).kinds.empty());
}

TEST(PiiHeuristicsTest, FreeTextByContentOrByNameWhenFreeForm) {
  std::vector<std::string> chat;
  for (int i = 0; i < 50; ++i)
    chat.push_back("今天天气不错，我们周末去爬山吧，第" + std::to_string(i) + "次");
  chat.push_back("加我微信 abc_12345 吧");
  chat.push_back("我的电话 138 1234 5678");
  EXPECT_EQ(Classify(Sample("c", "text", chat)).kinds, Kinds{"free_text"});
  // A categorical `note`-like column is not free text.
  EXPECT_TRUE(
      Classify(Sample("status_note", "text", {"ok", "ok", "no", "ok", "no"})).kinds.empty());
  // Free-form notes are, even without detector hits.
  EXPECT_EQ(Classify(Sample("note", "text",
                            {"客户预算有限，推荐基础套餐。", "客户要求删除号码，说已婚。",
                             "下周再联系，客户在出差。"}))
                .kinds,
            Kinds{"free_text"});
}

}  // namespace
}  // namespace pgveil::tools
