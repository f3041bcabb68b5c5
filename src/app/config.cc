#include "app/config.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "pgveil/rules/diagnostic.h"

namespace pgveil::app {
namespace {

const std::set<std::string, std::less<>> kKnownLogLevels = {"trace", "debug", "info",
                                                            "warn",  "error", "off"};
const std::vector<std::string> kKnownKeys = {
    "listen",       "upstream", "workers",        "max_message_bytes",       "log_level",
    "catalog",      "rules",    "keys",           "catalog_refresh_seconds", "tls",
    "upstream_tls", "audit",    "upstream_reuse", "upstream_idle_seconds"};
const std::vector<std::string> kTlsKeys = {"cert", "key", "ca", "require"};
const std::vector<std::string> kUpstreamTlsKeys = {"mode", "ca", "server_name"};
const std::vector<std::string> kAuditKeys = {"path", "max_bytes", "keep", "unmasked"};

using Json = nlohmann::json;
using Errors = std::vector<std::string>;

// `where` is "FILE: /key/sub" for every helper below; errors read "WHERE: problem".
void GetPath(const Json& v, const std::string& where, std::string* out, Errors* errors) {
  if (!v.is_string() || v.get<std::string>().empty()) {
    errors->push_back(where + ": must be a non-empty string");
    return;
  }
  *out = v.get<std::string>();
}

void GetBool(const Json& v, const std::string& where, bool* out, Errors* errors) {
  if (!v.is_boolean()) {
    errors->push_back(where + ": must be true or false");
    return;
  }
  *out = v.get<bool>();
}

void ParseTls(const Json& v, const std::string& where, proxy::ClientTlsOptions* tls,
              Errors* errors) {
  if (!v.is_object()) {
    errors->push_back(where + ": must be an object such as {\"cert\": ..., \"key\": ...}");
    return;
  }
  bool require_given = false;
  for (auto& [key, value] : v.items()) {
    std::string w = where + "/" + key;
    if (key == "cert") {
      GetPath(value, w, &tls->cert, errors);
    } else if (key == "key") {
      GetPath(value, w, &tls->key, errors);
    } else if (key == "ca") {
      GetPath(value, w, &tls->ca, errors);
    } else if (key == "require") {
      GetBool(value, w, &tls->require, errors);
      require_given = true;
    } else {
      errors->push_back(w + ": unknown key" + rules::DidYouMean(key, kTlsKeys));
    }
  }
  if (tls->cert.empty() != tls->key.empty()) {
    errors->push_back(where + ": \"cert\" and \"key\" go together");
  }
  if (tls->cert.empty() && !tls->ca.empty()) {
    errors->push_back(where + ": \"ca\" (client certificates) needs \"cert\" and \"key\"");
  }
  if (tls->cert.empty() && require_given && tls->require) {
    errors->push_back(where + ": \"require\": true needs \"cert\" and \"key\"");
  }
}

void ParseUpstreamTls(const Json& v, const std::string& where, proxy::UpstreamTlsOptions* out,
                      Errors* errors) {
  auto set_mode = [&](const Json& m, const std::string& w) {
    if (!m.is_string()) {
      errors->push_back(w + ": must be \"disable\", \"require\" or \"verify-full\"");
      return;
    }
    auto mode = proxy::ParseUpstreamTlsMode(m.get<std::string>());
    if (!mode.ok()) {
      errors->push_back(w + ": " + mode.status().message());
      return;
    }
    out->mode = *mode;
  };
  if (v.is_string()) {
    set_mode(v, where);
  } else if (v.is_object()) {
    bool has_mode = false;
    for (auto& [key, value] : v.items()) {
      std::string w = where + "/" + key;
      if (key == "mode") {
        set_mode(value, w);
        has_mode = true;
      } else if (key == "ca") {
        GetPath(value, w, &out->ca, errors);
      } else if (key == "server_name") {
        GetPath(value, w, &out->server_name, errors);
      } else {
        errors->push_back(w + ": unknown key" + rules::DidYouMean(key, kUpstreamTlsKeys));
      }
    }
    if (!has_mode) errors->push_back(where + ": \"mode\" is required");
  } else {
    errors->push_back(where +
                      ": must be a mode (\"disable\", \"require\", \"verify-full\") or an "
                      "object {\"mode\": ..., \"ca\": ..., \"server_name\": ...}");
    return;
  }
  if (out->mode == proxy::UpstreamTlsMode::kVerifyFull && out->ca.empty()) {
    errors->push_back(where +
                      ": verify-full needs \"ca\", the CA file that signed the server's "
                      "certificate");
  }
  if (out->mode != proxy::UpstreamTlsMode::kVerifyFull &&
      (!out->ca.empty() || !out->server_name.empty())) {
    errors->push_back(where + ": \"ca\" and \"server_name\" are used only by verify-full");
  }
}

void ParseAudit(const Json& v, const std::string& where, AuditConfig* audit, Errors* errors) {
  if (!v.is_object()) {
    errors->push_back(where + ": must be an object such as {\"path\": \"audit.jsonl\"}");
    return;
  }
  for (auto& [key, value] : v.items()) {
    std::string w = where + "/" + key;
    if (key == "path") {
      GetPath(value, w, &audit->path, errors);
    } else if (key == "max_bytes") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() < 4096 ||
          value.get<uint64_t>() > (1ull << 40)) {
        errors->push_back(w + ": must be a whole number from 4096 to 1099511627776");
        continue;
      }
      audit->max_bytes = value.get<uint64_t>();
    } else if (key == "keep") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > 1000) {
        errors->push_back(w + ": must be a whole number from 0 to 1000");
        continue;
      }
      audit->keep = value.get<unsigned>();
    } else if (key == "unmasked") {
      GetBool(value, w, &audit->unmasked, errors);
    } else {
      errors->push_back(w + ": unknown key" + rules::DidYouMean(key, kAuditKeys));
    }
  }
  if (audit->path.empty()) errors->push_back(where + ": \"path\" is required");
}

Status ApplyLogLevel(const std::string& level, std::string* out) {
  if (!kKnownLogLevels.count(level)) {
    return InvalidArgument("invalid log level \"" + level +
                           "\": use trace, debug, info, warn, error or off");
  }
  *out = level;
  return Status::Ok();
}

}  // namespace

StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const ServeFlags& flags) {
  ServeConfig cfg;
  std::string listen = cfg.server.listen.ToString();
  std::string upstream = cfg.server.upstream.ToString();
  std::vector<std::string> errors;

  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return InvalidArgument(path + ": cannot open the configuration file");
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false,
                                             /*ignore_comments=*/true);
    if (j.is_discarded()) return InvalidArgument(path + ": not valid JSON");
    if (!j.is_object()) return InvalidArgument(path + ": the configuration must be an object");
    for (auto& [key, value] : j.items()) {
      std::string where = path + ": /" + key + ": ";
      if (key == "listen" || key == "upstream" || key == "log_level") {
        if (!value.is_string()) {
          errors.push_back(where + "must be a string");
          continue;
        }
        auto s = value.get<std::string>();
        if (key == "listen") listen = s;
        if (key == "upstream") upstream = s;
        if (key == "log_level") {
          Status st = ApplyLogLevel(s, &cfg.log_level);
          if (!st.ok()) errors.push_back(where + st.message());
        }
      } else if (key == "catalog" || key == "keys") {
        if (!value.is_string()) {
          errors.push_back(where + "must be a string");
          continue;
        }
        (key == "catalog" ? cfg.catalog : cfg.keys) = value.get<std::string>();
      } else if (key == "rules") {
        if (value.is_string()) {
          cfg.rules = {value.get<std::string>()};
        } else if (value.is_array() &&
                   std::all_of(value.begin(), value.end(), [](auto& v) { return v.is_string(); })) {
          cfg.rules = value.get<std::vector<std::string>>();
        } else {
          errors.push_back(where + "must be a path or a list of paths");
        }
      } else if (key == "tls") {
        ParseTls(value, path + ": /tls", &cfg.server.tls, &errors);
      } else if (key == "upstream_tls") {
        ParseUpstreamTls(value, path + ": /upstream_tls", &cfg.server.upstream_tls, &errors);
      } else if (key == "audit") {
        ParseAudit(value, path + ": /audit", &cfg.audit, &errors);
      } else if (key == "catalog_refresh_seconds") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 ||
            value.get<uint64_t>() > 86400) {
          errors.push_back(where + "must be a whole number from 1 to 86400");
          continue;
        }
        cfg.catalog_refresh_seconds = value.get<unsigned>();
      } else if (key == "upstream_reuse") {
        if (!value.is_boolean()) {
          errors.push_back(where + "must be true or false");
          continue;
        }
        cfg.server.upstream_reuse = value.get<bool>();
      } else if (key == "upstream_idle_seconds") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 ||
            value.get<uint64_t>() > 86400) {
          errors.push_back(where + "must be a whole number from 1 to 86400");
          continue;
        }
        cfg.server.upstream_idle_timeout = std::chrono::seconds(value.get<uint64_t>());
      } else if (key == "workers") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() > 1024) {
          errors.push_back(where + "must be a whole number from 0 (one per core) to 1024");
          continue;
        }
        cfg.server.workers = value.get<unsigned>();
      } else if (key == "max_message_bytes") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() < 1024 ||
            value.get<uint64_t>() > 0x40000000u) {
          errors.push_back(where + "must be a whole number from 1024 to 1073741824");
          continue;
        }
        cfg.server.limits.max_message_bytes = value.get<uint32_t>();
      } else {
        errors.push_back(where + "unknown key" + rules::DidYouMean(key, kKnownKeys));
      }
    }
  }

  if (flags.listen) listen = *flags.listen;
  if (flags.upstream) upstream = *flags.upstream;
  if (flags.workers) cfg.server.workers = *flags.workers;
  if (flags.upstream_reuse) cfg.server.upstream_reuse = *flags.upstream_reuse;
  if (flags.upstream_idle_seconds) {
    if (*flags.upstream_idle_seconds < 1 || *flags.upstream_idle_seconds > 86400) {
      errors.push_back("--upstream_idle_seconds: must be from 1 to 86400");
    } else {
      cfg.server.upstream_idle_timeout = std::chrono::seconds(*flags.upstream_idle_seconds);
    }
  }
  if (flags.max_message_bytes) {
    if (*flags.max_message_bytes < 1024 || *flags.max_message_bytes > 0x40000000u) {
      errors.push_back("--max_message_bytes: must be from 1024 to 1073741824");
    } else {
      cfg.server.limits.max_message_bytes = *flags.max_message_bytes;
    }
  }
  if (flags.catalog) cfg.catalog = *flags.catalog;
  if (flags.keys) cfg.keys = *flags.keys;
  if (!flags.rules.empty()) cfg.rules = flags.rules;
  // Paths in the file are relative to the file's folder.
  if (!path.empty()) {
    std::string dir =
        path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/') + 1);
    auto rel = [&](std::string& p, bool from_file) {
      if (from_file && !p.empty() && p[0] != '/') p = dir + p;
    };
    if (!flags.keys) rel(cfg.keys, true);
    if (flags.rules.empty()) {
      for (auto& r : cfg.rules) rel(r, true);
    }
    for (std::string* p : {&cfg.server.tls.cert, &cfg.server.tls.key, &cfg.server.tls.ca,
                           &cfg.server.upstream_tls.ca, &cfg.audit.path}) {
      rel(*p, true);
    }
  }
  if (!cfg.rules.empty() && cfg.catalog.empty()) {
    errors.push_back(
        "catalog: rules need a \"catalog\" connection string (a login that can read "
        "pg_catalog) to resolve their columns");
  }
  if (cfg.rules.empty() && (!cfg.catalog.empty() || !cfg.keys.empty())) {
    errors.push_back("rules: \"catalog\" and \"keys\" are set but no \"rules\" are given");
  }
  if (flags.log_level) {
    Status st = ApplyLogLevel(*flags.log_level, &cfg.log_level);
    if (!st.ok()) errors.push_back("--log_level: " + st.message());
  }
  auto l = proxy::ParseHostPort(listen, "127.0.0.1");
  if (!l.ok()) errors.push_back("listen: " + l.status().message());
  auto u = proxy::ParseHostPort(upstream, "127.0.0.1");
  if (!u.ok()) errors.push_back("upstream: " + u.status().message());

  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return InvalidArgument(all);
  }
  cfg.server.listen = *l;
  cfg.server.upstream = *u;
  return cfg;
}

}  // namespace pgveil::app
