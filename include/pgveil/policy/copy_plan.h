// CopyPlan: masking for the rows of `COPY table [(columns)] TO STDOUT` (or of a query
// the guard analysed) in a masked
// session. Each server CopyData payload is parsed in the statement's format (text, CSV
// or binary), every field is masked as the column's rule says, and the row is encoded
// again in the same format. A payload that cannot be parsed is an error: nothing of it
// may reach the client.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/guard/copy_inspect.h"
#include "pgveil/policy/policy.h"
#include "pgveil/status.h"

namespace pgveil::policy {

class CopyPlan {
 public:
  // Resolves the statement's relation (a bare name must be unique across schemas) and
  // columns in the policy's snapshot. Errors name the relation, never data.
  static StatusOr<std::shared_ptr<CopyPlan>> Create(const guard::CopyStatement& copy,
                                                    std::shared_ptr<const Policy> policy);

  // COPY (query) TO: the columns' masks from the guard's lineage (copy.query_shape).
  static StatusOr<std::shared_ptr<CopyPlan>> CreateForQuery(const guard::CopyStatement& copy,
                                                            std::shared_ptr<const Policy> policy);

  // Masks one CopyData payload and appends the new payload (no message header) to *out.
  // Not thread-safe: a plan carries the position in the stream (header seen, binary
  // header consumed); one plan per COPY.
  Status MaskPayload(std::string_view payload, std::string* out);

 private:
  struct Column {
    const ColumnMask* mask;
    uint32_t type_oid;
  };
  Status MaskTextRow(std::string_view row, std::string* out);
  Status MaskCsvRecords(std::string_view payload, std::string* out);
  Status MaskBinary(std::string_view payload, std::string* out);
  // Masks one decoded text value; sets *is_null.
  Status MaskValue(const Column& c, bool in_null, std::string_view in, mask::Format f,
                   std::string* value, bool* is_null);

  std::shared_ptr<const Policy> policy_;
  guard::CopyStatement copy_;
  std::vector<Column> columns_;
  bool header_pending_ = false;  // HEADER line (text, CSV) / binary file header not yet seen
  std::string scratch_;
};

}  // namespace pgveil::policy
