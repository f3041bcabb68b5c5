// redact: the Redactor (src/mask/redact) over text columns.
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

class RedactTransform final : public Transform {
 public:
  explicit RedactTransform(std::shared_ptr<const Redactor> r) : redactor_(std::move(r)) {}
  std::string_view Name() const override { return "redact"; }
  bool Accepts(uint32_t type_oid) const override { return IsTextType(type_oid); }
  OutputType Output(uint32_t, int32_t) const override { return TextOutput(); }

 protected:
  Status DoApply(uint32_t type_oid, Format, std::string_view value, std::string* out,
                 bool*) const override {
    // Text types have identical text and binary forms, so both formats go through here.
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    redactor_->Redact(value, out);
    return Status::Ok();
  }

 private:
  std::shared_ptr<const Redactor> redactor_;
};

}  // namespace

StatusOr<TransformPtr> MakeRedact(const RedactOptions& options) {
  auto r = Redactor::Create(options);
  if (!r.ok()) return r.status();
  return MakeRedact(std::move(*r));
}

TransformPtr MakeRedact(std::shared_ptr<const Redactor> redactor) {
  return std::make_shared<RedactTransform>(std::move(redactor));
}

}  // namespace pgveil::mask
