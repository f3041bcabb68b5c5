#include "pgveil/policy/scrub.h"

#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {
namespace {

constexpr std::string_view kHidden = "…";

// Removes the value parts of the server's messages that echo data:
//   Key (col)=(value)            → Key (col)=(…)
//   Failing row contains (...)   → Failing row contains (…)
//   any "quoted text"            → "…"
// Everything in parentheses after ")=(" and every double-quoted string is treated as
// data: identifiers are quoted the same way, and a value cast to regclass, regrole and
// the like comes back as an identifier.
void RemoveEchoes(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    if (in.compare(i, 3, ")=(") == 0) {
      out->append(")=(");
      out->append(kHidden);
      // Skip to the matching close paren at the end of the value list.
      size_t depth = 1, j = i + 3;
      while (j < in.size() && depth > 0) {
        if (in[j] == '(') ++depth;
        if (in[j] == ')') --depth;
        ++j;
      }
      out->push_back(')');
      i = j;
      continue;
    }
    static constexpr std::string_view kFailing = "row contains (";
    if (in.compare(i, kFailing.size(), kFailing) == 0) {
      out->append(kFailing);
      out->append(kHidden);
      out->push_back(')');
      // The row runs to the end of the line: values may hold parentheses themselves.
      size_t nl = in.find('\n', i);
      i = nl == std::string_view::npos ? in.size() : nl;
      continue;
    }
    if (in[i] == '"') {
      // Any double-quoted text may be a stored value: casts such as ::regclass or
      // ::regrole turn a value into a "name" that the error then quotes. All of it goes.
      size_t close = in.find('"', i + 1);
      while (close != std::string_view::npos && close + 1 < in.size() && in[close + 1] == '"') {
        close = in.find('"', close + 2);  // doubled quotes inside the string
      }
      out->push_back('"');
      out->append(kHidden);
      out->push_back('"');
      i = close == std::string_view::npos ? in.size() : close + 1;
      continue;
    }
    out->push_back(in[i++]);
  }
}

}  // namespace

void ScrubText(std::string_view text, const mask::Redactor* redactor, std::string* out) {
  if (redactor == nullptr) {
    RemoveEchoes(text, out);
    return;
  }
  std::string tmp;
  RemoveEchoes(text, &tmp);
  redactor->Redact(tmp, out);
}

Status AppendScrubbedNotice(char type, std::string_view body, const mask::Redactor* redactor,
                            std::string* out, bool keep_position) {
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
      case 's':
      case 't':
      case 'c':
      case 'd':
      case 'n':
        w.Byte(code).CString(value);
        break;
      case 'M':
      case 'D':
      case 'H':
        text.clear();
        ScrubText(value, redactor, &text);
        w.Byte(code).CString(text);
        break;
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
  std::string channel, payload;
  ScrubText(n->channel, redactor, &channel);
  ScrubText(n->payload, redactor, &payload);
  wire::Writer w(out);
  w.Begin(wire::be::kNotificationResponse).Int32(n->pid).CString(channel).CString(payload).End();
  return Status::Ok();
}

}  // namespace pgveil::policy
