// The Redactor's contract: option validation, labels, custom patterns, detector subsets,
// Find() offsets, invalid UTF-8, and that it can be shared between threads.
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mask/redact/text.h"
#include "pgveil/mask/redact.h"

namespace pgveil::mask {
namespace {

std::shared_ptr<const Redactor> Make(RedactOptions options) {
  auto r = Redactor::Create(options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

std::shared_ptr<const Redactor> MakeAll() {
  RedactOptions o;
  o.detectors = AllDetectors();
  return Make(o);
}

std::string RedactWith(const Redactor& r, std::string_view text) {
  std::string out;
  r.Redact(text, &out);
  return out;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto d = redact_internal::DecodeUtf8(s.data() + i, s.data() + s.size());
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

Status CreateError(const RedactOptions& o) {
  auto r = Redactor::Create(o);
  EXPECT_FALSE(r.ok());
  return r.ok() ? Status::Ok() : r.status();
}

TEST(DetectorNamesTest, RoundTrip) {
  for (Detector d : AllDetectors()) {
    Detector parsed = Detector::kCustom;
    EXPECT_TRUE(ParseDetector(DetectorName(d), &parsed)) << DetectorName(d);
    EXPECT_EQ(parsed, d);
    EXPECT_FALSE(DefaultLabel(d).empty());
  }
  Detector unused;
  EXPECT_FALSE(ParseDetector("custom", &unused));
  EXPECT_FALSE(ParseDetector("phone", &unused));
  EXPECT_EQ(AllDetectors().size(), 8u);
  EXPECT_EQ(DefaultLabel(Detector::kMobile), "[手机号]");
  EXPECT_EQ(DefaultLabel(Detector::kIdCard), "[身份证号]");
  EXPECT_EQ(DetectorName(Detector::kBankCard), "bank_card");
}

TEST(RedactorCreateTest, RejectsEmptyAndMisplacedOptions) {
  EXPECT_EQ(CreateError({}).code(), StatusCode::kInvalidArgument);
  RedactOptions custom_as_builtin;
  custom_as_builtin.detectors = {Detector::kCustom};
  EXPECT_EQ(CreateError(custom_as_builtin).code(), StatusCode::kInvalidArgument);
  RedactOptions custom_label;
  custom_label.detectors = {Detector::kMobile};
  custom_label.labels[Detector::kCustom] = "x";
  EXPECT_EQ(CreateError(custom_label).code(), StatusCode::kInvalidArgument);
  RedactOptions bad_label;
  bad_label.detectors = {Detector::kMobile};
  bad_label.labels[Detector::kMobile] = "\xFF";
  EXPECT_NE(CreateError(bad_label).message().find("mobile"), std::string::npos);
}

TEST(RedactorCreateTest, RejectsBadCustomPatterns) {
  auto with = [](std::string name, std::string pattern) {
    RedactOptions o;
    o.custom.push_back({std::move(name), std::move(pattern), "[x]"});
    return o;
  };
  EXPECT_NE(CreateError(with("member", "([a-z")).message().find("\"member\" does not compile"),
            std::string::npos);
  for (const char* empty : {"a*", "x?", "\\b", "^", "$", "(?:abc)?", "a|", "\\B", "(?m)^$"}) {
    const Status st = CreateError(with("e", empty));
    EXPECT_NE(st.message().find("empty string"), std::string::npos) << empty;
  }
  EXPECT_EQ(CreateError(with("", "abc")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateError(with("n", "")).code(), StatusCode::kInvalidArgument);
  RedactOptions dup = with("n", "abc");
  dup.custom.push_back({"n", "def", ""});
  EXPECT_NE(CreateError(dup).message().find("duplicate"), std::string::npos);
  RedactOptions bad_label = with("n", "abc");
  bad_label.custom[0].label = "\xC0\xAF";
  EXPECT_EQ(CreateError(bad_label).code(), StatusCode::kInvalidArgument);
}

TEST(RedactorTest, EmptyInput) {
  const auto r = MakeAll();
  std::string out;
  EXPECT_EQ(r->Redact("", &out), 0u);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(r->Find("").empty());
}

TEST(RedactorTest, AppendsToOutput) {
  const auto r = MakeAll();
  std::string out = "prefix:";
  EXPECT_EQ(r->Redact("tel 13812345678", &out), 1u);
  EXPECT_EQ(out, "prefix:tel [手机号]");
}

TEST(RedactorTest, LabelOverrides) {
  RedactOptions o;
  o.detectors = AllDetectors();
  o.labels[Detector::kMobile] = "***";
  o.labels[Detector::kEmail] = "";
  const auto r = Make(o);
  EXPECT_EQ(RedactWith(*r, "电话13812345678，邮箱a.b@qq.com"), "电话***，邮箱");
  EXPECT_EQ(RedactWith(*r, "QQ 123456"), "QQ [QQ号]");
}

TEST(RedactorTest, DetectorSubsets) {
  RedactOptions email_only;
  email_only.detectors = {Detector::kEmail};
  const auto e = Make(email_only);
  EXPECT_EQ(RedactWith(*e, "13812345678 a@b.cn"), "13812345678 [邮箱]");

  RedactOptions wechat_only;
  wechat_only.detectors = {Detector::kWeChat};
  const auto w = Make(wechat_only);
  // With the mobile detector off, a phone number given as WeChat ID is still a WeChat ID.
  EXPECT_EQ(RedactWith(*w, "vx 13812345678，手机13912345678"), "vx [微信号]，手机13912345678");

  RedactOptions duplicates;
  duplicates.detectors = {Detector::kQQ, Detector::kQQ};
  EXPECT_EQ(RedactWith(*Make(duplicates), "QQ 123456 a@b.cn"), "QQ [QQ号] a@b.cn");
}

TEST(RedactorTest, CustomPatternsSeeNormalizedText) {
  RedactOptions o;
  o.detectors = {Detector::kMobile};
  o.custom.push_back({"member_no", "M\\d{6}", "[会员号]"});
  o.custom.push_back({"plate", "沪[A-Z]\\d{5}", ""});
  const auto r = Make(o);
  EXPECT_EQ(RedactWith(*r, "会员M123456，车牌沪A12345"), "会员[会员号]，车牌[已脱敏]");
  EXPECT_EQ(RedactWith(*r, "会员Ｍ１２３４５６"), "会员[会员号]");
  EXPECT_EQ(RedactWith(*r, "会员M一二三四五六"), "会员[会员号]");
  const std::string text = "x M123456";
  const auto hits = r->Find(text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].detector, Detector::kCustom);
  EXPECT_EQ(hits[0].custom_name, "member_no");
  EXPECT_EQ(text.substr(hits[0].begin, hits[0].end - hits[0].begin), "M123456");
}

TEST(RedactorTest, CustomPatternsAlone) {
  RedactOptions o;
  o.custom.push_back({"code", "secret-\\d+", "[code]"});
  const auto r = Make(o);
  EXPECT_EQ(RedactWith(*r, "13812345678 secret-42"), "13812345678 [code]");
}

TEST(RedactorTest, FindOffsetsAreInputBytes) {
  const auto r = MakeAll();
  const std::string text = "电话１３８ １２３４ ５６７８，邮箱ａ＠ｂ.cn，号13912345678";
  const auto hits = r->Find(text);
  ASSERT_EQ(hits.size(), 3u);
  auto span = [&](const RedactHit& h) { return text.substr(h.begin, h.end - h.begin); };
  EXPECT_EQ(hits[0].detector, Detector::kMobile);
  EXPECT_EQ(span(hits[0]), "１３８ １２３４ ５６７８");
  EXPECT_EQ(hits[1].detector, Detector::kEmail);
  EXPECT_EQ(span(hits[1]), "ａ＠ｂ.cn");
  EXPECT_EQ(hits[2].detector, Detector::kMobile);
  EXPECT_EQ(span(hits[2]), "13912345678");
  EXPECT_LT(hits[0].end, hits[1].begin);
}

TEST(RedactorTest, OverlapsMergeUnderTheLongestDetector) {
  const auto r = MakeAll();
  EXPECT_EQ(RedactWith(*r, "13812345678@163.com"), "[邮箱]");
  EXPECT_EQ(RedactWith(*r, "http://a.cn/13812345678 ok"), "[网址] ok");
  const auto hits = r->Find("x 139.168.123.45 y");  // also reads as 13916812345
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].detector, Detector::kIPv4);
}

TEST(RedactorTest, InvalidUtf8NeverHidesANumber) {
  const auto r = MakeAll();
  const std::string text =
      "\xFF"
      "1\xC0"
      "38\xE4\xB8"
      "1234\xED\xA0\x80"
      "5678\x80";
  std::string out;
  EXPECT_EQ(r->Redact(text, &out), 1u);
  EXPECT_EQ(out, "\xEF\xBF\xBD[手机号]\xEF\xBF\xBD");
  const auto hits = r->Find(text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].begin, 1u);
  EXPECT_EQ(hits[0].end, text.size() - 1);
}

// Random bytes and random mixtures of the characters the detectors care about, with a
// fixed seed: nothing crashes, output is valid UTF-8, hits are ordered and in bounds,
// and a phone number planted in the noise never comes out.
TEST(RedactorTest, RandomInputs) {
  const auto r = MakeAll();
  std::mt19937 rng(12345);
  const std::vector<std::string> pieces = {
      "1",  "3",    "8",    "0",    " ", "-", "\n", "１",      "三",   "幺",   "两", "一",
      "个", "岁",   "元",   "@",    ".", "x", "X",  "v",       "q",    "微信", "QQ", "身份证",
      "😀",  "\xFF", "\xE4", "\xB8", "a", ":", "：", "http://", "www.", "¥",    "%",  "cm",
  };
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    const bool plant = i % 3 == 0;
    if (plant) text += " 13812345678 ";
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    std::string out;
    const size_t count = r->Redact(text, &out);
    ASSERT_TRUE(IsValidUtf8(out)) << testing::PrintToString(text);
    if (plant) {
      ASSERT_EQ(out.find("13812345678"), std::string::npos) << text;
    }
    const auto hits = r->Find(text);
    ASSERT_EQ(hits.size(), count);
    size_t prev_end = 0;
    for (const RedactHit& h : hits) {
      ASSERT_LE(prev_end, h.begin);
      ASSERT_LT(h.begin, h.end);
      ASSERT_LE(h.end, text.size());
      prev_end = h.end;
    }
  }
}

TEST(RedactorTest, SharedBetweenThreads) {
  const auto r = MakeAll();
  const std::vector<std::string> inputs = {
      "电话13812345678",           "vx: lily_2024",    "QQ：123456789",
      "身份证11010519491231002X",  "今年28岁，1999元", "邮箱 zhangsan@163.com",
      "１３８－１２３４－５６７８"};
  std::vector<std::string> expected;
  for (const auto& in : inputs) expected.push_back(RedactWith(*r, in));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 300; ++rep) {
        for (size_t i = 0; i < inputs.size(); ++i) {
          mismatches[t] += RedactWith(*r, inputs[i]) != expected[i];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace pgveil::mask
