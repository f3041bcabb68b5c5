// show, null and constant.
#include "mask/codec.h"
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

class Show final : public Transform {
 public:
  std::string_view Name() const override { return "show"; }
  bool Accepts(uint32_t) const override { return true; }

 protected:
  Status DoApply(uint32_t, Format, std::string_view value, std::string* out, bool*) const override {
    out->append(value);
    return Status::Ok();
  }
};

class Null final : public Transform {
 public:
  std::string_view Name() const override { return "null"; }
  bool Accepts(uint32_t) const override { return true; }

 protected:
  Status DoApply(uint32_t, Format, std::string_view, std::string*, bool* out_null) const override {
    *out_null = true;
    return Status::Ok();
  }
};

class Constant final : public Transform {
 public:
  explicit Constant(const ConstantOptions& o) : options_(o) {}
  std::string_view Name() const override { return "constant"; }
  bool Accepts(uint32_t type_oid) const override {
    std::string& scratch = Scratch();
    return codec::EncodeLiteral(type_oid, Format::kText, options_.value, &scratch).ok();
  }

 protected:
  Status DoApply(uint32_t type_oid, Format format, std::string_view, std::string* out,
                 bool*) const override {
    return codec::EncodeLiteral(type_oid, format, options_.value, out);
  }
  Status DoApplyNull(uint32_t type_oid, Format format, std::string* out,
                     bool* out_null) const override {
    if (!options_.replace_null) {
      *out_null = true;
      return Status::Ok();
    }
    return codec::EncodeLiteral(type_oid, format, options_.value, out);
  }

 private:
  ConstantOptions options_;
};

}  // namespace

TransformPtr MakeShow() {
  static const TransformPtr kShow = std::make_shared<Show>();
  return kShow;
}

TransformPtr MakeNull() {
  static const TransformPtr kNull = std::make_shared<Null>();
  return kNull;
}

StatusOr<TransformPtr> MakeConstant(const ConstantOptions& options) {
  return TransformPtr(std::make_shared<Constant>(options));
}

}  // namespace pgveil::mask
