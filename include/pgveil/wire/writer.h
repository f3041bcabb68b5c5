// Writer: encodes messages by appending to a caller-owned buffer. Lengths are computed
// by the writer (Begin() reserves the length word, End() fills it in), never by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pgveil/wire/frame.h"

namespace pgveil::wire {

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  // Starts a regular message of the given type.
  Writer& Begin(char type) {
    out_->push_back(type);
    start_ = out_->size();
    out_->append(4, '\0');
    return *this;
  }
  // Starts a startup-phase message (no type byte).
  Writer& BeginUntyped() {
    start_ = out_->size();
    out_->append(4, '\0');
    return *this;
  }
  Writer& Byte(char c) {
    out_->push_back(c);
    return *this;
  }
  Writer& Int16(int16_t v) {
    char b[2];
    WriteU16(b, static_cast<uint16_t>(v));
    out_->append(b, 2);
    return *this;
  }
  Writer& Int32(int32_t v) {
    char b[4];
    WriteU32(b, static_cast<uint32_t>(v));
    out_->append(b, 4);
    return *this;
  }
  // Appends `s` and a NUL. Embedded NULs are cut off: a C string cannot hold them.
  Writer& CString(std::string_view s) {
    size_t nul = s.find('\0');
    out_->append(s.substr(0, nul));
    out_->push_back('\0');
    return *this;
  }
  Writer& Bytes(std::string_view s) {
    out_->append(s);
    return *this;
  }
  // Int32 length + bytes, or -1 for NULL.
  Writer& Value(const std::string_view* v) {
    if (v == nullptr) return Int32(-1);
    Int32(static_cast<int32_t>(v->size()));
    return Bytes(*v);
  }
  // Finishes the message begun last.
  void End() { WriteU32(out_->data() + start_, static_cast<uint32_t>(out_->size() - start_)); }

 private:
  std::string* out_;
  size_t start_ = 0;
};

// An ErrorResponse or NoticeResponse. Severity is localized-independent ("ERROR",
// "FATAL", "NOTICE"); `sqlstate` is five characters.
struct ErrorSpec {
  std::string_view severity = "ERROR";
  std::string_view sqlstate;
  std::string_view message;
  std::string_view detail;
  std::string_view hint;
};
void AppendError(std::string* out, const ErrorSpec& e, char type = 'E');

void AppendReadyForQuery(std::string* out, char status);

}  // namespace pgveil::wire
