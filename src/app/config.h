// The `serve` configuration: a JSON file, overridden by command-line flags.
// Unknown keys are an error (a misspelt key must never be silently ignored).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pgveil/proxy/server.h"
#include "pgveil/status.h"

namespace pgveil::app {

struct ServeConfig {
  proxy::ServerOptions server;
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  // Masking: all three together, or none (a plain relay).
  std::string catalog;             // libpq conninfo of the catalog side connection
  std::vector<std::string> rules;  // rules files or directories
  std::string keys;                // key file
  unsigned catalog_refresh_seconds = 60;
};

// Settings given on the command line; unset ones leave the file's (or the default) value.
struct ServeFlags {
  std::optional<std::string> listen, upstream, log_level;
  std::optional<unsigned> workers;
  std::optional<uint32_t> max_message_bytes;
  std::optional<std::string> catalog, keys;
  std::vector<std::string> rules;  // replaces the file's list when not empty
};

// Reads `path` (may be empty: defaults only) and applies `flags` on top. Errors name the
// file and the key, e.g. `pgveil.json: /upstrem: unknown key (did you mean "upstream"?)`.
StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const ServeFlags& flags);

}  // namespace pgveil::app
