#include "catalog/conninfo.h"

#include <libpq-fe.h>

#include <memory>

namespace pgveil::catalog {
namespace {

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// A value in single quotes, as libpq's conninfo parser reads it back.
void AppendQuoted(std::string& out, std::string_view value) {
  out.push_back('\'');
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
}

void AppendSetting(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out.push_back(' ');
  out.append(key);
  out.push_back('=');
  AppendQuoted(out, value);
}

}  // namespace

StatusOr<SideConnInfo> PrepareConnInfo(const std::string& conninfo,
                                       std::chrono::milliseconds query_timeout) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> parsed(
      PQconninfoParse(conninfo.c_str(), &error));
  if (error != nullptr) PQfreemem(error);  // never shown: it quotes the conninfo
  if (parsed == nullptr) {
    return InvalidArgument("catalog conninfo is not a valid libpq connection string");
  }

  // Pinned settings. search_path: the catalog queries qualify every name, but operators
  // and functions would still be looked up in a schema listed before pg_catalog.
  std::string pinned = "-c search_path=pg_catalog,pg_temp";
  if (query_timeout.count() > 0) {
    pinned += " -c statement_timeout=" + std::to_string(query_timeout.count());
  }

  SideConnInfo out;
  bool has_connect_timeout = false;
  bool has_application_name = false;
  bool has_options = false;
  for (const PQconninfoOption* opt = parsed.get(); opt->keyword != nullptr; ++opt) {
    if (opt->val == nullptr) continue;
    std::string_view key = opt->keyword;
    std::string value = opt->val;
    if (key == "password") out.password = value;
    if (key == "connect_timeout") has_connect_timeout = true;
    if (key == "application_name") has_application_name = true;
    if (key == "options") {
      has_options = true;
      value += " " + pinned;  // a later -c wins over an earlier one
    }
    AppendSetting(out.conninfo, key, value);
  }
  if (!has_connect_timeout) AppendSetting(out.conninfo, "connect_timeout", "10");
  if (!has_application_name) AppendSetting(out.conninfo, "application_name", "pgveil-catalog");
  if (!has_options) AppendSetting(out.conninfo, "options", pinned);
  return out;
}

std::string ScrubSecret(std::string message, std::string_view secret) {
  if (secret.empty()) return message;
  constexpr std::string_view kMark = "***";
  size_t pos = 0;
  while ((pos = message.find(secret, pos)) != std::string::npos) {
    message.replace(pos, secret.size(), kMark);
    pos += kMark.size();
  }
  return message;
}

}  // namespace pgveil::catalog
