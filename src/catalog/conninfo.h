// The side connection's conninfo: parsed once with libpq, its password kept apart so
// that it can be scrubbed from every error message, and the session settings pgveil
// needs added to it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pgveil/status.h"

namespace pgveil::catalog {

struct SideConnInfo {
  std::string conninfo;  // key='value' form, ready for libpq
  std::string password;  // "" when the conninfo names none
};

// Parses `conninfo` (key=value or URI form) and rebuilds it in key='value' form with:
// connect_timeout=10 and application_name=pgveil-catalog unless given, and
// "-c search_path=pg_catalog,pg_temp" plus a statement_timeout of `query_timeout` (when
// non-zero) appended to `options`. A conninfo libpq cannot parse gives InvalidArgument
// with a fixed message: libpq's own would quote the text around the mistake, which may be
// the password.
StatusOr<SideConnInfo> PrepareConnInfo(const std::string& conninfo,
                                       std::chrono::milliseconds query_timeout);

// `message` with every occurrence of `secret` replaced by "***" (unchanged when `secret`
// is empty).
std::string ScrubSecret(std::string message, std::string_view secret);

}  // namespace pgveil::catalog
