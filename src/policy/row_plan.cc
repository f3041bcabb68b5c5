#include "pgveil/policy/row_plan.h"

#include <algorithm>

#include "pgveil/wire/reader.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {

namespace {

// A whole-row field (attnum 0) of a relation: true when the policy passes every column.
bool WholeRowPasses(const Policy& policy, uint32_t table_oid) {
  const catalog::Relation* rel = policy.snapshot()->FindRelation(table_oid);
  if (rel == nullptr) return false;
  for (const auto& c : rel->columns) {
    if (policy.ForField(table_oid, c.attnum).is_protected()) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const RowPlan> RowPlan::Compile(const wire::RowDescription& desc,
                                                std::shared_ptr<const Policy> policy,
                                                const std::vector<int16_t>* formats) {
  auto plan = std::make_shared<RowPlan>();
  plan->fields_.reserve(desc.fields.size());
  for (size_t i = 0; i < desc.fields.size(); ++i) {
    const auto& f = desc.fields[i];
    FieldPlan fp;
    int16_t format = f.format;
    if (formats != nullptr) {
      format = formats->empty() ? 0 : formats->size() == 1 ? (*formats)[0] : (*formats)[i];
    }
    fp.format = format == 1 ? mask::Format::kBinary : mask::Format::kText;
    fp.type_oid = f.type_oid;
    fp.output = {f.type_oid, f.type_len, f.type_mod};
    const ColumnMask& m = policy->ForField(f.table_oid, f.attnum);
    fp.action = m.action;
    if (m.action == Action::kTransform) {
      if (m.transform->Accepts(f.type_oid)) {
        fp.transform = m.transform.get();
        fp.output = m.transform->Output(f.type_oid, f.type_mod);
      } else {
        fp.action = Action::kNull;  // e.g. a type the rules did not expect: fail closed
      }
    }
    if (policy->masked() && f.table_oid != 0 && !policy->KnowsRelation(f.table_oid) &&
        std::find(plan->unknown_relations_.begin(), plan->unknown_relations_.end(), f.table_oid) ==
            plan->unknown_relations_.end()) {
      plan->unknown_relations_.push_back(f.table_oid);
    }
    if (fp.action != Action::kPass) plan->passthrough_ = false;
    plan->fields_.push_back(fp);
  }
  plan->policy_ = std::move(policy);
  plan->FindBatched();
  return plan;
}

void RowPlan::FindBatched() {
  batched_.clear();
  for (size_t i = 0; i < fields_.size(); ++i) {
    const FieldPlan& f = fields_[i];
    if (f.action != Action::kTransform) continue;
    const uint32_t type = f.text_of_type != 0 ? f.text_of_type : f.type_oid;
    const mask::Format format = f.text_of_type != 0 ? mask::Format::kText : f.format;
    if (f.transform->Batches(type)) batched_.push_back({i, type, format});
  }
}

std::shared_ptr<const RowPlan> RowPlan::Compile(const wire::RowDescription& desc,
                                                std::shared_ptr<const Policy> policy,
                                                const std::vector<int16_t>* formats,
                                                const RowShape& shape) {
  const size_t n = desc.fields.size();
  if (shape.all_values) {
    auto plan = std::make_shared<RowPlan>();
    plan->fields_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const auto& f = desc.fields[i];
      if (f.table_oid != 0) return nullptr;  // a SHOW or EXPLAIN row names no relation
      FieldPlan& fp = plan->fields_[i];
      fp.action = Action::kPass;
      fp.type_oid = f.type_oid;
      fp.output = {f.type_oid, f.type_len, f.type_mod};
    }
    plan->policy_ = std::move(policy);
    return plan;
  }
  if (shape.open ? n < shape.fields.size() : n != shape.fields.size()) return nullptr;
  // The provenance-based plan, then each field checked against (and bound to) its lineage.
  auto base = Compile(desc, policy, formats);
  auto plan = std::make_shared<RowPlan>(*base);
  plan->passthrough_ = true;
  const size_t open_len = n - shape.fields.size();
  for (size_t i = 0; i < n; ++i) {
    const auto& f = desc.fields[i];
    FieldPlan& fp = plan->fields_[i];
    const bool names_base = f.table_oid != 0 && policy->snapshot() != nullptr &&
                            policy->snapshot()->FindRelation(f.table_oid) != nullptr &&
                            policy->snapshot()->FindRelation(f.table_oid)->kind != 'v' &&
                            policy->snapshot()->FindRelation(f.table_oid)->kind != 'm';
    const FieldLineage* lin = nullptr;
    if (!shape.open || i < shape.open_at) {
      lin = &shape.fields[i];
    } else if (i >= shape.open_at + open_len) {
      lin = &shape.fields[i - open_len];
    }
    if (lin == nullptr) {
      // The open segment: system catalogs and functions. A base relation of the
      // snapshot here keeps its provenance mask (as compiled); anything else passes.
      if (!names_base) {
        fp.action = Action::kPass;
        fp.transform = nullptr;
        fp.output = {f.type_oid, f.type_len, f.type_mod};
      }
    } else {
      switch (lin->kind) {
        case FieldLineage::Kind::kColumn:
        case FieldLineage::Kind::kCastText: {
          if (names_base && (f.table_oid != lin->table_oid || f.attnum != lin->attnum)) {
            return nullptr;
          }
          const ColumnMask& m = policy->ForField(lin->table_oid, lin->attnum);
          const bool cast = lin->kind == FieldLineage::Kind::kCastText;
          const uint32_t read_as = cast ? lin->type_oid : f.type_oid;
          fp.action = m.action;
          fp.transform = nullptr;
          fp.text_of_type = cast ? lin->type_oid : 0;
          fp.output = {f.type_oid, f.type_len, f.type_mod};
          if (m.action == Action::kTransform) {
            if (m.transform->Accepts(read_as)) {
              fp.transform = m.transform.get();
              if (!cast) fp.output = m.transform->Output(f.type_oid, f.type_mod);
            } else {
              fp.action = Action::kNull;
            }
          }
          break;
        }
        case FieldLineage::Kind::kValue:
          if (names_base &&
              (f.attnum == 0 ? !WholeRowPasses(*policy, f.table_oid)
                             : policy->ForField(f.table_oid, f.attnum).is_protected())) {
            return nullptr;
          }
          fp.action = Action::kPass;
          fp.transform = nullptr;
          fp.output = {f.type_oid, f.type_len, f.type_mod};
          break;
        case FieldLineage::Kind::kNull:
          fp.action = Action::kNull;
          fp.transform = nullptr;
          fp.output = {f.type_oid, f.type_len, f.type_mod};
          break;
      }
    }
    if (fp.action != Action::kPass) plan->passthrough_ = false;
  }
  plan->FindBatched();
  return plan;
}

void RowPlan::AppendRowDescription(const wire::RowDescription& desc, std::string* out) const {
  wire::Writer w(out);
  w.Begin(wire::be::kRowDescription).Int16(static_cast<int16_t>(desc.fields.size()));
  for (size_t i = 0; i < desc.fields.size(); ++i) {
    const auto& f = desc.fields[i];
    const auto& o = i < fields_.size() ? fields_[i].output
                                       : mask::OutputType{f.type_oid, f.type_len, f.type_mod};
    w.CString(f.name)
        .Int32(static_cast<int32_t>(f.table_oid))
        .Int16(f.attnum)
        .Int32(static_cast<int32_t>(o.oid))
        .Int16(o.typlen)
        .Int32(o.typmod)
        .Int16(f.format);
  }
  w.End();
}

namespace {

// One field of a DataRow as its plan says (pass, NULL or transform), with its length.
void AppendField(const FieldPlan& f, std::optional<std::string_view> in, std::string* out) {
  wire::Writer w(out);
  switch (f.action) {
    case Action::kPass:
      w.Value(in ? &*in : nullptr);
      break;
    case Action::kNull:
      w.Int32(-1);
      break;
    case Action::kTransform: {
      size_t len_pos = out->size();
      out->append(4, '\0');
      bool out_null = false;
      // A column cast to text arrives as text in either format (text's binary form is
      // its text); the transform reads it as text of the column's type.
      Status st = f.text_of_type != 0
                      ? f.transform->Apply(f.text_of_type, mask::Format::kText, in, out, &out_null)
                      : f.transform->Apply(f.type_oid, f.format, in, out, &out_null);
      if (!st.ok() || out_null) {
        out->resize(len_pos);
        w.Int32(-1);
      } else {
        wire::WriteU32(out->data() + len_pos, static_cast<uint32_t>(out->size() - len_pos - 4));
      }
      break;
    }
  }
}

}  // namespace

Status RowPlan::AppendDataRow(std::string_view body, std::string* out) const {
  wire::Reader r(body);
  int16_t n = 0;
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) != fields_.size()) {
    return ProtocolError("data row does not match its row description");
  }
  const size_t start = out->size();
  wire::Writer w(out);
  w.Begin(wire::be::kDataRow).Int16(n);
  for (const auto& f : fields_) {
    std::string_view v;
    bool is_null = false;
    if (!r.LengthPrefixed(&v, &is_null)) {
      out->resize(start);
      return ProtocolError("malformed data row");
    }
    AppendField(f, is_null ? std::nullopt : std::optional<std::string_view>(v), out);
  }
  if (!r.done()) {
    out->resize(start);
    return ProtocolError("malformed data row");
  }
  w.End();
  return Status::Ok();
}

Status RowPlan::AppendDataRows(std::span<const std::string_view> bodies, std::string* out) const {
  const size_t nf = fields_.size();
  if (bodies.size() < 2 || batched_.empty()) {
    const size_t start = out->size();
    for (std::string_view body : bodies) {
      Status st = AppendDataRow(body, out);
      if (!st.ok()) {
        out->resize(start);
        return st;
      }
    }
    return Status::Ok();
  }
  // Every row's fields, read once: cells[row * nf + field].
  thread_local std::vector<std::optional<std::string_view>> cells;
  cells.assign(bodies.size() * nf, std::nullopt);
  for (size_t row = 0; row < bodies.size(); ++row) {
    wire::Reader r(bodies[row]);
    int16_t n = 0;
    if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) != nf) {
      return ProtocolError("data row does not match its row description");
    }
    for (size_t i = 0; i < nf; ++i) {
      std::string_view v;
      bool is_null = false;
      if (!r.LengthPrefixed(&v, &is_null)) return ProtocolError("malformed data row");
      if (!is_null) cells[row * nf + i] = v;
    }
    if (!r.done()) return ProtocolError("malformed data row");
  }
  // The batched fields, one column at a time.
  struct Column {
    std::string data;
    std::vector<int32_t> lengths;
  };
  thread_local std::vector<Column> columns;
  thread_local std::vector<std::optional<std::string_view>> values;
  thread_local std::vector<int> column_of;  // per field: index into columns, or -1
  columns.resize(batched_.size());
  column_of.assign(nf, -1);
  for (size_t c = 0; c < batched_.size(); ++c) {
    const Batched& b = batched_[c];
    column_of[b.field] = static_cast<int>(c);
    values.clear();
    for (size_t row = 0; row < bodies.size(); ++row) values.push_back(cells[row * nf + b.field]);
    columns[c].data.clear();
    columns[c].lengths.clear();
    fields_[b.field].transform->ApplyBatch(b.type_oid, b.format, values, &columns[c].data,
                                           &columns[c].lengths);
  }
  thread_local std::vector<size_t> offsets;
  offsets.assign(batched_.size(), 0);
  wire::Writer w(out);
  for (size_t row = 0; row < bodies.size(); ++row) {
    w.Begin(wire::be::kDataRow).Int16(static_cast<int16_t>(nf));
    for (size_t i = 0; i < nf; ++i) {
      const FieldPlan& f = fields_[i];
      const std::optional<std::string_view>& in = cells[row * nf + i];
      if (column_of[i] >= 0) {
        const size_t c = static_cast<size_t>(column_of[i]);
        const int32_t len = columns[c].lengths[row];
        w.Int32(len);
        if (len > 0) {
          out->append(columns[c].data, offsets[c], static_cast<size_t>(len));
          offsets[c] += static_cast<size_t>(len);
        }
        continue;
      }
      AppendField(f, in, out);
    }
    w.End();
  }
  return Status::Ok();
}

}  // namespace pgveil::policy
