#include "mask/redact/validators.h"

namespace pgveil::mask::redact_internal {

namespace {

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Num(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool IsBirthDate(std::string_view yyyymmdd) {
  const int year = Num(yyyymmdd.substr(0, 4));
  const int month = Num(yyyymmdd.substr(4, 2));
  const int day = Num(yyyymmdd.substr(6, 2));
  if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max;
}

}  // namespace

bool IsMobileNumber(std::string_view d) {
  if (!AllDigits(d)) return false;
  if (d.size() == 13 && d.substr(0, 2) == "86") d.remove_prefix(2);
  if (d.size() == 15 && d.substr(0, 4) == "0086") d.remove_prefix(4);
  return d.size() == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

char IdCardCheckChar(std::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return kCheck[sum % 11];
}

bool IsIdCardNumber(std::string_view id) {
  if (id.size() != 18 || !AllDigits(id.substr(0, 17))) return false;
  if (id[0] == '0' || !IsBirthDate(id.substr(6, 8))) return false;
  char last = id[17];
  if (last == 'x') last = 'X';
  if (last != 'X' && (last < '0' || last > '9')) return false;
  return IdCardCheckChar(id.substr(0, 17)) == last;
}

bool LuhnValid(std::string_view d) {
  if (d.empty() || !AllDigits(d)) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = d.size(); i-- > 0;) {
    int v = d[i] - '0';
    if (twice) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IsBankCardNumber(std::string_view d) {
  if (d.size() < 16 || d.size() > 19) return false;
  if (d[0] < '3' || d[0] > '6') return false;
  return LuhnValid(d);
}

bool IsIPv4(std::string_view s) {
  int parts = 0;
  while (true) {
    size_t n = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0 || n > 3 || Num(s.substr(0, n)) > 255) return false;
    ++parts;
    s.remove_prefix(n);
    if (parts == 4) return s.empty();
    if (s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
  }
}

}  // namespace pgveil::mask::redact_internal
