// Transform: one masking function applied to every value of one result column.
//
// A Transform is built once from validated options (see transforms.h), with all its
// expensive state prepared (key schedules, compiled patterns), and is shared as
// std::shared_ptr<const Transform> by every session and thread: all methods are const and
// thread-safe, and a Transform holds no per-call state.
//
// The proxy's hot path calls Apply() for every masked field of every DataRow:
//   mask::Status s = t->Apply(col_oid, fmt, value, &out, &out_null);
// Apply reads one value (NULL or bytes in the given format) and APPENDS the transformed
// value, in the same format, to a caller-owned buffer. It does not allocate when `out`
// has capacity (except `redact`, `map` with long values, and transforms over `numeric`).
//
// Fail closed: a value that cannot be parsed as the column type yields an error Status
// (the caller then sends NULL or refuses the row); the input bytes are never copied to
// the output on failure and never appear in the error message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/mask/types.h"
#include "pgveil/status.h"

namespace pgveil::mask {

class Transform {
 public:
  virtual ~Transform() = default;

  // The transform's name as written in rules ("show", "pseudonym", ...).
  virtual std::string_view Name() const = 0;

  // True if columns of this type (pg_type OID of the column, or of a domain's base type)
  // can be transformed. Apply on a type that is not accepted returns kUnsupported.
  virtual bool Accepts(uint32_t type_oid) const = 0;

  // The result column type for an input column (in_oid, in_typmod). Most transforms keep
  // the type; bucket-as-label, age_band, hash and partial produce text.
  virtual OutputType Output(uint32_t in_oid, int32_t in_typmod) const;

  // Transforms one value. `value` is std::nullopt for SQL NULL. On success either appends
  // the encoded output value (same `format` as the input, output type of Output()) to *out
  // and sets *out_null = false, or appends nothing and sets *out_null = true. On error,
  // *out is left exactly as it was.
  Status Apply(uint32_t type_oid, Format format, std::optional<std::string_view> value,
               std::string* out, bool* out_null) const;

  // Apply for many values of one column at once (the same field of consecutive rows):
  // each output is appended to *out and its byte length to *lengths, -1 for NULL, which
  // is also what a value that Apply refuses becomes (exactly as the row masking treats
  // Apply's errors). The default applies one value at a time; a transform whose cost is
  // latency that independent values can overlap (FF1's AES rounds) overrides it and
  // says so with Batches(type_oid).
  virtual bool Batches(uint32_t /*type_oid*/) const { return false; }
  virtual void ApplyBatch(uint32_t type_oid, Format format,
                          std::span<const std::optional<std::string_view>> values, std::string* out,
                          std::vector<int32_t>* lengths) const;

  // For the query guard's `aligned` filter: true if `column <op> constant` (op one of
  // ">=", ">", "<", "<=") is decided by the transform's output alone, i.e. the constant
  // sits on a boundary between two groups of values the transform maps apart, so the
  // comparison reveals nothing the masked value does not. `constant` is the literal's
  // text (unquoted) read as a value of `type_oid`. False by default and for anything
  // that cannot be read.
  virtual bool AlignedComparison(uint32_t type_oid, std::string_view op,
                                 std::string_view constant) const;

  // True when AlignedComparison's answer for a constant changes with the date (age
  // bands move by one day every day): a decision taken on it holds for today only.
  virtual bool BoundariesMove() const { return false; }

  // True for transforms that pgveil can undo (pseudonyms of integers and uuids).
  virtual bool Reversible() const { return false; }

  // Undoes Apply for a reversible transform: reads an output value (format as given) and
  // appends the original value. Used by the query guard to translate pseudonyms in
  // literals and parameters back to real values. kUnsupported if not Reversible().
  Status Reverse(uint32_t type_oid, Format format, std::string_view value, std::string* out) const;

 protected:
  // Implementations: same contract as Apply, but may leave partial output on error
  // (Apply truncates it). Called only with a non-null value.
  virtual Status DoApply(uint32_t type_oid, Format format, std::string_view value, std::string* out,
                         bool* out_null) const = 0;
  // NULL input: by default NULL output.
  virtual Status DoApplyNull(uint32_t type_oid, Format format, std::string* out,
                             bool* out_null) const;
  virtual Status DoReverse(uint32_t type_oid, Format format, std::string_view value,
                           std::string* out) const;
};

}  // namespace pgveil::mask
