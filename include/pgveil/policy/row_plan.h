// RowPlan: a masking plan bound to one RowDescription (never to statement text).
//
// Compiled from the fields' provenance (table OID, attnum), type and result format under
// one Policy; then applied to every DataRow that follows. Untouched fields are copied as
// bytes; masked fields go through their transform into the output buffer.
// A RowPlan holds its Policy alive; it is immutable and may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/mask/types.h"
#include "pgveil/policy/policy.h"
#include "pgveil/status.h"
#include "pgveil/wire/messages.h"

namespace pgveil::policy {

struct FieldPlan {
  Action action = Action::kNull;
  const mask::Transform* transform = nullptr;  // kTransform only; owned by the policy
  uint32_t type_oid = 0;                       // the column's type as the server sends it
  mask::Format format = mask::Format::kText;
  mask::OutputType output;  // type written in the RowDescription
  // The transform reads the value as text of this type (a column cast to text), or 0.
  uint32_t text_of_type = 0;
};

// Where the value of one result field comes from, as the query guard traced it.
struct FieldLineage {
  enum class Kind : uint8_t {
    kColumn,    // exactly the value of base column (table_oid, attnum): its mask
    kCastText,  // that value cast to text: its mask, applied to the text
    kValue,     // depends on no protected column: as sent
    kNull,      // NULL
  };
  Kind kind = Kind::kNull;
  uint32_t table_oid = 0;
  int16_t attnum = 0;
  uint32_t type_oid = 0;  // kCastText: the column's type
};

// The lineage of every field of a statement's rows.
struct RowShape {
  // One per field; when `open`, the fields [open_at, open_at + n) that the shape does not
  // list come from system catalogs or set-returning functions and are decided by their
  // provenance (unknown or none: as sent), and `fields` holds those before and after.
  std::vector<FieldLineage> fields;
  bool open = false;
  size_t open_at = 0;
  bool all_values = false;  // SHOW, EXPLAIN: every field is a value
};

class RowPlan {
 public:
  // `formats`: the result formats a Bind asked for (empty: all text; one: for all; else
  // one per field), or nullptr to take each field's format from `desc` (simple query
  // and portal Describe replies carry the real formats).
  static std::shared_ptr<const RowPlan> Compile(const wire::RowDescription& desc,
                                                std::shared_ptr<const Policy> policy,
                                                const std::vector<int16_t>* formats);

  // The same, with the guard's lineage of every field (masked sessions). Where the
  // RowDescription names a base relation of the snapshot, it must agree with the
  // lineage; nullptr when it does not, or when the field counts differ (the rows must
  // then not be sent).
  static std::shared_ptr<const RowPlan> Compile(const wire::RowDescription& desc,
                                                std::shared_ptr<const Policy> policy,
                                                const std::vector<int16_t>* formats,
                                                const RowShape& shape);

  size_t size() const { return fields_.size(); }
  const FieldPlan& field(size_t i) const { return fields_[i]; }
  // True when every field passes unchanged.
  bool passthrough() const { return passthrough_; }
  // Relations named by the fields that the policy's snapshot does not know.
  const std::vector<uint32_t>& unknown_relations() const { return unknown_relations_; }

  // Appends a whole RowDescription message ('T') for `desc` with the output types.
  void AppendRowDescription(const wire::RowDescription& desc, std::string* out) const;

  // Appends a whole DataRow message ('D') with every field masked. `body` is the
  // server's DataRow body. A row whose shape does not match the plan is an error and
  // nothing is appended. A value a transform cannot read becomes NULL.
  Status AppendDataRow(std::string_view body, std::string* out) const;

  // The same for consecutive DataRows (bodies in order), with exactly the output of
  // AppendDataRow for each: fields whose transform Batches() are masked for all rows at
  // once. On error nothing is appended.
  Status AppendDataRows(std::span<const std::string_view> bodies, std::string* out) const;

 private:
  // A field whose transform masks a whole column at once, with the type and format the
  // transform reads.
  struct Batched {
    size_t field;
    uint32_t type_oid;
    mask::Format format;
  };
  // Fills batched_ from fields_; the last step of compiling a plan.
  void FindBatched();

  std::shared_ptr<const Policy> policy_;
  std::vector<FieldPlan> fields_;
  std::vector<Batched> batched_;
  std::vector<uint32_t> unknown_relations_;
  bool passthrough_ = true;
};

}  // namespace pgveil::policy
