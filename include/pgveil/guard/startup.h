// The StartupMessage of a masked session, checked like the SET statements it stands for.
// A client may set run-time parameters at connection start, as StartupMessage keys or
// as `-c name=value` switches in `options`. pgveil reads a masked session's SQL on the
// assumption that search_path, standard_conforming_strings and client_encoding keep
// the values it checks SET against, so those parameters get the same verdicts here.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgveil::guard {

struct StartupRefusal {
  std::string message;  // for the client: names the parameter as the client wrote it
  std::string hint;
  // The parameter refused ("options" for a switch that is not -c name=value), as the
  // client wrote its name: data, which a log may print only through a filter such as
  // audit::SafeName.
  std::string parameter;
};

using StartupParams = std::vector<std::pair<std::string, std::string>>;

// nullopt when every parameter may be used by a masked session.
std::optional<StartupRefusal> CheckStartupParameters(const StartupParams& params);

// The `options` value split into arguments as the server splits it: on whitespace,
// a backslash takes the next character literally.
std::vector<std::string> SplitBackendOptions(std::string_view options);

// True for the client encodings that leave statement text as pgveil reads it: UTF8
// under any of its spellings, and SQL_ASCII (the server then checks input as UTF-8).
bool ClientEncodingKeepsText(std::string_view value);

}  // namespace pgveil::guard
