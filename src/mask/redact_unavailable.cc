// Used only when the redact detector library is not part of the build: every redact rule
// is refused at load, so no column is ever left unredacted by accident.
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {

StatusOr<TransformPtr> MakeRedact(const RedactOptions&) {
  return Unsupported("the redact detectors are not built into this pgveil");
}

TransformPtr MakeRedact(std::shared_ptr<const Redactor>) { return nullptr; }

}  // namespace pgveil::mask
