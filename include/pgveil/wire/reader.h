// Reader: bounds-checked decoding of one message body. Never reads past the body;
// after the first failure every further call fails too, so callers may check ok() once.
#pragma once

#include <cstdint>
#include <string_view>

#include "pgveil/wire/frame.h"

namespace pgveil::wire {

class Reader {
 public:
  explicit Reader(std::string_view body) : rest_(body) {}

  bool ok() const { return ok_; }
  bool done() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }
  std::string_view rest() const { return rest_; }

  bool Byte(char* out) {
    if (!Need(1)) return false;
    *out = rest_[0];
    rest_.remove_prefix(1);
    return true;
  }
  bool Int16(int16_t* out) {
    if (!Need(2)) return false;
    *out = static_cast<int16_t>(ReadU16(rest_.data()));
    rest_.remove_prefix(2);
    return true;
  }
  bool Int32(int32_t* out) {
    if (!Need(4)) return false;
    *out = static_cast<int32_t>(ReadU32(rest_.data()));
    rest_.remove_prefix(4);
    return true;
  }
  // A NUL-terminated string; *out excludes the terminator.
  bool CString(std::string_view* out) {
    if (!ok_) return false;
    size_t nul = rest_.find('\0');
    if (nul == std::string_view::npos) return Fail();
    *out = rest_.substr(0, nul);
    rest_.remove_prefix(nul + 1);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (!Need(n)) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  // An Int32 length followed by that many bytes; -1 is NULL (*is_null set, *out empty).
  // Any other negative length is an error.
  bool LengthPrefixed(std::string_view* out, bool* is_null) {
    int32_t len;
    if (!Int32(&len)) return false;
    if (len == -1) {
      *is_null = true;
      *out = {};
      return true;
    }
    if (len < 0) return Fail();
    *is_null = false;
    return Bytes(static_cast<size_t>(len), out);
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || rest_.size() < n) return Fail();
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace pgveil::wire
