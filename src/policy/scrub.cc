#include "pgveil/policy/scrub.h"

#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {
namespace {

constexpr std::string_view kHidden = "…";

// Quotation marks of the server's messages, in the languages it is translated to
// (lc_messages): "x" in English, »x« in German, «x» in Spanish and French, and the
// typographic pairs.
struct QuotePair {
  std::string_view open, close;
};
constexpr QuotePair kQuotes[] = {
    {"\"", "\""},
    {"\xC2\xBB", "\xC2\xAB"},          // » «
    {"\xC2\xAB", "\xC2\xBB"},          // « »
    {"\xE2\x80\x9C", "\xE2\x80\x9D"},  // “ ”
    {"\xE2\x80\x9E", "\xE2\x80\x9C"},  // „ “
    {"\xE3\x80\x8C", "\xE3\x80\x8D"},  // 「 」
};

// Removes the value parts of the server's messages that echo data:
//   Key (col)=(value) ...        → Key (col)=(…)
//   Failing row contains (...)   → Failing row contains (…)
//   any "quoted text"            → "…" (and »…«, «…», “…”, „…“, 「…」)
// Everything after ")=(" and every quoted string is treated as data: identifiers are
// quoted the same way, and a value cast to regclass, regrole and the like comes back as
// an identifier. A key's values and a failing row run to the end of the field: values may
// hold parentheses, quotes and line breaks themselves. `*echo` is set when a key or a
// failing row was cut.
void RemoveEchoes(std::string_view in, std::string* out, bool* echo) {
  size_t i = 0;
  while (i < in.size()) {
    if (in.compare(i, 3, ")=(") == 0) {
      out->append(")=(");
      out->append(kHidden);
      out->push_back(')');
      *echo = true;
      return;
    }
    static constexpr std::string_view kFailing = "row contains (";
    if (in.compare(i, kFailing.size(), kFailing) == 0) {
      out->append(kFailing);
      out->append(kHidden);
      out->push_back(')');
      *echo = true;
      return;
    }
    bool quoted = false;
    for (const auto& q : kQuotes) {
      if (in.compare(i, q.open.size(), q.open) != 0) continue;
      // Any quoted text may be a stored value: casts such as ::regclass or ::regrole turn
      // a value into a "name" that the error then quotes. All of it goes.
      size_t close = in.find(q.close, i + q.open.size());
      while (q.open == "\"" && close != std::string_view::npos && close + 1 < in.size() &&
             in[close + 1] == '"') {
        close = in.find('"', close + 2);  // doubled quotes inside the string
      }
      out->append(q.open);
      out->append(kHidden);
      out->append(q.close);
      i = close == std::string_view::npos ? in.size() : close + q.close.size();
      quoted = true;
      break;
    }
    if (!quoted) out->push_back(in[i++]);
  }
}

// A constraint or data type name is kept if it could only be a name: printable ASCII
// without a run of four digits (a phone number, an ID number or an income), in which the
// redactor finds nothing.
bool PlainName(std::string_view value, const mask::Redactor* redactor) {
  if (value.empty() || value.size() > 128) return false;
  int digits = 0;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
    digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
    if (digits >= 4) return false;
  }
  return redactor == nullptr || redactor->Find(value).empty();
}

// The object-name fields (schema, table, column, data type, constraint) hold the names of
// the objects a constraint violation is about; but PL/pgSQL's RAISE ... USING SCHEMA/
// TABLE/COLUMN/DATATYPE/CONSTRAINT (and other procedural languages) set them to any text,
// stored values included. Kept: a schema, table and column that `names` holds (the server
// names real objects); a data type or constraint name of an integrity-constraint error
// (class 23, the errors the server names them for) that RAISE did not make, if it is a
// plain name. Everything else is dropped.
class NameFields {
 public:
  NameFields(const wire::NoticeFields& f, const catalog::Snapshot* names,
             const mask::Redactor* redactor)
      : names_(names), redactor_(redactor) {
    schema_ = f.Get('s');
    if (names_ != nullptr && !f.Get('t').empty()) {
      relation_ = names_->FindRelation(schema_, f.Get('t'));
    }
    const std::string_view sqlstate = f.Get('C');
    constraint_error_ =
        sqlstate.size() == 5 && sqlstate.substr(0, 2) == "23" && f.Get('R') != "exec_stmt_raise";
  }

  bool Keep(char code, std::string_view value) const {
    switch (code) {
      case 's':
        return relation_ != nullptr || KnownSchema(value);
      case 't':
        return relation_ != nullptr;
      case 'c':
        return relation_ != nullptr && relation_->FindColumn(value) != nullptr;
      default:  // 'd', 'n'
        return constraint_error_ && PlainName(value, redactor_);
    }
  }

 private:
  bool KnownSchema(std::string_view schema) const {
    if (names_ == nullptr || schema.empty()) return false;
    for (const auto& rel : names_->relations()) {
      if (rel.schema == schema) return true;
    }
    return false;
  }

  const catalog::Snapshot* names_;
  const mask::Redactor* redactor_;
  std::string_view schema_;
  const catalog::Relation* relation_ = nullptr;
  bool constraint_error_ = false;
};

}  // namespace

namespace {

// ScrubText, telling whether a key or a failing row was cut.
void ScrubField(std::string_view text, const mask::Redactor* redactor, std::string* out,
                bool* echo) {
  if (redactor == nullptr) {
    RemoveEchoes(text, out, echo);
    return;
  }
  std::string tmp;
  RemoveEchoes(text, &tmp, echo);
  redactor->Redact(tmp, out);
}

}  // namespace

void ScrubText(std::string_view text, const mask::Redactor* redactor, std::string* out) {
  bool echo = false;
  ScrubField(text, redactor, out, &echo);
}

Status AppendScrubbedNotice(char type, std::string_view body, const mask::Redactor* redactor,
                            std::string* out, bool keep_position, const catalog::Snapshot* names) {
  auto fields = wire::ParseNoticeFields(body);
  if (!fields.ok()) return fields.status();
  if (type == wire::be::kNoticeResponse) {
    // LOG and DEBUG messages (client_min_messages below notice, set by the DBA or the
    // session) quote statements as the server received them, with pseudonyms turned back
    // into real values, and the values of Bind parameters: not passed on.
    for (const auto& [code, value] : fields->fields) {
      if (code == 'V' && (value == "LOG" || value.rfind("DEBUG", 0) == 0)) return Status::Ok();
    }
  }
  const NameFields name_fields(*fields, names, redactor);
  const bool constraint_error = fields->Get('C').substr(0, 2) == "23";
  wire::Writer w(out);
  w.Begin(type);
  std::string text;
  for (const auto& [code, value] : fields->fields) {
    switch (code) {
      case 'P':
        if (keep_position) w.Byte(code).CString(value);
        break;
      case 'S':
      case 'V':
      case 'C':
        w.Byte(code).CString(value);
        break;
      case 's':
      case 't':
      case 'c':
      case 'd':
      case 'n':
        if (name_fields.Keep(code, value)) w.Byte(code).CString(value);
        break;
      case 'M':
      case 'D':
      case 'H': {
        text.clear();
        bool echo = false;
        ScrubField(value, redactor, &text, &echo);
        // The detail of an integrity-constraint error is the key or the row that
        // failed. Translated (lc_messages), it need not say "Key (...)=(...)" or
        // "Failing row contains": 失败, 行包含(...) passed with the real member id in
        // it. Unless its echo was found and cut, it is not passed on.
        if (code == 'D' && constraint_error && !echo) break;
        w.Byte(code).CString(text);
        break;
      }
      default:
        // W (where), q/p (internal query and position), F/L/R (source location) and
        // anything unknown: dropped.
        break;
    }
  }
  w.Byte('\0');
  w.End();
  return Status::Ok();
}

Status AppendScrubbedNotification(std::string_view body, const mask::Redactor* redactor,
                                  std::string* out) {
  auto n = wire::ParseNotificationResponse(body);
  if (!n.ok()) return n.status();
  // Channel names are chosen by whoever sends the notification: scrubbed like payloads.
  // (The session names them itself in LISTEN.)
  std::string channel;
  ScrubText(n->channel, redactor, &channel);
  // Redaction finds contact and identity details, not names, incomes or ids; nor can
  // pgveil tell who wrote a payload (a trigger runs in the session's own process): the
  // payload is not passed on. The notification itself still tells the client to look.
  const std::string payload;
  wire::Writer w(out);
  w.Begin(wire::be::kNotificationResponse).Int32(n->pid).CString(channel).CString(payload).End();
  return Status::Ok();
}

}  // namespace pgveil::policy
