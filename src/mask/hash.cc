// hash: keyed HMAC-SHA-256 of the canonical value, as lowercase hex.
#include <crypto++/misc.h>

#include "mask/codec.h"
#include "mask/hmac.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

class Hash final : public Transform {
 public:
  Hash(const uint8_t subkey[32], int length) : hmac_(subkey, 32), length_(length) {}
  std::string_view Name() const override { return "hash"; }
  bool Accepts(uint32_t) const override { return true; }
  OutputType Output(uint32_t, int32_t) const override { return TextOutput(); }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool*) const override {
    uint8_t digest[32];
    if (IsTextType(type_oid)) {
      hmac_.Compute(value, {}, digest);
    } else {
      std::string& canonical = Scratch();
      if (Status s = codec::Canonical(type_oid, format, value, &canonical); !s.ok()) return s;
      hmac_.Compute(canonical, {}, digest);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < length_; ++i) {
      const uint8_t byte = digest[i / 2];
      out->push_back(kHex[i % 2 == 0 ? byte >> 4 : byte & 15]);
    }
    return Status::Ok();
  }

 private:
  HmacSha256 hmac_;
  int length_;
};

}  // namespace

StatusOr<TransformPtr> MakeHash(const HashOptions& o) {
  if (o.length < 8 || o.length > 64) return InvalidArgument("length must be in 8..64");
  uint8_t subkey[32];
  DeriveKey(o.key.data(), o.key.size(), "pgveil/hash", "", subkey);
  TransformPtr t = std::make_shared<Hash>(subkey, o.length);
  CryptoPP::SecureWipeArray(subkey, sizeof(subkey));
  return t;
}

}  // namespace pgveil::mask
