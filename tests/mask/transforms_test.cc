// Table-driven tests of the keyless transforms, in text and binary formats.
#include "pgveil/mask/transforms.h"

#include <gtest/gtest.h>

#include "mask/datetime.h"
#include "transform_test_util.h"

namespace pgveil::mask {
namespace {

using std::nullopt;
using testing::Case;
using testing::RunCases;

TransformPtr Must(StatusOr<TransformPtr> t) {
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : MakeNull();
}

TEST(Show, PassesEveryTypeThrough) {
  RunCases(*MakeShow(), {
                            {oid::kText, "张三丰", "张三丰"},
                            {oid::kText, "", ""},
                            {oid::kText, nullopt, nullopt},
                            {oid::kInt8, "-9223372036854775808", "-9223372036854775808"},
                            {oid::kInt8, "9223372036854775807", "9223372036854775807"},
                            {oid::kDate, "0044-03-15 BC", "0044-03-15 BC"},
                            {oid::kDate, "infinity", "infinity"},
                            {oid::kTimestampTz, "1960-01-01 00:00:00+00", "1960-01-01 00:00:00+00"},
                            {oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                             "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
                            {oid::kBool, "t", "t"},
                            {oid::kNumeric, "-12.50", "-12.50"},
                        });
  EXPECT_EQ(MakeShow()->Output(oid::kBpchar, 5), (OutputType{oid::kBpchar, -1, 5}));
}

TEST(Null, MasksEverything) {
  RunCases(*MakeNull(), {
                            {oid::kText, "张三丰", nullopt},
                            {oid::kInt8, "42", nullopt},
                            {oid::kDate, "infinity", nullopt},
                            {oid::kText, nullopt, nullopt},
                        });
  EXPECT_TRUE(MakeNull()->Accepts(oid::kJsonb));
  EXPECT_EQ(MakeNull()->Output(oid::kInt4, -1), (OutputType{oid::kInt4, 4, -1}));
}

TEST(Constant, EncodesPerType) {
  auto zero = Must(MakeConstant({.value = "0"}));
  RunCases(*zero, {
                      {oid::kInt4, "123", "0"},
                      {oid::kInt8, "-9223372036854775808", "0"},
                      {oid::kText, "secret", "0"},
                      {oid::kNumeric, "12.5", "0"},
                      {oid::kInt4, nullopt, nullopt},
                  });
  EXPECT_TRUE(zero->Accepts(oid::kInt2));
  EXPECT_FALSE(zero->Accepts(oid::kDate));
  EXPECT_FALSE(zero->Accepts(oid::kUuid));
  auto day = Must(MakeConstant({.value = "1900-01-01", .replace_null = true}));
  RunCases(*day, {
                     {oid::kDate, "2024-01-01", "1900-01-01"},
                     {oid::kDate, nullopt, "1900-01-01"},
                 });
  // A value the column type cannot hold is an error, never the original value.
  RunCases(*day, {{oid::kInt4, "5", nullopt, true}});
}

TEST(Partial, KeepsCodePoints) {
  auto surname = Must(MakePartial({.keep_first = 1}));
  RunCases(*surname, {
                         {oid::kText, "张三丰", "张**"},
                         {oid::kVarchar, "张三", "张*"},
                         {oid::kText, "张", "*"},  // would be revealed whole: hidden entirely
                         {oid::kText, "", ""},
                         {oid::kText, "😀abc", "😀***"},
                         {oid::kName, "Smith", "S****"},
                         {oid::kText, nullopt, nullopt},
                     });
  auto last4 = Must(MakePartial({.keep_last = 4}));
  auto lead = Must(MakePartial({.keep_first = 3, .keep_last = 4}));
  auto fixed = Must(MakePartial({.keep_last = 4, .fill_length = 3}));
  RunCases(*last4, {{oid::kText, "13812345678", "*******5678"}, {oid::kText, "5678", "****"}});
  RunCases(*lead, {{oid::kText, "13812345678", "138****5678"}, {oid::kText, "1234567", "*******"}});
  RunCases(*fixed, {{oid::kText, "13812345678", "***5678"}, {oid::kText, "12", "***"}});
  auto email = Must(MakePartial({.keep_first = 1, .keep_after = "@"}));
  RunCases(*email, {
                       {oid::kText, "zhangsan@qq.com", "z*******@qq.com"},
                       {oid::kText, "a.b@c@example.cn", "a****@example.cn"},
                       {oid::kText, "no-at-sign", "n*********"},
                       {oid::kText, "@qq.com", "@qq.com"},
                   });
  EXPECT_FALSE(surname->Accepts(oid::kInt4));
  EXPECT_EQ(surname->Output(oid::kBpchar, 5), (OutputType{oid::kText, -1, -1}));
  RunCases(*surname, {{oid::kInt4, "5", nullopt, true}});
  // Invalid UTF-8 is masked byte-wise without crashing and without leaking hidden bytes.
  std::string out;
  bool is_null;
  ASSERT_TRUE(surname
                  ->Apply(oid::kText, Format::kText,
                          std::string_view("\xe5\xbc\xa0\x80\x80\xff", 6), &out, &is_null)
                  .ok());
  EXPECT_EQ(out.substr(0, 3), "\xe5\xbc\xa0");
  EXPECT_EQ(out.find('\xff'), std::string::npos);
}

TEST(Partial, RefusesDegenerateOptions) {
  EXPECT_FALSE(MakePartial({.keep_first = -1}).ok());
  EXPECT_FALSE(MakePartial({.keep_first = 10, .keep_last = 7}).ok());
  EXPECT_FALSE(MakePartial({.keep_first = 1, .fill = ""}).ok());
  EXPECT_FALSE(MakePartial({.keep_first = 1, .fill_length = 0}).ok());
}

TEST(Bucket, Bounds) {
  auto income = Must(MakeBucket({.bounds = {0, 3000, 5000, 8000, 12000, 20000, 30000, 50000}}));
  RunCases(*income, {
                        {oid::kInt4, "8000", "8000-11999"},
                        {oid::kInt4, "11999", "8000-11999"},
                        {oid::kInt4, "0", "0-2999"},
                        {oid::kInt4, "50000", "50000+"},
                        {oid::kInt4, "-1", "<0"},
                        {oid::kInt8, "9223372036854775807", "50000+"},
                        {oid::kInt8, "-9223372036854775808", "<0"},
                        {oid::kFloat8, "11999.5", "8000-11999"},
                        {oid::kFloat8, "-Infinity", "<0"},
                        {oid::kFloat8, "NaN", nullopt},
                        {oid::kNumeric, "12000.00", "12000-19999"},
                        {oid::kInt4, nullopt, nullopt},
                        {oid::kInt4, "12x", nullopt, true, true},
                        {oid::kText, "12", nullopt, true},
                    });
  EXPECT_EQ(income->Output(oid::kInt4, -1), (OutputType{oid::kText, -1, -1}));
  auto lower = Must(MakeBucket({.bounds = {0, 3000, 5000}, .label = false}));
  RunCases(*lower, {
                       {oid::kInt4, "4999", "3000"},
                       {oid::kInt2, "7000", "5000"},
                       {oid::kInt4, "-5", nullopt},
                       {oid::kNumeric, "3000.5", "3000"},
                       {oid::kFloat4, "1.5", "0"},
                   });
  EXPECT_EQ(lower->Output(oid::kInt2, -1), (OutputType{oid::kInt2, 2, -1}));
}

TEST(Bucket, WidthFloorsDownward) {
  auto height = Must(MakeBucket({.width = 5}));
  RunCases(*height,
           {
               {oid::kInt2, "172", "170-174"},
               {oid::kInt2, "170", "170-174"},
               {oid::kInt2, "0", "0-4"},
               {oid::kInt2, "-3", "-5--1"},
               {oid::kInt8, "-9223372036854775808", "-9223372036854775810--9223372036854775806"},
               {oid::kFloat8, "174.9", "170-174"},
           });
  auto lower = Must(MakeBucket({.width = 10, .origin = 5, .label = false}));
  RunCases(*lower,
           {
               {oid::kInt4, "14", "5"},
               {oid::kInt4, "4", "-5"},
               {oid::kInt2, "-32768", nullopt, true},  // the bucket's bound does not fit int2
           });
}

TEST(Bucket, RefusesDegenerateOptions) {
  EXPECT_FALSE(MakeBucket({.width = 1}).ok());
  EXPECT_FALSE(MakeBucket({}).ok());
  EXPECT_FALSE(MakeBucket({.bounds = {0, 1, 5}}).ok());
  EXPECT_FALSE(MakeBucket({.bounds = {0, 5, 5}}).ok());
  EXPECT_FALSE(MakeBucket({.bounds = {0, 5}, .width = 5}).ok());
}

TEST(Round, ToMultiples) {
  auto ten = Must(MakeRound({.multiple = 10}));
  RunCases(*ten, {
                     {oid::kInt4, "15", "20"},
                     {oid::kInt4, "14", "10"},
                     {oid::kInt4, "-15", "-20"},
                     {oid::kInt4, "-14", "-10"},
                     {oid::kInt8, "9223372036854775807", "9223372036854775800"},
                     {oid::kInt8, "-9223372036854775808", "-9223372036854775800"},
                     {oid::kInt2, "32767", "32760"},
                     {oid::kFloat8, "1234.5", "1230"},
                     {oid::kFloat8, "Infinity", "Infinity"},
                     {oid::kNumeric, "-1235", "-1240"},
                     {oid::kInt4, nullopt, nullopt},
                 });
  auto half = Must(MakeRound({.multiple = 0.5}));
  RunCases(*half, {
                      {oid::kNumeric, "1.26", "1.5"},
                      {oid::kNumeric, "-0.2", "0.0"},
                      {oid::kFloat4, "2.2", "2"},
                  });
  EXPECT_FALSE(half->Accepts(oid::kInt4));
  EXPECT_FALSE(MakeRound({.multiple = 1}).ok());
  EXPECT_FALSE(MakeRound({.multiple = 0}).ok());
  EXPECT_FALSE(MakeRound({.multiple = -5}).ok());
}

TEST(Truncate, DatesAndTimestamps) {
  auto year = Must(MakeTruncate({TruncateUnit::kYear}));
  auto month = Must(MakeTruncate({TruncateUnit::kMonth}));
  auto day = Must(MakeTruncate({TruncateUnit::kDay}));
  auto hour = Must(MakeTruncate({TruncateUnit::kHour}));
  RunCases(*year, {
                      {oid::kDate, "1969-07-20", "1969-01-01"},
                      {oid::kDate, "0044-03-15 BC", "0044-01-01 BC"},
                      {oid::kDate, "infinity", "infinity"},
                      {oid::kDate, "-infinity", "-infinity"},
                      {oid::kTimestamp, "2024-12-31 23:59:59.999999", "2024-01-01 00:00:00"},
                  });
  RunCases(*month, {
                       {oid::kDate, "2024-02-29", "2024-02-01"},
                       {oid::kTimestampTz, "2024-03-05 14:23:11.5+00", "2024-03-01 00:00:00+00"},
                       // On the rule's clock (UTC by default) in either format, and
                       // printed on it, whatever zone the value came in.
                       {oid::kTimestampTz, "2024-03-01 05:00:00+08", "2024-02-01 00:00:00+00"},
                   });
  RunCases(*day, {
                     {oid::kTimestamp, "1969-07-20 20:17:40.5", "1969-07-20 00:00:00"},
                     {oid::kTimestamp, "0044-03-15 12:34:56 BC", "0044-03-15 00:00:00 BC"},
                     {oid::kTimestamp, "-infinity", "-infinity"},
                     {oid::kDate, "2024-01-01", nullopt, true},  // day does not apply to date
                 });
  RunCases(*hour,
           {
               {oid::kTimestamp, "1969-07-20 20:17:40.5", "1969-07-20 20:00:00"},
               {oid::kTimestampTz, "1900-01-01 00:59:59-00:25:21", "1900-01-01 01:00:00+00"},
               {oid::kTimestampTz, "2024-03-05 14:23:11", nullopt, true, true},  // no zone: invalid
               {oid::kInt4, "5", nullopt, true},
           });
  EXPECT_FALSE(day->Accepts(oid::kDate));
  EXPECT_TRUE(month->Accepts(oid::kDate));

  // A rule on another clock: UTC+08.
  auto month8 = Must(MakeTruncate({.unit = TruncateUnit::kMonth, .zone_offset_s = 8 * 3600}));
  RunCases(*month8, {
                        {oid::kTimestampTz, "2024-03-01 05:00:00+08", "2024-03-01 00:00:00+08",
                         false, false, "2024-02-29 16:00:00+00"},
                        {oid::kTimestampTz, "2024-02-29 21:00:00+00", "2024-03-01 00:00:00+08",
                         false, false, "2024-02-29 16:00:00+00"},
                        {oid::kTimestamp, "2024-03-01 05:00:00", "2024-03-01 00:00:00"},
                    });
  EXPECT_FALSE(MakeTruncate({.zone_offset_s = 16 * 3600}).ok());
}

// The zone a session prints timestamptz values in must not move the unit boundaries:
// one instant, printed at any offset, truncates to one instant.
TEST(Truncate, TheSessionTimeZoneDoesNotMoveTheBoundaries) {
  for (TruncateUnit unit :
       {TruncateUnit::kYear, TruncateUnit::kMonth, TruncateUnit::kDay, TruncateUnit::kHour}) {
    for (int32_t clock : {0, 8 * 3600, -(3 * 3600 + 30 * 60)}) {
      auto t = Must(MakeTruncate({.unit = unit, .zone_offset_s = clock}));
      // 2024-06-14 17:13:32.25 UTC.
      const int64_t utc =
          (datetime::DaysFromCivil(2024, 6, 14) * 86400 + 17 * 3600 + 13 * 60 + 32) * 1000000 +
          250000;
      std::string reference, printed;
      for (int32_t off = -(15 * 3600 + 59 * 60); off <= 15 * 3600 + 59 * 60; off += 17 * 60 + 1) {
        datetime::Timestamp ts;
        ts.us = utc + static_cast<int64_t>(off) * 1000000;
        ts.offset_s = off;
        ts.has_offset = true;
        std::string text;
        datetime::EncodeTimestamp(oid::kTimestampTz, Format::kText, ts, &text);
        std::string masked;
        bool is_null = false;
        ASSERT_TRUE(t->Apply(oid::kTimestampTz, Format::kText, text, &masked, &is_null).ok())
            << text;
        datetime::Timestamp back;
        ASSERT_TRUE(datetime::DecodeTimestamp(oid::kTimestampTz, Format::kText, masked, &back).ok())
            << masked;
        back.ToUtc();
        std::string instant;
        datetime::EncodeTimestamp(oid::kTimestampTz, Format::kText, back, &instant);
        if (reference.empty()) reference = instant;
        EXPECT_EQ(instant, reference) << "printed as " << text << ", masked " << masked;
        // Nor may the text: the offset a value is printed at is the session's at that
        // instant, which a daylight-saving rule of the session's choosing sets.
        if (printed.empty()) printed = masked;
        EXPECT_EQ(masked, printed) << "printed as " << text;
      }
    }
  }
}

TEST(AgeBand, RelativeToToday) {
  const int32_t today = static_cast<int32_t>(datetime::DaysFromCivil(2024, 6, 15));
  auto band = Must(MakeAgeBand({.width = 5, .today = [today] { return today; }}));
  RunCases(*band, {
                      {oid::kDate, "1990-06-15", "30-34"},
                      {oid::kDate, "1990-06-16", "30-34"},
                      {oid::kDate, "1989-06-15", "35-39"},
                      {oid::kDate, "1989-06-16", "30-34"},
                      {oid::kDate, "2024-06-15", "0-4"},
                      {oid::kDate, "2024-06-16", nullopt},
                      {oid::kDate, "1960-02-29", "60-64"},
                      {oid::kDate, "0044-03-15 BC", "2065-2069"},
                      {oid::kDate, "infinity", nullopt},
                      {oid::kDate, nullopt, nullopt},
                      {oid::kTimestamp, "1990-06-15 23:00:00", "30-34"},
                      {oid::kDate, "1990-02-30", nullopt, true, true},
                  });
  EXPECT_EQ(band->Output(oid::kDate, -1), (OutputType{oid::kText, -1, -1}));
  EXPECT_FALSE(MakeAgeBand({.width = 1}).ok());
  // Without an injected day the system clock is used: someone born 40 years before
  // "now" is in the 40-44 band whatever the date.
  auto live = Must(MakeAgeBand({.width = 5}));
  std::string out;
  bool is_null;
  ASSERT_TRUE(live->Apply(oid::kDate, Format::kText, "1900-01-01", &out, &is_null).ok());
  EXPECT_FALSE(is_null);
  EXPECT_GE(std::stoi(out), 120);
}

TEST(Map, LooksUp) {
  auto province = Must(MakeMap(
      {.table = {{"杭州", "浙江"}, {"宁波", "浙江"}, {"广州", "广东"}}, .default_value = "其他"}));
  RunCases(*province, {
                          {oid::kText, "杭州", "浙江"},
                          {oid::kVarchar, "广州", "广东"},
                          {oid::kText, "北京", "其他"},
                          {oid::kText, "", "其他"},
                          {oid::kText, nullopt, nullopt},
                          {oid::kInt4, "1", nullopt, true},
                      });
  auto strict = Must(MakeMap({.table = {{"a", "b"}}}));
  RunCases(*strict, {{oid::kText, "a", "b"}, {oid::kText, "c", nullopt}});
  EXPECT_FALSE(MakeMap({}).ok());
}

}  // namespace
}  // namespace pgveil::mask
