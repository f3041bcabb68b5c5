// The redact transform wraps a Redactor: same output as the Redactor, both formats,
// text types only, NULL stays NULL.
#include <gtest/gtest.h>

#include "pgveil/mask/redact.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {
namespace {

TEST(RedactTransform, MatchesTheRedactor) {
  RedactOptions options;
  options.detectors = AllDetectors();
  auto redactor = Redactor::Create(options);
  ASSERT_TRUE(redactor.ok()) << redactor.status().ToString();
  auto t = MakeRedact(options);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const std::string text = "你好，我的手机是 13812345678，邮箱 li.lei@example.com，价格 299 元";
  std::string direct;
  (*redactor)->Redact(text, &direct);
  for (Format f : {Format::kText, Format::kBinary}) {
    for (uint32_t type : {oid::kText, oid::kVarchar, oid::kBpchar}) {
      std::string out = "p";
      bool is_null = true;
      ASSERT_TRUE((*t)->Apply(type, f, text, &out, &is_null).ok());
      EXPECT_FALSE(is_null);
      EXPECT_EQ(out, "p" + direct);
      EXPECT_EQ(out.find("13812345678"), std::string::npos);
      EXPECT_EQ(out.find("li.lei@example.com"), std::string::npos);
    }
  }
  std::string out;
  bool is_null = false;
  ASSERT_TRUE((*t)->Apply(oid::kText, Format::kText, std::nullopt, &out, &is_null).ok());
  EXPECT_TRUE(is_null);
  EXPECT_FALSE((*t)->Accepts(oid::kInt8));
  EXPECT_FALSE((*t)->Apply(oid::kInt8, Format::kText, "13812345678", &out, &is_null).ok());
  EXPECT_EQ((*t)->Output(oid::kVarchar, 100).oid, oid::kText);
}

TEST(RedactTransform, RefusesEmptyDetectorList) { EXPECT_FALSE(MakeRedact(RedactOptions{}).ok()); }

}  // namespace
}  // namespace pgveil::mask
