// pseudonym: FF1 for integers and uuids (reversible), HMAC tokens for text.
//
// Keys are derived per domain from the named master key, so the same domain under the
// same key gives the same pseudonyms in every column (joins keep working) and different
// domains are unrelated. Integers are enciphered as radix-2 numeral strings of 31 (int4)
// or 63 (int8) bits: a non-negative value maps to a non-negative value of the same type.
#include <crypto++/misc.h>

#include "mask/codec.h"
#include "mask/hmac.h"
#include "mask/util.h"
#include "pgveil/mask/ff1.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

class Pseudonym final : public Transform {
 public:
  Pseudonym(const PseudonymOptions& o, std::unique_ptr<Ff1> ff1, Ff1::Domain d31, Ff1::Domain d63,
            Ff1::Domain d128, const uint8_t text_key[32])
      : prefix_(o.prefix),
        text_length_(o.text_length),
        ff1_(std::move(ff1)),
        d31_(std::move(d31)),
        d63_(std::move(d63)),
        d128_(std::move(d128)),
        text_hmac_(text_key, 32) {}

  std::string_view Name() const override { return "pseudonym"; }
  bool Accepts(uint32_t type_oid) const override {
    return type_oid == oid::kInt4 || type_oid == oid::kInt8 || type_oid == oid::kUuid ||
           IsTextType(type_oid);
  }
  OutputType Output(uint32_t in_oid, int32_t in_typmod) const override {
    if (IsTextType(in_oid)) return TextOutput();
    return Transform::Output(in_oid, in_typmod);
  }
  bool Reversible() const override { return true; }

  bool Batches(uint32_t type_oid) const override {
    return type_oid == oid::kInt4 || type_oid == oid::kInt8 || type_oid == oid::kUuid;
  }
  // Integers and uuids: every value is decoded first, then enciphered together.
  void ApplyBatch(uint32_t type_oid, Format format,
                  std::span<const std::optional<std::string_view>> values, std::string* out,
                  std::vector<int32_t>* lengths) const override {
    if (!Batches(type_oid)) return Transform::ApplyBatch(type_oid, format, values, out, lengths);
    const bool is_uuid = type_oid == oid::kUuid;
    const Ff1::Domain& d = is_uuid ? d128_ : type_oid == oid::kInt4 ? d31_ : d63_;
    thread_local std::vector<Uint128> xs;
    thread_local std::vector<bool> ok;
    xs.clear();
    ok.assign(values.size(), false);
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i]) continue;
      if (is_uuid) {
        uint8_t u[16];
        if (!codec::DecodeUuid(format, *values[i], u).ok()) continue;
        Uint128 x = 0;
        for (uint8_t byte : u) x = (x << 8) | byte;
        xs.push_back(x);
      } else {
        int64_t v;
        if (!codec::DecodeInt(type_oid, format, *values[i], &v).ok() || v < 0) continue;
        xs.push_back(static_cast<Uint128>(v));
      }
      ok[i] = true;
    }
    ff1_->EncryptMany(d, xs);
    size_t next = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      if (!ok[i]) {
        lengths->push_back(-1);
        continue;
      }
      const size_t mark = out->size();
      Uint128 y = xs[next++];
      if (is_uuid) {
        uint8_t u[16];
        for (int k = 15; k >= 0; --k) {
          u[k] = static_cast<uint8_t>(y);
          y >>= 8;
        }
        codec::EncodeUuid(format, u, out);
      } else if (!codec::EncodeInt(type_oid, format, static_cast<int64_t>(y), out).ok()) {
        out->resize(mark);
        lengths->push_back(-1);
        continue;
      }
      lengths->push_back(static_cast<int32_t>(out->size() - mark));
    }
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                 bool*) const override {
    return Crypt(type_oid, format, value, out, true);
  }
  Status DoReverse(uint32_t type_oid, Format format, std::string_view value,
                   std::string* out) const override {
    if (IsTextType(type_oid)) return Unsupported("text pseudonyms cannot be reversed");
    return Crypt(type_oid, format, value, out, false);
  }

 private:
  Status Crypt(uint32_t type_oid, Format format, std::string_view value, std::string* out,
               bool encrypt) const {
    if (type_oid == oid::kInt4 || type_oid == oid::kInt8) {
      int64_t v;
      if (Status s = codec::DecodeInt(type_oid, format, value, &v); !s.ok()) return s;
      if (v < 0) return InvalidArgument("pseudonym domain holds only non-negative values");
      const Ff1::Domain& d = type_oid == oid::kInt4 ? d31_ : d63_;
      Uint128 x = static_cast<Uint128>(v);
      Uint128 y = encrypt ? ff1_->Encrypt(d, x) : ff1_->Decrypt(d, x);
      return codec::EncodeInt(type_oid, format, static_cast<int64_t>(y), out);
    }
    if (type_oid == oid::kUuid) {
      uint8_t u[16];
      if (Status s = codec::DecodeUuid(format, value, u); !s.ok()) return s;
      Uint128 x = 0;
      for (uint8_t byte : u) x = (x << 8) | byte;
      Uint128 y = encrypt ? ff1_->Encrypt(d128_, x) : ff1_->Decrypt(d128_, x);
      for (int i = 15; i >= 0; --i) {
        u[i] = static_cast<uint8_t>(y);
        y >>= 8;
      }
      codec::EncodeUuid(format, u, out);
      return Status::Ok();
    }
    if (IsTextType(type_oid)) {
      uint8_t digest[32];
      text_hmac_.Compute(value, {}, digest);
      out->append(prefix_);
      // Base32 (RFC 4648 alphabet, lowercase) of the digest's first bits.
      static constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
      for (int i = 0; i < text_length_; ++i) {
        const int bit = i * 5;
        const int byte = bit / 8, shift = bit % 8;
        unsigned w = (digest[byte] << 8) | (byte + 1 < 32 ? digest[byte + 1] : 0);
        out->push_back(kB32[(w >> (11 - shift)) & 31]);
      }
      return Status::Ok();
    }
    return NotAccepted(Name(), type_oid);
  }

  std::string prefix_;
  int text_length_;
  std::unique_ptr<Ff1> ff1_;
  Ff1::Domain d31_, d63_, d128_;
  HmacSha256 text_hmac_;
};

}  // namespace

StatusOr<TransformPtr> MakePseudonym(const PseudonymOptions& o) {
  if (o.domain.empty()) return InvalidArgument("domain must not be empty");
  if (o.text_length < 8 || o.text_length > 51) return InvalidArgument("length must be in 8..51");
  if (o.prefix.size() > 32) return InvalidArgument("prefix must be at most 32 bytes");
  uint8_t ff1_key[32], text_key[32];
  DeriveKey(o.key.data(), o.key.size(), "pgveil/pseudonym/ff1", o.domain, ff1_key);
  DeriveKey(o.key.data(), o.key.size(), "pgveil/pseudonym/text", o.domain, text_key);
  auto ff1 = Ff1::Create(std::span<const uint8_t>(ff1_key, 32));
  CryptoPP::SecureWipeArray(ff1_key, sizeof(ff1_key));
  if (!ff1.ok()) return ff1.status();
  auto d31 = (*ff1)->MakeDomain(2, 31, {});
  auto d63 = (*ff1)->MakeDomain(2, 63, {});
  auto d128 = (*ff1)->MakeDomain(2, 128, {});
  if (!d31.ok() || !d63.ok() || !d128.ok()) return Internal("FF1 domain setup failed");
  TransformPtr t = std::make_shared<Pseudonym>(o, std::move(*ff1), std::move(*d31), std::move(*d63),
                                               std::move(*d128), text_key);
  CryptoPP::SecureWipeArray(text_key, sizeof(text_key));
  return t;
}

}  // namespace pgveil::mask
