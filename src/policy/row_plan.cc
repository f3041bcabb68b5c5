#include "pgveil/policy/row_plan.h"

#include <algorithm>

#include "pgveil/wire/reader.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {

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
  return plan;
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
          if (names_base && policy->ForField(f.table_oid, f.attnum).is_protected()) {
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
    switch (f.action) {
      case Action::kPass:
        w.Value(is_null ? nullptr : &v);
        break;
      case Action::kNull:
        w.Int32(-1);
        break;
      case Action::kTransform: {
        size_t len_pos = out->size();
        out->append(4, '\0');
        bool out_null = false;
        std::optional<std::string_view> in;
        if (!is_null) in = v;
        // A column cast to text arrives as text in either format (text's binary form is
        // its text); the transform reads it as text of the column's type.
        Status st =
            f.text_of_type != 0
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
  if (!r.done()) {
    out->resize(start);
    return ProtocolError("malformed data row");
  }
  w.End();
  return Status::Ok();
}

}  // namespace pgveil::policy
