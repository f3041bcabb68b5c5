#include "pgveil/wire/messages.h"

#include <string>

#include "pgveil/wire/reader.h"

namespace pgveil::wire {
namespace {

Status Malformed(const char* what) {
  return ProtocolError(std::string("malformed ") + what + " message");
}

// Every parser ends here: the reader must have succeeded and consumed the whole body.
template <typename T>
StatusOr<T> Finish(const Reader& r, T msg, const char* what) {
  if (!r.ok() || !r.done()) return Malformed(what);
  return msg;
}

// Reads an Int16 count followed by that many Int16 values.
bool ReadInt16List(Reader& r, std::vector<int16_t>* out) {
  int16_t n;
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) * 2 > r.remaining()) return false;
  out->resize(static_cast<size_t>(n));
  for (auto& v : *out) r.Int16(&v);
  return r.ok();
}

bool ReadValueList(Reader& r, std::vector<std::optional<std::string_view>>* out) {
  int16_t n;
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) * 4 > r.remaining()) return false;
  out->reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::string_view v;
    bool is_null;
    if (!r.LengthPrefixed(&v, &is_null)) return false;
    out->push_back(is_null ? std::nullopt : std::optional<std::string_view>(v));
  }
  return true;
}

}  // namespace

std::string_view StartupMessage::Get(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

StatusOr<StartupMessage> ParseStartupMessage(std::string_view body) {
  Reader r(body);
  StartupMessage m;
  int16_t major = 0, minor = 0;
  r.Int16(&major);
  r.Int16(&minor);
  m.major = static_cast<uint16_t>(major);
  m.minor = static_cast<uint16_t>(minor);
  while (r.ok()) {
    std::string_view name, value;
    if (!r.CString(&name)) break;
    if (name.empty()) break;  // the terminator
    if (!r.CString(&value)) break;
    m.params.emplace_back(name, value);
  }
  return Finish(r, std::move(m), "startup");
}

StatusOr<CancelRequest> ParseCancelRequest(std::string_view body) {
  Reader r(body);
  int32_t code = 0;
  CancelRequest c;
  r.Int32(&code);
  r.Int32(&c.pid);
  if (r.remaining() < 4 || r.remaining() > 256) return Malformed("cancel request");
  r.Bytes(r.remaining(), &c.key);
  return Finish(r, c, "cancel request");
}

StatusOr<Authentication> ParseAuthentication(std::string_view body) {
  Reader r(body);
  Authentication a;
  r.Int32(&a.code);
  r.Bytes(r.remaining(), &a.data);
  return Finish(r, a, "authentication");
}

StatusOr<BackendKeyData> ParseBackendKeyData(std::string_view body) {
  Reader r(body);
  BackendKeyData k;
  r.Int32(&k.pid);
  if (r.remaining() < 4 || r.remaining() > 256) return Malformed("backend key data");
  r.Bytes(r.remaining(), &k.key);
  return Finish(r, k, "backend key data");
}

StatusOr<ParameterStatus> ParseParameterStatus(std::string_view body) {
  Reader r(body);
  ParameterStatus p;
  r.CString(&p.name);
  r.CString(&p.value);
  return Finish(r, p, "parameter status");
}

StatusOr<ReadyForQuery> ParseReadyForQuery(std::string_view body) {
  Reader r(body);
  ReadyForQuery z;
  r.Byte(&z.status);
  if (r.ok() && z.status != 'I' && z.status != 'T' && z.status != 'E') {
    return Malformed("ready for query");
  }
  return Finish(r, z, "ready for query");
}

StatusOr<NegotiateProtocolVersion> ParseNegotiateProtocolVersion(std::string_view body) {
  Reader r(body);
  NegotiateProtocolVersion n;
  int32_t count;
  r.Int32(&n.newest_minor);
  if (!r.Int32(&count) || count < 0 || static_cast<size_t>(count) > r.remaining()) {
    return Malformed("negotiate protocol version");
  }
  for (int32_t i = 0; i < count; ++i) {
    std::string_view opt;
    if (!r.CString(&opt)) break;
    n.unrecognized.push_back(opt);
  }
  return Finish(r, std::move(n), "negotiate protocol version");
}

std::string_view NoticeFields::Get(char code) const {
  for (const auto& [c, v] : fields) {
    if (c == code) return v;
  }
  return {};
}

StatusOr<NoticeFields> ParseNoticeFields(std::string_view body) {
  Reader r(body);
  NoticeFields n;
  while (r.ok()) {
    char code;
    if (!r.Byte(&code)) break;
    if (code == '\0') break;
    std::string_view value;
    if (!r.CString(&value)) break;
    n.fields.emplace_back(code, value);
  }
  return Finish(r, std::move(n), "error or notice");
}

StatusOr<RowDescription> ParseRowDescription(std::string_view body) {
  Reader r(body);
  RowDescription d;
  int16_t n;
  // Each field takes at least 19 bytes (empty name + 18 fixed bytes).
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) * 19 > r.remaining()) {
    return Malformed("row description");
  }
  d.fields.resize(static_cast<size_t>(n));
  for (auto& f : d.fields) {
    int32_t table = 0, type = 0;
    r.CString(&f.name);
    r.Int32(&table);
    r.Int16(&f.attnum);
    r.Int32(&type);
    r.Int16(&f.type_len);
    r.Int32(&f.type_mod);
    r.Int16(&f.format);
    f.table_oid = static_cast<uint32_t>(table);
    f.type_oid = static_cast<uint32_t>(type);
    if (!r.ok()) break;
  }
  return Finish(r, std::move(d), "row description");
}

StatusOr<DataRow> ParseDataRow(std::string_view body) {
  Reader r(body);
  DataRow row;
  if (!ReadValueList(r, &row.columns)) return Malformed("data row");
  return Finish(r, std::move(row), "data row");
}

StatusOr<CommandComplete> ParseCommandComplete(std::string_view body) {
  Reader r(body);
  CommandComplete c;
  r.CString(&c.tag);
  return Finish(r, c, "command complete");
}

StatusOr<NotificationResponse> ParseNotificationResponse(std::string_view body) {
  Reader r(body);
  NotificationResponse n;
  r.Int32(&n.pid);
  r.CString(&n.channel);
  r.CString(&n.payload);
  return Finish(r, n, "notification");
}

StatusOr<CopyResponse> ParseCopyResponse(std::string_view body) {
  Reader r(body);
  CopyResponse c;
  char format = 0;
  r.Byte(&format);
  c.format = static_cast<int8_t>(format);
  if (!ReadInt16List(r, &c.column_formats) || (c.format != 0 && c.format != 1)) {
    return Malformed("copy response");
  }
  return Finish(r, std::move(c), "copy response");
}

StatusOr<ParameterDescription> ParseParameterDescription(std::string_view body) {
  Reader r(body);
  ParameterDescription p;
  int16_t n;
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) * 4 > r.remaining()) {
    return Malformed("parameter description");
  }
  p.type_oids.resize(static_cast<size_t>(n));
  for (auto& oid : p.type_oids) {
    int32_t v = 0;
    r.Int32(&v);
    oid = static_cast<uint32_t>(v);
  }
  return Finish(r, std::move(p), "parameter description");
}

StatusOr<Query> ParseQuery(std::string_view body) {
  Reader r(body);
  Query q;
  r.CString(&q.sql);
  return Finish(r, q, "query");
}

StatusOr<Parse> ParseParse(std::string_view body) {
  Reader r(body);
  Parse p;
  int16_t n;
  r.CString(&p.statement);
  r.CString(&p.sql);
  if (!r.Int16(&n) || n < 0 || static_cast<size_t>(n) * 4 > r.remaining()) {
    return Malformed("parse");
  }
  p.param_types.resize(static_cast<size_t>(n));
  for (auto& oid : p.param_types) {
    int32_t v = 0;
    r.Int32(&v);
    oid = static_cast<uint32_t>(v);
  }
  return Finish(r, std::move(p), "parse");
}

StatusOr<Bind> ParseBind(std::string_view body) {
  Reader r(body);
  Bind b;
  r.CString(&b.portal);
  r.CString(&b.statement);
  if (!ReadInt16List(r, &b.param_formats) || !ReadValueList(r, &b.params) ||
      !ReadInt16List(r, &b.result_formats)) {
    return Malformed("bind");
  }
  return Finish(r, std::move(b), "bind");
}

StatusOr<Target> ParseTarget(std::string_view body) {
  Reader r(body);
  Target t;
  r.Byte(&t.kind);
  r.CString(&t.name);
  if (r.ok() && t.kind != 'S' && t.kind != 'P') return Malformed("describe or close");
  return Finish(r, t, "describe or close");
}

StatusOr<Execute> ParseExecute(std::string_view body) {
  Reader r(body);
  Execute e;
  r.CString(&e.portal);
  r.Int32(&e.max_rows);
  return Finish(r, e, "execute");
}

StatusOr<FunctionCall> ParseFunctionCall(std::string_view body) {
  Reader r(body);
  FunctionCall f;
  int32_t oid = 0;
  r.Int32(&oid);
  f.function_oid = static_cast<uint32_t>(oid);
  if (!ReadInt16List(r, &f.arg_formats) || !ReadValueList(r, &f.args) ||
      !r.Int16(&f.result_format)) {
    return Malformed("function call");
  }
  return Finish(r, std::move(f), "function call");
}

StatusOr<CopyFail> ParseCopyFail(std::string_view body) {
  Reader r(body);
  CopyFail c;
  r.CString(&c.message);
  return Finish(r, c, "copy fail");
}

}  // namespace pgveil::wire
