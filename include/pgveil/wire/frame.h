// Frame splitting for the PostgreSQL v3 protocol. Sans-I/O: bytes in, frames out.
//
// Two framings exist on the wire:
//   * startup frames (the very first message of a connection, SSLRequest,
//     GSSENCRequest, CancelRequest): Int32 length (counting itself) + body;
//   * regular frames: Byte1 type + Int32 length (counting itself, not the type) + body.
// The functions here never read past the buffer they are given and never consume a frame
// before all of it is present. Every length is checked against its limit first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pgveil/status.h"

namespace pgveil::wire {

// Hard limits; configurable per listener.
struct Limits {
  // The largest regular frame (type byte excluded), 4 bytes of length included.
  uint32_t max_message_bytes = 256u * 1024 * 1024;
  // The largest startup packet after its length word, as PostgreSQL counts it (it
  // refuses more than 10,000 bytes).
  uint32_t max_startup_bytes = 10000;
};

// Reads a big-endian integer from the first bytes of `p`; the caller checked the size.
inline uint32_t ReadU32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}
inline uint16_t ReadU16(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline void WriteU32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}
inline void WriteU16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}

// The header of a regular frame, known once five bytes are buffered.
struct FrameHeader {
  char type = 0;
  uint32_t length = 0;  // as on the wire: body + 4
  size_t total() const { return size_t{length} + 1; }
  size_t body_size() const { return size_t{length} - 4; }
};

// A complete regular frame; `body` points into the caller's buffer and lives as long
// as that buffer is neither modified nor moved.
struct Frame {
  char type = 0;
  std::string_view body;
  size_t total() const { return body.size() + 5; }
};

enum class Peek { kNeedMore, kReady, kError };

// Reads the header of the regular frame at the start of `buf`.
// kNeedMore: fewer than five bytes. kError: length < 4 or above the limit (*status says
// which). kReady: *header is filled in; the frame itself may not be complete yet.
Peek PeekHeader(std::string_view buf, const Limits& limits, FrameHeader* header, Status* status);

// Like PeekHeader, but also requires the whole frame: kReady fills *frame.
Peek PeekFrame(std::string_view buf, const Limits& limits, Frame* frame, Status* status);

// A startup-phase frame: the length word and everything after it.
struct StartupFrame {
  uint32_t code = 0;      // the first Int32 of the body: protocol version or request code
  std::string_view body;  // everything after the length word, code included
  size_t total() const { return body.size() + 4; }
};

// Request codes that replace the protocol version in startup frames.
inline constexpr uint32_t kCancelRequestCode = 80877102;
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;

// Reads the startup frame at the start of `buf` (length ≥ 8, ≤ max_startup_bytes).
Peek PeekStartup(std::string_view buf, const Limits& limits, StartupFrame* frame, Status* status);

}  // namespace pgveil::wire
