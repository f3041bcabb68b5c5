#include "pgveil/wire/writer.h"

namespace pgveil::wire {

void AppendError(std::string* out, const ErrorSpec& e, char type) {
  Writer w(out);
  w.Begin(type);
  w.Byte('S').CString(e.severity);
  w.Byte('V').CString(e.severity);
  w.Byte('C').CString(e.sqlstate);
  w.Byte('M').CString(e.message);
  if (!e.detail.empty()) w.Byte('D').CString(e.detail);
  if (!e.hint.empty()) w.Byte('H').CString(e.hint);
  w.Byte('\0');
  w.End();
}

void AppendReadyForQuery(std::string* out, char status) {
  Writer w(out);
  w.Begin('Z').Byte(status).End();
}

}  // namespace pgveil::wire
