#include "pgveil/policy/copy_plan.h"

#include <cctype>
#include <cstring>

#include "pgveil/policy/copy_text.h"
#include "pgveil/wire/frame.h"

namespace pgveil::policy {
namespace {

constexpr char kBinarySignature[] = "PGCOPY\n\377\r\n";  // + '\0': 11 bytes

}  // namespace

void UnescapeCopyText(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\' || i + 1 >= in.size()) {
      out->push_back(c);
      continue;
    }
    char e = in[++i];
    switch (e) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i + 1 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1]))) {
          char h = in[++i];
          v = v * 16 +
              (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
          ++n;
        }
        out->push_back(static_cast<char>(v));
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '7') {
            v = v * 8 + (in[++i] - '0');
            ++n;
          }
          out->push_back(static_cast<char>(v));
        } else {
          out->push_back(e);
        }
    }
  }
}

void EscapeCopyText(std::string_view in, char delimiter, std::string* out) {
  for (char c : in) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\v':
        out->append("\\v");
        break;
      default:
        if (c == delimiter) {
          out->push_back('\\');
        }
        out->push_back(c);
    }
  }
}

void QuoteCopyCsv(std::string_view in, const guard::CopyStatement& s, std::string* out) {
  bool needs = in.empty() || in == s.null_string;
  for (char c : in) {
    if (c == s.delimiter || c == s.quote || c == '\n' || c == '\r' || c == s.escape) needs = true;
  }
  if (!needs) {
    out->append(in);
    return;
  }
  out->push_back(s.quote);
  for (char c : in) {
    if (c == s.quote || c == s.escape) out->push_back(s.escape);
    out->push_back(c);
  }
  out->push_back(s.quote);
}

StatusOr<std::shared_ptr<CopyPlan>> CopyPlan::CreateForQuery(const guard::CopyStatement& copy,
                                                             std::shared_ptr<const Policy> policy) {
  if (!copy.query_shape || copy.query_shape->open || copy.query_shape->all_values) {
    return PermissionDenied("COPY of a query pgveil has not analysed");
  }
  auto plan = std::shared_ptr<CopyPlan>(new CopyPlan());
  plan->policy_ = policy;
  plan->copy_ = copy;
  for (const auto& f : copy.query_shape->fields) {
    switch (f.kind) {
      case FieldLineage::Kind::kValue:
        plan->columns_.push_back({&ColumnMask::Pass(), 0});
        break;
      case FieldLineage::Kind::kNull:
        plan->columns_.push_back({&ColumnMask::Null(), 0});
        break;
      case FieldLineage::Kind::kColumn:
      case FieldLineage::Kind::kCastText: {
        const catalog::Relation* rel = policy->snapshot()->FindRelation(f.table_oid);
        const catalog::Column* col = rel ? rel->FindColumn(f.attnum) : nullptr;
        if (col == nullptr) return PermissionDenied("COPY of a column pgveil cannot resolve");
        const ColumnMask& m = policy->ForField(f.table_oid, f.attnum);
        if (f.kind == FieldLineage::Kind::kCastText && copy.format == guard::CopyFormat::kBinary &&
            m.is_protected()) {
          // Text arrives where the column's binary form is expected: not read at all.
          plan->columns_.push_back({&ColumnMask::Null(), 0});
          break;
        }
        plan->columns_.push_back({&m, col->base_type_oid});
        break;
      }
    }
  }
  plan->header_pending_ = copy.format == guard::CopyFormat::kBinary || copy.header;
  return plan;
}

StatusOr<std::shared_ptr<CopyPlan>> CopyPlan::Create(const guard::CopyStatement& copy,
                                                     std::shared_ptr<const Policy> policy) {
  const catalog::Snapshot* snap = policy->snapshot();
  if (snap == nullptr) return Unavailable("no catalog snapshot");
  if (copy.is_query) return CreateForQuery(copy, std::move(policy));
  const catalog::Relation* rel = nullptr;
  if (!copy.schema.empty()) {
    rel = snap->FindRelation(copy.schema, copy.table);
  } else {
    for (const auto& r : snap->relations()) {
      if (r.name != copy.table) continue;
      if (rel != nullptr) {
        return PermissionDenied("COPY of \"" + copy.table +
                                "\" is ambiguous for a masked session: qualify it with its schema");
      }
      rel = &r;
    }
  }
  if (rel == nullptr) {
    return PermissionDenied("COPY of a relation that pgveil cannot resolve (\"" + copy.table +
                            "\"); masked sessions may COPY only known tables");
  }
  auto plan = std::shared_ptr<CopyPlan>(new CopyPlan());
  plan->policy_ = policy;
  plan->copy_ = copy;
  auto add = [&](const catalog::Column& c) {
    plan->columns_.push_back({&policy->ForField(rel->oid, c.attnum), c.base_type_oid});
  };
  if (copy.columns.empty()) {
    for (const auto& c : rel->columns) add(c);
  } else {
    for (const auto& name : copy.columns) {
      const catalog::Column* c = rel->FindColumn(name);
      if (c == nullptr) return PermissionDenied("COPY names an unknown column \"" + name + "\"");
      add(*c);
    }
  }
  plan->header_pending_ = copy.format == guard::CopyFormat::kBinary || copy.header;
  return plan;
}

Status CopyPlan::MaskValue(const Column& c, bool in_null, std::string_view in, mask::Format f,
                           std::string* value, bool* is_null) {
  value->clear();
  switch (c.mask->action) {
    case Action::kPass:
      *is_null = in_null;
      if (!in_null) value->assign(in);
      return Status::Ok();
    case Action::kNull:
      *is_null = true;
      return Status::Ok();
    case Action::kTransform: {
      std::optional<std::string_view> v;
      if (!in_null) v = in;
      Status st = c.mask->transform->Accepts(c.type_oid)
                      ? c.mask->transform->Apply(c.type_oid, f, v, value, is_null)
                      : Unsupported("type");
      if (!st.ok()) {  // fail closed
        value->clear();
        *is_null = true;
      }
      return Status::Ok();
    }
  }
  return Internal("unreachable");
}

Status CopyPlan::MaskPayload(std::string_view payload, std::string* out) {
  switch (copy_.format) {
    case guard::CopyFormat::kBinary:
      return MaskBinary(payload, out);
    case guard::CopyFormat::kCsv:
      return MaskCsvRecords(payload, out);
    case guard::CopyFormat::kText: {
      size_t pos = 0;
      while (pos < payload.size()) {
        size_t nl = payload.find('\n', pos);
        if (nl == std::string_view::npos) return ProtocolError("COPY text row without newline");
        if (header_pending_) {
          // The header line holds column names only.
          header_pending_ = false;
          out->append(payload.substr(pos, nl + 1 - pos));
          pos = nl + 1;
          continue;
        }
        Status st = MaskTextRow(payload.substr(pos, nl - pos), out);
        if (!st.ok()) return st;
        pos = nl + 1;
      }
      return Status::Ok();
    }
  }
  return Internal("unreachable");
}

Status CopyPlan::MaskTextRow(std::string_view row, std::string* out) {
  size_t field = 0, pos = 0;
  std::string value;
  for (;;) {
    size_t end = row.find(copy_.delimiter, pos);
    std::string_view raw =
        row.substr(pos, end == std::string_view::npos ? row.size() - pos : end - pos);
    if (field >= columns_.size()) return ProtocolError("COPY row has more fields than columns");
    bool in_null = raw == copy_.null_string;
    if (!in_null) UnescapeCopyText(raw, &scratch_);
    bool is_null = false;
    Status st =
        MaskValue(columns_[field], in_null, scratch_, mask::Format::kText, &value, &is_null);
    if (!st.ok()) return st;
    if (field > 0) out->push_back(copy_.delimiter);
    if (is_null) {
      out->append(copy_.null_string);
    } else {
      EscapeCopyText(value, copy_.delimiter, out);
    }
    ++field;
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (field != columns_.size()) return ProtocolError("COPY row has fewer fields than columns");
  out->push_back('\n');
  return Status::Ok();
}

Status CopyPlan::MaskCsvRecords(std::string_view p, std::string* out) {
  size_t i = 0;
  std::string value;
  while (i < p.size()) {
    // One record: fields until an unquoted newline.
    std::vector<std::pair<bool, std::string>> fields;  // (quoted, value)
    bool done = false;
    while (!done) {
      std::string v;
      bool quoted = false;
      if (i < p.size() && p[i] == copy_.quote) {
        quoted = true;
        ++i;
        for (;;) {
          if (i >= p.size()) return ProtocolError("unterminated CSV quote in COPY data");
          char c = p[i];
          if (c == copy_.escape && i + 1 < p.size() &&
              (p[i + 1] == copy_.quote || p[i + 1] == copy_.escape)) {
            v.push_back(p[i + 1]);
            i += 2;
          } else if (c == copy_.quote) {
            ++i;
            break;
          } else {
            v.push_back(c);
            ++i;
          }
        }
      }
      while (i < p.size() && p[i] != copy_.delimiter && p[i] != '\n' && p[i] != '\r') {
        v.push_back(p[i++]);
      }
      fields.emplace_back(quoted, std::move(v));
      if (i >= p.size()) return ProtocolError("CSV record without newline in COPY data");
      if (p[i] == copy_.delimiter) {
        ++i;
      } else {
        if (p[i] == '\r') ++i;
        if (i < p.size() && p[i] == '\n') ++i;
        done = true;
      }
    }
    if (header_pending_) {
      // The header line holds column names only.
      header_pending_ = false;
      for (size_t f = 0; f < fields.size(); ++f) {
        if (f > 0) out->push_back(copy_.delimiter);
        QuoteCopyCsv(fields[f].second, copy_, out);
      }
      out->push_back('\n');
      continue;
    }
    if (fields.size() != columns_.size()) {
      return ProtocolError("COPY CSV row does not match its columns");
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      bool in_null = !fields[f].first && fields[f].second == copy_.null_string;
      bool is_null = false;
      Status st =
          MaskValue(columns_[f], in_null, fields[f].second, mask::Format::kText, &value, &is_null);
      if (!st.ok()) return st;
      if (f > 0) out->push_back(copy_.delimiter);
      if (is_null) {
        out->append(copy_.null_string);
      } else {
        QuoteCopyCsv(value, copy_, out);
      }
    }
    out->push_back('\n');
  }
  return Status::Ok();
}

Status CopyPlan::MaskBinary(std::string_view p, std::string* out) {
  size_t i = 0;
  if (header_pending_) {
    if (p.size() < 19 || std::memcmp(p.data(), kBinarySignature, 11) != 0) {
      return ProtocolError("COPY binary header missing");
    }
    uint32_t ext = wire::ReadU32(p.data() + 15);
    if (ext > p.size() - 19) return ProtocolError("COPY binary header extension too long");
    out->append(p.substr(0, 19 + ext));
    i = 19 + ext;
    header_pending_ = false;
  }
  std::string value;
  while (i < p.size()) {
    if (p.size() - i < 2) return ProtocolError("truncated COPY binary tuple");
    int16_t n = static_cast<int16_t>(wire::ReadU16(p.data() + i));
    i += 2;
    char b[4];
    wire::WriteU16(b, static_cast<uint16_t>(n));
    out->append(b, 2);
    if (n == -1) continue;  // trailer
    if (n < 0 || static_cast<size_t>(n) != columns_.size()) {
      return ProtocolError("COPY binary tuple does not match its columns");
    }
    for (int f = 0; f < n; ++f) {
      if (p.size() - i < 4) return ProtocolError("truncated COPY binary field");
      int32_t len = static_cast<int32_t>(wire::ReadU32(p.data() + i));
      i += 4;
      if (len < -1 || (len > 0 && static_cast<size_t>(len) > p.size() - i)) {
        return ProtocolError("bad COPY binary field length");
      }
      std::string_view in = len > 0 ? p.substr(i, static_cast<size_t>(len)) : std::string_view();
      if (len > 0) i += static_cast<size_t>(len);
      bool is_null = false;
      Status st = MaskValue(columns_[static_cast<size_t>(f)], len == -1, in, mask::Format::kBinary,
                            &value, &is_null);
      if (!st.ok()) return st;
      if (is_null) {
        wire::WriteU32(b, 0xFFFFFFFFu);
        out->append(b, 4);
      } else {
        wire::WriteU32(b, static_cast<uint32_t>(value.size()));
        out->append(b, 4);
        out->append(value);
      }
    }
  }
  return Status::Ok();
}

}  // namespace pgveil::policy
