#include "pgveil/wire/frame.h"

#include <string>

namespace pgveil::wire {

Peek PeekHeader(std::string_view buf, const Limits& limits, FrameHeader* header, Status* status) {
  if (buf.size() < 5) return Peek::kNeedMore;
  uint32_t length = ReadU32(buf.data() + 1);
  if (length < 4) {
    *status = ProtocolError("invalid message length " + std::to_string(length) +
                            " (below 4) in message type " + std::to_string(uint8_t(buf[0])));
    return Peek::kError;
  }
  if (length > limits.max_message_bytes) {
    *status = TooLarge("message length " + std::to_string(length) + " exceeds the limit of " +
                       std::to_string(limits.max_message_bytes) + " bytes");
    return Peek::kError;
  }
  header->type = buf[0];
  header->length = length;
  return Peek::kReady;
}

Peek PeekFrame(std::string_view buf, const Limits& limits, Frame* frame, Status* status) {
  FrameHeader header;
  Peek p = PeekHeader(buf, limits, &header, status);
  if (p != Peek::kReady) return p;
  if (buf.size() < header.total()) return Peek::kNeedMore;
  frame->type = header.type;
  frame->body = buf.substr(5, header.body_size());
  return Peek::kReady;
}

Peek PeekStartup(std::string_view buf, const Limits& limits, StartupFrame* frame, Status* status) {
  if (buf.size() < 4) return Peek::kNeedMore;
  uint32_t length = ReadU32(buf.data());
  if (length < 8) {
    *status = ProtocolError("invalid startup packet length " + std::to_string(length));
    return Peek::kError;
  }
  if (length - 4 > limits.max_startup_bytes) {
    *status =
        TooLarge("startup packet length " + std::to_string(length) + " exceeds the limit of " +
                 std::to_string(limits.max_startup_bytes) + " bytes after the length word");
    return Peek::kError;
  }
  if (buf.size() < length) return Peek::kNeedMore;
  frame->code = ReadU32(buf.data() + 4);
  frame->body = buf.substr(4, length - 4);
  return Peek::kReady;
}

}  // namespace pgveil::wire
