// Scrubbing of server text that a masked session receives: ErrorResponse and
// NoticeResponse fields and NOTIFY payloads can echo stored values (a unique violation's
// key, a check violation's failing row, a bad cast's input).
//
// Kept: severity, SQLSTATE, position (unless `keep_position` is false) and the
// schema/table/column/constraint/type fields.
// Message, detail and hint: value echoes (every double-quoted string, key values, failing
// rows) are cut out, then the redactor runs over the rest. Where (context) and internal query are
// dropped: they quote SQL and values.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pgveil/mask/redact.h"
#include "pgveil/status.h"

namespace pgveil::policy {

// Appends a whole ErrorResponse/NoticeResponse message of type `type` built from the
// server's `body`, scrubbed. `redactor` may be null (echo removal only). Without
// `keep_position` the cursor position is dropped: a position in a statement whose
// literals pgveil rewrote would tell the length of what replaced them.
Status AppendScrubbedNotice(char type, std::string_view body, const mask::Redactor* redactor,
                            std::string* out, bool keep_position = true);

// Scrubs free text (a message field or a NOTIFY payload) into *out.
void ScrubText(std::string_view text, const mask::Redactor* redactor, std::string* out);

// Appends a NotificationResponse with the payload scrubbed.
Status AppendScrubbedNotification(std::string_view body, const mask::Redactor* redactor,
                                  std::string* out);

}  // namespace pgveil::policy
