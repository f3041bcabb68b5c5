#include "mask/redact/validators.h"

#include <string>

#include "gtest/gtest.h"

namespace pgveil::mask::redact_internal {
namespace {

// Completes 17 digits with their MOD 11-2 check character.
std::string WithCheck(const std::string& first17) { return first17 + IdCardCheckChar(first17); }

// Completes a digit string with the digit that makes its Luhn sum valid.
std::string WithLuhn(const std::string& body) {
  for (char d = '0'; d <= '9'; ++d) {
    if (LuhnValid(body + d)) return body + d;
  }
  return body;
}

TEST(IdCardTest, CheckCharacterOfPublishedExample) {
  // GB 11643-1999's worked example.
  EXPECT_EQ(IdCardCheckChar("11010519491231002"), 'X');
  EXPECT_EQ(IdCardCheckChar("44030519950218456"), '9');
}

TEST(IdCardTest, AcceptsValidNumbers) {
  EXPECT_TRUE(IsIdCardNumber("11010519491231002X"));
  EXPECT_TRUE(IsIdCardNumber("11010519491231002x"));
  EXPECT_TRUE(IsIdCardNumber("310104198805121230"));
  EXPECT_TRUE(IsIdCardNumber("330106200002290352"));  // leap day
}

TEST(IdCardTest, RejectsWrongCheckDigitsAndDates) {
  EXPECT_FALSE(IsIdCardNumber("110105194912310021"));
  EXPECT_FALSE(IsIdCardNumber("310104198805121231"));
  EXPECT_FALSE(IsIdCardNumber(WithCheck("11010519490230002")));  // 30 February
  EXPECT_FALSE(IsIdCardNumber(WithCheck("11010519000229002")));  // 1900 is no leap year
  EXPECT_FALSE(IsIdCardNumber(WithCheck("11010518991231002")));  // before 1900
  EXPECT_FALSE(IsIdCardNumber(WithCheck("11010519491331002")));  // month 13
  EXPECT_FALSE(IsIdCardNumber(WithCheck("01010519491231002")));  // leading 0
  EXPECT_TRUE(IsIdCardNumber(WithCheck("11010520000229002")));
}

TEST(IdCardTest, RejectsWrongShapes) {
  EXPECT_FALSE(IsIdCardNumber(""));
  EXPECT_FALSE(IsIdCardNumber("11010519491231002"));
  EXPECT_FALSE(IsIdCardNumber("11010519491231002XX"));
  EXPECT_FALSE(IsIdCardNumber("1101051949123100X2"));
  EXPECT_FALSE(IsIdCardNumber("11010519491231002Y"));
}

TEST(LuhnTest, KnownValues) {
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("6222025260181590832"));
  EXPECT_FALSE(LuhnValid("6222025260181590833"));
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("12a4"));
}

TEST(BankCardTest, LengthPrefixAndChecksum) {
  EXPECT_TRUE(IsBankCardNumber("4111111111111111"));
  EXPECT_TRUE(IsBankCardNumber("6222025260181590832"));
  EXPECT_TRUE(IsBankCardNumber(WithLuhn("622202123456789")));       // 16
  EXPECT_FALSE(IsBankCardNumber("378282246310005"));                // 15 digits
  EXPECT_FALSE(IsBankCardNumber(WithLuhn("6222021234567890123")));  // 20 digits
  EXPECT_FALSE(IsBankCardNumber(WithLuhn("100000000000000")));      // no card network
  EXPECT_FALSE(IsBankCardNumber(WithLuhn("720000000000000")));
  EXPECT_FALSE(IsBankCardNumber("6222025260181590833"));
}

TEST(MobileTest, PrefixesAndLengths) {
  EXPECT_TRUE(IsMobileNumber("13812345678"));
  EXPECT_TRUE(IsMobileNumber("19912345678"));
  EXPECT_TRUE(IsMobileNumber("8613812345678"));
  EXPECT_TRUE(IsMobileNumber("008613812345678"));
  EXPECT_FALSE(IsMobileNumber("12812345678"));
  EXPECT_FALSE(IsMobileNumber("23812345678"));
  EXPECT_FALSE(IsMobileNumber("1381234567"));
  EXPECT_FALSE(IsMobileNumber("138123456789"));
  EXPECT_FALSE(IsMobileNumber("8512812345678"));
  EXPECT_FALSE(IsMobileNumber("+8613812345678"));
}

TEST(IPv4Test, Parts) {
  EXPECT_TRUE(IsIPv4("192.168.1.1"));
  EXPECT_TRUE(IsIPv4("0.0.0.0"));
  EXPECT_TRUE(IsIPv4("255.255.255.255"));
  EXPECT_FALSE(IsIPv4("256.1.1.1"));
  EXPECT_FALSE(IsIPv4("1.2.3"));
  EXPECT_FALSE(IsIPv4("1.2.3.4.5"));
  EXPECT_FALSE(IsIPv4("1..2.3"));
  EXPECT_FALSE(IsIPv4("1234.1.1.1"));
  EXPECT_FALSE(IsIPv4(""));
}

}  // namespace
}  // namespace pgveil::mask::redact_internal
