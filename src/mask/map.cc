// map: a lookup table with a default.
#include "mask/util.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

namespace {

class Map final : public Transform {
 public:
  explicit Map(MapOptions o) : o_(std::move(o)) {}
  std::string_view Name() const override { return "map"; }
  bool Accepts(uint32_t type_oid) const override { return IsTextType(type_oid); }
  OutputType Output(uint32_t, int32_t) const override { return TextOutput(); }

 protected:
  Status DoApply(uint32_t type_oid, Format, std::string_view value, std::string* out,
                 bool* out_null) const override {
    if (!Accepts(type_oid)) return NotAccepted(Name(), type_oid);
    auto it = o_.table.find(value);
    if (it != o_.table.end()) {
      out->append(it->second);
    } else if (o_.default_value) {
      out->append(*o_.default_value);
    } else {
      *out_null = true;
    }
    return Status::Ok();
  }

 private:
  MapOptions o_;
};

}  // namespace

StatusOr<TransformPtr> MakeMap(const MapOptions& o) {
  if (o.table.empty()) return InvalidArgument("table must not be empty");
  return TransformPtr(std::make_shared<Map>(o));
}

}  // namespace pgveil::mask
