// Scrubbing of server text that a masked session receives: ErrorResponse and
// NoticeResponse fields and NOTIFY payloads can echo stored values (a unique violation's
// key, a check violation's failing row, a bad cast's input).
//
// Kept: severity, SQLSTATE, position (unless `keep_position` is false) and the object
// names that can only be the server's own (RAISE ... USING COLUMN = sets them to any
// text): schema, table and column names that the catalog snapshot holds; constraint and
// data type names of integrity-constraint errors (class 23) not raised by PL/pgSQL, when
// they are plain names (printable ASCII, no run of four digits, nothing the redactor
// finds).
// Message, detail and hint: value echoes (every double-quoted string, key values, failing
// rows) are cut out, then the redactor runs over the rest. Where (context) and internal query are
// dropped: they quote SQL and values.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pgveil/catalog/snapshot.h"
#include "pgveil/mask/redact.h"
#include "pgveil/status.h"

namespace pgveil::policy {

// Appends a whole ErrorResponse/NoticeResponse message of type `type` built from the
// server's `body`, scrubbed. `redactor` may be null (echo removal only). Without
// `keep_position` the cursor position is dropped: a position in a statement whose
// literals pgveil rewrote would tell the length of what replaced them. `names`: the
// catalog that schema, table and column names are checked against (null: none is kept).
Status AppendScrubbedNotice(char type, std::string_view body, const mask::Redactor* redactor,
                            std::string* out, bool keep_position = true,
                            const catalog::Snapshot* names = nullptr);

// Scrubs free text (a message field or a NOTIFY payload) into *out.
void ScrubText(std::string_view text, const mask::Redactor* redactor, std::string* out);

// Appends a NotificationResponse with the channel scrubbed and the payload replaced by an
// empty string: a payload is free text that pgveil cannot classify. Another session (the
// matcher) may send a real name, an income or a real member id, and so may a trigger
// running in the receiving session's own server process (pg_notify(..., NEW.member_id)
// after an INSERT the session made).
Status AppendScrubbedNotification(std::string_view body, const mask::Redactor* redactor,
                                  std::string* out);

}  // namespace pgveil::policy
