// Small helpers shared by the transform implementations.
#pragma once

#include <cstdint>
#include <string>

#include "pgveil/mask/transform.h"
#include "pgveil/mask/types.h"

namespace pgveil::mask {

inline OutputType TextOutput() { return OutputType{oid::kText, -1, -1}; }

inline bool IsTextType(uint32_t type_oid) { return FamilyOf(type_oid) == TypeFamily::kText; }

inline Status NotAccepted(std::string_view transform, uint32_t type_oid) {
  return Unsupported(std::string(transform) + " does not apply to " +
                     std::string(TypeName(type_oid)));
}

// A per-thread scratch buffer for transforms that need an intermediate form (keeps the
// hot path free of allocations after the first values).
inline std::string& Scratch() {
  thread_local std::string scratch;
  scratch.clear();
  return scratch;
}

}  // namespace pgveil::mask
