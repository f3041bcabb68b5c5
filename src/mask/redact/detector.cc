// Names and default labels of the detectors: the vocabulary of rules files.
#include <array>

#include "pgveil/mask/redact.h"

namespace pgveil::mask {

namespace {

struct DetectorInfo {
  Detector detector;
  std::string_view name;
  std::string_view label;
};

constexpr std::array<DetectorInfo, 9> kDetectors = {{
    {Detector::kMobile, "mobile", "[手机号]"},
    {Detector::kIdCard, "id_card", "[身份证号]"},
    {Detector::kBankCard, "bank_card", "[银行卡号]"},
    {Detector::kEmail, "email", "[邮箱]"},
    {Detector::kWeChat, "wechat", "[微信号]"},
    {Detector::kQQ, "qq", "[QQ号]"},
    {Detector::kUrl, "url", "[网址]"},
    {Detector::kIPv4, "ipv4", "[IP地址]"},
    {Detector::kCustom, "custom", "[已脱敏]"},
}};

const DetectorInfo& Info(Detector d) {
  for (const auto& info : kDetectors) {
    if (info.detector == d) return info;
  }
  return kDetectors.back();
}

}  // namespace

std::string_view DetectorName(Detector d) { return Info(d).name; }

bool ParseDetector(std::string_view name, Detector* out) {
  for (const auto& info : kDetectors) {
    if (info.name == name && info.detector != Detector::kCustom) {
      *out = info.detector;
      return true;
    }
  }
  return false;
}

std::string_view DefaultLabel(Detector d) { return Info(d).label; }

const std::vector<Detector>& AllDetectors() {
  static const std::vector<Detector> all = {
      Detector::kMobile, Detector::kIdCard, Detector::kBankCard, Detector::kEmail,
      Detector::kWeChat, Detector::kQQ,     Detector::kUrl,      Detector::kIPv4,
  };
  return all;
}

}  // namespace pgveil::mask
