#include "pgveil/guard/startup.h"

#include <cctype>

#include "names.h"

namespace pgveil::guard {
namespace {

// PostgreSQL's parse_bool: a prefix of true/false/yes/no, or on/off/1/0, any case.
std::optional<bool> ParseBool(std::string_view v) {
  const std::string s = Lower(v);
  if (s.empty()) return std::nullopt;
  auto prefix_of = [&](std::string_view word) {
    return s.size() <= word.size() && word.compare(0, s.size(), s) == 0;
  };
  if (prefix_of("true") || prefix_of("yes") || s == "on" || s == "1") return true;
  if (prefix_of("false") || prefix_of("no") || s == "off" || s == "of" || s == "0") return false;
  return std::nullopt;
}

std::optional<StartupRefusal> CheckSetting(const std::string& name, std::string_view value) {
  const std::string where = "at connection start";
  if (name == "client_encoding") {
    if (ClientEncodingKeepsText(value)) return std::nullopt;
    return StartupRefusal{"masked sessions must use client_encoding UTF8",
                          "Connect with client_encoding=UTF8; pgveil reads statements as UTF-8.",
                          name};
  }
  if (auto r = CheckSettingValue(name, value)) {
    return StartupRefusal{r->message + " " + where, r->hint, name};
  }
  if (name == "standard_conforming_strings" && ParseBool(value) == true) return std::nullopt;
  if (name == "role" || name == "session_authorization" || name == "standard_conforming_strings" ||
      name == "backslash_quote") {
    return StartupRefusal{"masked sessions may not set " + name + " " + where,
                          "It changes how the server reads or resolves SQL, which pgveil must "
                          "read the same way. Leave it at its default.",
                          name};
  }
  if (ClassifySetting(name) == SettingClass::kAllowed) return std::nullopt;
  return StartupRefusal{"masked sessions may not set " + name + " " + where,
                        "Masked sessions may set session settings such as application_name, "
                        "TimeZone, DateStyle, client_encoding and statement_timeout.",
                        name};
}

// One argument of `options`: "-c name=value" was joined by the caller.
std::optional<StartupRefusal> CheckAssignment(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return StartupRefusal{"masked sessions may pass only -c name=value in options",
                          "Set session parameters with -c name=value, or with SET.", "options"};
  }
  // The server reads "--work-mem=1MB" as work_mem.
  std::string name = Lower(arg.substr(0, eq));
  for (auto& c : name) {
    if (c == '-') c = '_';
  }
  return CheckSetting(name, arg.substr(eq + 1));
}

}  // namespace

bool ClientEncodingKeepsText(std::string_view value) {
  // The server compares encoding names by their letters and digits only, in any case.
  std::string clean;
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      clean += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return clean == "utf8" || clean == "unicode" || clean == "sqlascii";
}

std::vector<std::string> SplitBackendOptions(std::string_view options) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    while (i < options.size() && std::isspace(static_cast<unsigned char>(options[i]))) ++i;
    if (i >= options.size()) break;
    std::string arg;
    while (i < options.size() && !std::isspace(static_cast<unsigned char>(options[i]))) {
      if (options[i] == '\\') {  // the next character, whatever it is; a last one is dropped
        if (++i >= options.size()) break;
      }
      arg += options[i++];
    }
    out.push_back(std::move(arg));
  }
  return out;
}

std::optional<StartupRefusal> CheckStartupParameters(const StartupParams& params) {
  for (const auto& [key, value] : params) {
    const std::string name = Lower(key);
    if (name == "user" || name == "database" || name.rfind("_pq_.", 0) == 0) continue;
    if (name == "replication") {
      if (ParseBool(value) == false) continue;
      return StartupRefusal{"masked sessions may not open replication connections",
                            "Replication streams table contents without masking.", "replication"};
    }
    if (name == "options") {
      const auto args = SplitBackendOptions(value);
      for (size_t i = 0; i < args.size(); ++i) {
        std::optional<StartupRefusal> r;
        if (args[i] == "-c" && i + 1 < args.size()) {
          r = CheckAssignment(args[++i]);
        } else if (args[i].rfind("-c", 0) == 0 && args[i].size() > 2) {
          r = CheckAssignment(std::string_view(args[i]).substr(2));
        } else if (args[i].rfind("--", 0) == 0) {
          r = CheckAssignment(std::string_view(args[i]).substr(2));
        } else {
          r = StartupRefusal{"masked sessions may pass only -c name=value in options",
                             "Set session parameters with -c name=value, or with SET.", "options"};
        }
        if (r) return r;
      }
      continue;
    }
    if (auto r = CheckSetting(name, value)) return r;
  }
  return std::nullopt;
}

}  // namespace pgveil::guard
