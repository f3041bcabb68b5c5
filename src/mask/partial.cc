// partial: keep the first and last code points of a text value, fill the rest.
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Byte offset after the first `k` code points of s (s.size() if it has fewer).
size_t SkipForward(std::string_view s, int k) {
  size_t i = 0;
  while (k > 0 && i < s.size()) {
    ++i;
    while (i < s.size() && IsContinuation(static_cast<unsigned char>(s[i]))) ++i;
    --k;
  }
  return i;
}

// Byte offset where the last `k` code points of s start.
size_t SkipBackward(std::string_view s, int k) {
  size_t i = s.size();
  while (k > 0 && i > 0) {
    --i;
    while (i > 0 && IsContinuation(static_cast<unsigned char>(s[i]))) --i;
    --k;
  }
  return i;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += !IsContinuation(c);
  return n;
}

class Partial final : public Transform {
 public:
  explicit Partial(const PartialOptions& o) : o_(o) {}
  std::string_view Name() const override { return "partial"; }
  bool Accepts(uint32_t type_oid) const override { return IsTextType(type_oid); }
  OutputType Output(uint32_t, int32_t) const override { return TextOutput(); }

 protected:
  Status DoApply(uint32_t type_oid, Format, std::string_view value, std::string* out,
                 bool*) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    std::string_view head = value, tail;
    if (!o_.keep_after.empty()) {
      size_t pos = value.rfind(o_.keep_after);
      if (pos != std::string_view::npos) {
        head = value.substr(0, pos);
        tail = value.substr(pos);
      }
    }
    const size_t n = CountCodePoints(head);
    int first = o_.keep_first, last = o_.keep_last;
    // Never reveal a value whole: a value no longer than what is kept is hidden entirely.
    if (n <= static_cast<size_t>(first + last)) first = last = 0;
    const size_t a = SkipForward(head, first);
    const size_t b = SkipBackward(head, last);
    out->append(head.substr(0, a));
    size_t fills = o_.fill_length ? static_cast<size_t>(*o_.fill_length) : n - first - last;
    if (o_.fill.size() == 1) {
      out->append(fills, o_.fill[0]);
    } else {
      for (size_t i = 0; i < fills; ++i) out->append(o_.fill);
    }
    out->append(head.substr(b));
    out->append(tail);
    return Status::Ok();
  }

 private:
  PartialOptions o_;
};

}  // namespace

StatusOr<TransformPtr> MakePartial(const PartialOptions& o) {
  if (o.keep_first < 0 || o.keep_last < 0) {
    return InvalidArgument("keep_first and keep_last must not be negative");
  }
  if (o.keep_first + o.keep_last > kPartialMaxKeep) {
    return InvalidArgument("partial keeps more than " + std::to_string(kPartialMaxKeep) +
                           " characters, which reveals whole values; keep fewer");
  }
  if (o.fill.empty() && !o.fill_length) {
    return InvalidArgument("fill must not be empty");
  }
  if (o.fill_length && (*o.fill_length < 1 || *o.fill_length > 64)) {
    return InvalidArgument("fill_length must be in 1..64");
  }
  if (o.fill.size() > 8) return InvalidArgument("fill must be at most 8 bytes");
  return TransformPtr(std::make_shared<Partial>(o));
}

}  // namespace pgveil::mask
