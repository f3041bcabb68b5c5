// Byte-literal helpers for the codec tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pgveil::wire::testing {

// Big-endian integers and C strings, for writing messages out by hand.
inline std::string I32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
inline std::string I16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
inline std::string Z(std::string_view s) { return std::string(s) + '\0'; }

// A regular message: type byte, length computed from the body.
inline std::string Msg(char type, std::string_view body) {
  return std::string(1, type) + I32(static_cast<uint32_t>(body.size() + 4)) + std::string(body);
}
// A message with an explicit (possibly lying) length word.
inline std::string MsgWithLength(char type, uint32_t length, std::string_view body) {
  return std::string(1, type) + I32(length) + std::string(body);
}
// A startup-phase message.
inline std::string Startup(std::string_view body) {
  return I32(static_cast<uint32_t>(body.size() + 4)) + std::string(body);
}

}  // namespace pgveil::wire::testing
