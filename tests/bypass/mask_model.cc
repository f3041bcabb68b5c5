#include "mask_model.h"

#include "harness/subprocess.h"
#include "masking_env.h"

namespace pgveil::bypass {
namespace {

std::string WithoutSchema(const std::string& column) {
  return column.rfind("crm.", 0) == 0 ? column.substr(4) : column;
}

}  // namespace

StatusOr<MaskModel> MaskModel::Load() {
  const std::string src = masking::MaskingEnv::SourceDir();
  std::vector<rules::Diagnostic> errors;
  const std::string key_text = it::ReadFileOrEmpty(src + "/demo/keys.json");
  auto keys = rules::KeyRing::Parse(key_text, "demo/keys.json", &errors);
  if (!keys) return Internal("demo/keys.json does not load");
  rules::LoadResult loaded = rules::LoadRules({src + "/masking-rules/crm.json"}, {.keys = keys});
  if (!loaded.ok()) return Internal("masking-rules/crm.json does not load");
  MaskModel m;
  m.rules_ = loaded.rules;
  m.sales_ = loaded.rules->FindPolicy("sales");
  if (!m.sales_) return Internal("no sales policy");
  auto cols = masking::Env().Query(
      "SELECT c.relname, a.attname, a.atttypid FROM pg_attribute a "
      "JOIN pg_class c ON c.oid = a.attrelid "
      "WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
      "AND NOT a.attisdropped ORDER BY c.relname, a.attnum");
  if (!cols.ok()) return cols.status();
  for (const auto& row : *cols) {
    m.column_types_[*row[0] + "." + *row[1]] = static_cast<uint32_t>(std::stoul(*row[2]));
    m.tables_[*row[0]].push_back(*row[1]);
  }
  return m;
}

bool MaskModel::Knows(const std::string& column) const {
  return column_types_.count(WithoutSchema(column)) > 0;
}

std::vector<std::string> MaskModel::TableColumns(const std::string& table) const {
  auto it = tables_.find(table);
  return it == tables_.end() ? std::vector<std::string>{} : it->second;
}

StatusOr<Cell> MaskModel::Mask(const std::string& column, const Cell& value) const {
  const std::string name = WithoutSchema(column);
  auto type = column_types_.find(name);
  if (type == column_types_.end()) return NotFound("unknown column " + column);
  const size_t dot = name.find('.');
  rules::ColumnRule rule = sales_->Lookup("crm", name.substr(0, dot), name.substr(dot + 1));
  std::string out;
  bool is_null = false;
  std::optional<std::string_view> in;
  if (value) in = *value;
  Status st = rule.transform->Apply(type->second, mask::Format::kText, in, &out, &is_null);
  if (!st.ok()) return Internal("transform of " + column + " failed: " + st.ToString());
  if (is_null) return Cell();
  return Cell(out);
}

StatusOr<std::string> MaskModel::Pseudonym(const std::string& real_id) const {
  auto c = Mask("members.member_id", real_id);
  if (!c.ok()) return c.status();
  if (!c->has_value()) return Internal("no pseudonym");
  return **c;
}

StatusOr<std::string> MaskModel::RealId(const std::string& pseudonym) const {
  rules::ColumnRule rule = sales_->Lookup("crm", "members", "member_id");
  std::string out;
  Status st = rule.transform->Reverse(20, mask::Format::kText, pseudonym, &out);
  if (!st.ok()) return st;
  return out;
}

}  // namespace pgveil::bypass
