#include "proxy/tls_sasl.h"

#include <cstring>
#include <string_view>

namespace pgveil::proxy {
namespace {

constexpr size_t kHeader = 1 + 4 + 4;  // type, length, auth code
constexpr std::string_view kPlusSuffix = "-PLUS";

uint32_t ReadBE32(const char* p) {
  auto u = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

void WriteBE32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

}  // namespace

StatusOr<SaslOfferRewrite> RemoveChannelBindingMechanisms(char* message, size_t total) {
  if (total < kHeader + 1 || message[0] != 'R' || ReadBE32(message + 1) != total - 1 ||
      ReadBE32(message + 5) != 10) {
    return ProtocolError("not an AuthenticationSASL message");
  }
  // First pass: check the layout before touching anything.
  size_t pos = kHeader;
  for (;;) {
    const void* nul = std::memchr(message + pos, '\0', total - pos);
    if (nul == nullptr) return ProtocolError("AuthenticationSASL: unterminated mechanism name");
    size_t len = static_cast<const char*>(nul) - (message + pos);
    pos += len + 1;
    if (len == 0) break;
  }
  if (pos != total) return ProtocolError("AuthenticationSASL: bytes after the mechanism list");

  SaslOfferRewrite out;
  size_t read = kHeader, write = kHeader;
  for (;;) {
    size_t len = std::strlen(message + read);
    if (len == 0) break;
    std::string_view name(message + read, len);
    if (name.size() >= kPlusSuffix.size() &&
        name.substr(name.size() - kPlusSuffix.size()) == kPlusSuffix) {
      ++out.removed;
    } else {
      std::memmove(message + write, message + read, len + 1);
      write += len + 1;
      ++out.remaining;
    }
    read += len + 1;
  }
  message[write++] = '\0';
  out.total = write;
  WriteBE32(message + 1, static_cast<uint32_t>(write - 1));
  return out;
}

StatusOr<char> SaslGs2Flag(std::string_view body) {
  size_t nul = body.find('\0');
  if (nul == std::string_view::npos || body.size() < nul + 1 + 4 + 1) {
    return ProtocolError("SASLInitialResponse: too short");
  }
  uint32_t len = ReadBE32(body.data() + nul + 1);
  if (len == 0xFFFFFFFFu || len != body.size() - nul - 5) {
    return ProtocolError("SASLInitialResponse: bad length");
  }
  char flag = body[nul + 5];
  if (flag != 'n' && flag != 'y' && flag != 'p') {
    return ProtocolError("SASLInitialResponse: unknown channel-binding flag");
  }
  return flag;
}

}  // namespace pgveil::proxy
