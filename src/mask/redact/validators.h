// Validators for the number-shaped detectors. Each takes the digits of a candidate
// (ASCII, separators already removed) and says whether they form that kind of number.
// Pure functions, no allocation.
#pragma once

#include <string_view>

namespace pgveil::mask::redact_internal {

// A mainland mobile number: 1[3-9] and nine more digits, optionally preceded by the
// country code 86 or 0086.
bool IsMobileNumber(std::string_view digits);

// The MOD 11-2 check character (ISO 7064) of the first 17 digits: '0'..'9' or 'X'.
// `first17` must hold exactly 17 ASCII digits.
char IdCardCheckChar(std::string_view first17);

// An 18-character resident ID number: 17 digits and the check character ('X' or 'x'
// allowed), a leading digit 1-9 and a real birth date (YYYYMMDD, 1900..2099) at 6..13.
bool IsIdCardNumber(std::string_view id18);

// The Luhn checksum of a digit string is valid (and the string is non-empty).
bool LuhnValid(std::string_view digits);

// A payment card number: 16 to 19 digits, a card-network leading digit (3, 4, 5 or 6;
// UnionPay cards start with 62) and a valid Luhn checksum.
bool IsBankCardNumber(std::string_view digits);

// A dotted IPv4 address "a.b.c.d" with each part 0..255 (at most three digits).
bool IsIPv4(std::string_view text);

}  // namespace pgveil::mask::redact_internal
