// The `serve` configuration: a JSON file, overridden by command-line flags.
// Unknown keys are an error (a misspelt key must never be silently ignored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgveil/proxy/server.h"
#include "pgveil/status.h"

namespace pgveil::app {

// The audit log (written by a later change; parsed and validated now).
struct AuditConfig {
  std::string path;                  // JSON-lines file; empty: no audit log
  uint64_t max_bytes = 64ull << 20;  // rotate when the file reaches this size
  unsigned keep = 5;                 // rotated files kept
  bool unmasked = false;             // also audit unmasked sessions
  bool enabled() const { return !path.empty(); }
};

// Keys of the file:
//   "tls": {"cert": PATH, "key": PATH, "ca": PATH, "require": BOOL}   client leg
//   "upstream_tls": "disable" | "require" | "verify-full"
//                 | {"mode": MODE, "ca": PATH, "server_name": NAME}    upstream leg
//   "audit": {"path": PATH, "max_bytes": N, "keep": N, "unmasked": BOOL}
// Relative paths are relative to the file's folder.
struct ServeConfig {
  proxy::ServerOptions server;
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  // Masking: all three together, or none (a plain relay).
  std::string catalog;             // libpq conninfo of the catalog side connection
  std::vector<std::string> rules;  // rules files or directories
  std::string keys;                // key file
  unsigned catalog_refresh_seconds = 60;
  AuditConfig audit;
  // TLS settings are in server.tls and server.upstream_tls.
};

// Settings given on the command line; unset ones leave the file's (or the default) value.
struct ServeFlags {
  std::optional<std::string> listen, upstream, log_level;
  std::optional<unsigned> workers;
  std::optional<uint32_t> max_message_bytes;
  std::optional<bool> upstream_reuse;
  std::optional<unsigned> upstream_idle_seconds;
  std::optional<std::string> catalog, keys;
  std::vector<std::string> rules;  // replaces the file's list when not empty
};

// Reads `path` (may be empty: defaults only) and applies `flags` on top. Errors name the
// file and the key, e.g. `pgveil.json: /upstrem: unknown key (did you mean "upstream"?)`.
StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const ServeFlags& flags);

}  // namespace pgveil::app
