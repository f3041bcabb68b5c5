// Value codecs: text and binary formats of every type the transforms read.
#include "mask/codec.h"

#include <gtest/gtest.h>

#include <limits>

#include "mask/datetime.h"

namespace pgveil::mask {
namespace {

using datetime::CivilFromDays;
using datetime::DaysFromCivil;

TEST(Datetime, EpochAnchors) {
  EXPECT_EQ(DaysFromCivil(2000, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1999, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), -10957);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 31 + 29);                         // 2000 is a leap year
  EXPECT_EQ(DaysFromCivil(2100, 3, 1) - DaysFromCivil(2100, 2, 28), 1);  // 2100 is not
}

// Every day from 4713 BC to year 9999 converts to a valid civil date and back, and
// consecutive days are consecutive dates.
TEST(Datetime, CivilRoundTripIsContinuous) {
  const int64_t first = DaysFromCivil(-4712, 1, 1), last = DaysFromCivil(9999, 12, 31);
  int64_t py;
  int pm, pd;
  CivilFromDays(first - 1, &py, &pm, &pd);
  for (int64_t d = first; d <= last; ++d) {
    int64_t y;
    int m, dd;
    CivilFromDays(d, &y, &m, &dd);
    ASSERT_EQ(DaysFromCivil(y, m, dd), d);
    const bool next_day = y == py && m == pm && dd == pd + 1;
    const bool next_month = y == py && m == pm + 1 && dd == 1;
    const bool next_year = y == py + 1 && m == 1 && dd == 1 && pm == 12 && pd == 31;
    ASSERT_TRUE(next_day || next_month || next_year) << d;
    py = y, pm = m, pd = dd;
  }
}

std::string TextViaBinary(uint32_t type_oid, std::string_view text) {
  std::string bin, back;
  EXPECT_TRUE(codec::EncodeLiteral(type_oid, Format::kBinary, text, &bin).ok()) << text;
  EXPECT_TRUE(codec::Canonical(type_oid, Format::kBinary, bin, &back).ok()) << text;
  return back;
}

TEST(Codec, DatesRoundTripThroughBinary) {
  for (const char* d :
       {"2000-01-01", "1969-12-31", "1900-02-28", "0001-01-01", "0001-12-31 BC", "0044-03-15 BC",
        "4713-01-01 BC", "9999-12-31", "12345-06-07", "infinity", "-infinity"}) {
    EXPECT_EQ(TextViaBinary(oid::kDate, d), d);
  }
  std::string bin;
  ASSERT_TRUE(codec::EncodeLiteral(oid::kDate, Format::kBinary, "1999-12-31", &bin).ok());
  EXPECT_EQ(bin, std::string("\xff\xff\xff\xff", 4));
  // The day before 1 AD is 31 December 1 BC.
  int32_t days;
  ASSERT_TRUE(datetime::DecodeDate(Format::kText, "0001-01-01", &days).ok());
  std::string prev;
  datetime::EncodeDate(Format::kText, days - 1, &prev);
  EXPECT_EQ(prev, "0001-12-31 BC");
}

TEST(Codec, RejectsInvalidDates) {
  int32_t days;
  for (const char* d : {"", "2023-02-29", "2024-13-01", "2024-00-10", "0000-01-01", "2024-1-01",
                        "24-01-01", "2024-01-01 AD", "2024-01-01 ", "Infinity", "1 BC"}) {
    EXPECT_FALSE(datetime::DecodeDate(Format::kText, d, &days).ok()) << d;
  }
  EXPECT_FALSE(datetime::DecodeDate(Format::kBinary, "abc", &days).ok());
}

TEST(Codec, TimestampsRoundTripThroughBinary) {
  for (const char* t :
       {"2024-03-05 14:23:11", "2024-03-05 14:23:11.5", "1969-07-20 20:17:40.000001",
        "0044-03-15 12:00:00 BC", "infinity", "-infinity"}) {
    EXPECT_EQ(TextViaBinary(oid::kTimestamp, t), t);
  }
  // timestamptz: binary is UTC, so the text comes back in +00.
  EXPECT_EQ(TextViaBinary(oid::kTimestampTz, "2024-03-05 14:23:11.25+08"),
            "2024-03-05 06:23:11.25+00");
  EXPECT_EQ(TextViaBinary(oid::kTimestampTz, "2024-01-01 00:30:00+05:30"),
            "2023-12-31 19:00:00+00");
  EXPECT_EQ(TextViaBinary(oid::kTimestampTz, "1900-01-01 00:00:00-00:25:21"),
            "1900-01-01 00:25:21+00");
  std::string text;
  datetime::Timestamp ts;
  ASSERT_TRUE(datetime::DecodeTimestamp(oid::kTimestampTz, Format::kText,
                                        "1900-01-01 00:00:00-00:25:21", &ts)
                  .ok());
  datetime::EncodeTimestamp(oid::kTimestampTz, Format::kText, ts, &text);
  EXPECT_EQ(text, "1900-01-01 00:00:00-00:25:21");
}

TEST(Codec, RejectsInvalidTimestamps) {
  datetime::Timestamp ts;
  EXPECT_FALSE(
      datetime::DecodeTimestamp(oid::kTimestamp, Format::kText, "2024-03-05 14:23:11+08", &ts)
          .ok());
  EXPECT_FALSE(
      datetime::DecodeTimestamp(oid::kTimestampTz, Format::kText, "2024-03-05 14:23:11", &ts).ok());
  EXPECT_FALSE(
      datetime::DecodeTimestamp(oid::kTimestamp, Format::kText, "2024-03-05 25:00:00", &ts).ok());
  EXPECT_FALSE(
      datetime::DecodeTimestamp(oid::kTimestamp, Format::kText, "2024-03-05 14:23:11.1234567", &ts)
          .ok());
  EXPECT_FALSE(
      datetime::DecodeTimestamp(oid::kTimestamp, Format::kText, "2024-03-05T14:23:11", &ts).ok());
  EXPECT_FALSE(datetime::DecodeTimestamp(oid::kTimestamp, Format::kBinary, "1234567", &ts).ok());
}

TEST(Codec, IntegersAtTheLimits) {
  int64_t v;
  ASSERT_TRUE(codec::DecodeInt(oid::kInt8, Format::kText, "-9223372036854775808", &v).ok());
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(TextViaBinary(oid::kInt8, "-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(TextViaBinary(oid::kInt8, "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(TextViaBinary(oid::kInt2, "-32768"), "-32768");
  EXPECT_EQ(TextViaBinary(oid::kInt4, "-1"), "-1");
  EXPECT_FALSE(codec::DecodeInt(oid::kInt8, Format::kText, "9223372036854775808", &v).ok());
  EXPECT_FALSE(codec::DecodeInt(oid::kInt2, Format::kText, "32768", &v).ok());
  EXPECT_FALSE(codec::DecodeInt(oid::kInt4, Format::kText, "", &v).ok());
  EXPECT_FALSE(codec::DecodeInt(oid::kInt4, Format::kText, "12a", &v).ok());
  EXPECT_FALSE(codec::DecodeInt(oid::kInt4, Format::kText, " 12", &v).ok());
  EXPECT_FALSE(codec::DecodeInt(oid::kInt4, Format::kBinary, std::string(8, '\0'), &v).ok());
  std::string out;
  EXPECT_FALSE(codec::EncodeInt(oid::kInt2, Format::kText, 70000, &out).ok());
}

TEST(Codec, NumericBinaryLayout) {
  std::string bin;
  ASSERT_TRUE(codec::EncodeNumeric(Format::kBinary, "-12.50", &bin).ok());
  // ndigits 2, weight 0, sign negative, dscale 2, digits 0012 5000.
  EXPECT_EQ(bin, std::string("\x00\x02\x00\x00\x40\x00\x00\x02\x00\x0c\x13\x88", 12));
  for (const char* n : {"0", "-12.50", "123456789.000001", "0.0001", "-0.00012", "10000",
                        "100000000", "0.00", "NaN", "Infinity", "-Infinity"}) {
    EXPECT_EQ(TextViaBinary(oid::kNumeric, n), n);
  }
  std::string out;
  EXPECT_FALSE(codec::DecodeNumeric(Format::kBinary,
                                    std::string("\x00\x01\x00\x00\x00\x00\x00\x00", 8), &out)
                   .ok());
  EXPECT_FALSE(codec::DecodeNumeric(Format::kText, "1e5", &out).ok());
  EXPECT_FALSE(codec::DecodeNumeric(Format::kText, "", &out).ok());
}

TEST(Codec, UuidBoolFloat) {
  EXPECT_EQ(TextViaBinary(oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(TextViaBinary(oid::kUuid, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  uint8_t u[16];
  EXPECT_FALSE(codec::DecodeUuid(Format::kText, "a0eebc999c0b4ef8bb6d6bb9bd380a11", u).ok());
  EXPECT_EQ(TextViaBinary(oid::kBool, "t"), "t");
  EXPECT_EQ(TextViaBinary(oid::kBool, "f"), "f");
  bool b;
  EXPECT_FALSE(codec::DecodeBool(Format::kBinary, "\x02", &b).ok());
  for (const char* f : {"1.5", "-0.25", "1e+20", "NaN", "Infinity", "-Infinity"}) {
    EXPECT_EQ(TextViaBinary(oid::kFloat8, f), f);
    EXPECT_EQ(TextViaBinary(oid::kFloat4, f), f);
  }
}

}  // namespace
}  // namespace pgveil::mask
