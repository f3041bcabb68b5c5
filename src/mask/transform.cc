#include "pgveil/mask/transform.h"

#include <crypto++/misc.h>

#include "pgveil/mask/key.h"

namespace pgveil::mask {

Key::~Key() { CryptoPP::SecureWipeArray(bytes_.data(), bytes_.size()); }

OutputType Transform::Output(uint32_t in_oid, int32_t in_typmod) const {
  return OutputType{in_oid, TypeLength(in_oid), in_typmod};
}

Status Transform::Apply(uint32_t type_oid, Format format, std::optional<std::string_view> value,
                        std::string* out, bool* out_null) const {
  const size_t mark = out->size();
  *out_null = false;
  Status s = value.has_value() ? DoApply(type_oid, format, *value, out, out_null)
                               : DoApplyNull(type_oid, format, out, out_null);
  // Fail closed and leave the buffer as it was: no partial output survives an error.
  if (!s.ok() || *out_null) out->resize(mark);
  if (!s.ok()) *out_null = true;
  return s;
}

void Transform::ApplyBatch(uint32_t type_oid, Format format,
                           std::span<const std::optional<std::string_view>> values,
                           std::string* out, std::vector<int32_t>* lengths) const {
  for (const auto& value : values) {
    const size_t mark = out->size();
    bool out_null = false;
    Status s = Apply(type_oid, format, value, out, &out_null);
    lengths->push_back(!s.ok() || out_null ? -1 : static_cast<int32_t>(out->size() - mark));
  }
}

Status Transform::Reverse(uint32_t type_oid, Format format, std::string_view value,
                          std::string* out) const {
  const size_t mark = out->size();
  Status s = DoReverse(type_oid, format, value, out);
  if (!s.ok()) out->resize(mark);
  return s;
}

Status Transform::DoApplyNull(uint32_t, Format, std::string*, bool* out_null) const {
  *out_null = true;
  return Status::Ok();
}

Status Transform::DoReverse(uint32_t, Format, std::string_view, std::string*) const {
  return Unsupported(std::string(Name()) + " cannot be reversed");
}

bool Transform::AlignedComparison(uint32_t, std::string_view, std::string_view) const {
  return false;
}

}  // namespace pgveil::mask
