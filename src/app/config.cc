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
    "listen",  "upstream", "workers", "max_message_bytes",      "log_level",
    "catalog", "rules",    "keys",    "catalog_refresh_seconds"};

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
      } else if (key == "catalog_refresh_seconds") {
        if (!value.is_number_unsigned() || value.get<uint64_t>() < 1 ||
            value.get<uint64_t>() > 86400) {
          errors.push_back(where + "must be a whole number from 1 to 86400");
          continue;
        }
        cfg.catalog_refresh_seconds = value.get<unsigned>();
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
