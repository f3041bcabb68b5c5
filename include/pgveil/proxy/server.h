// The pgveil listener: accepts clients, gives each its own upstream connection, and
// relays the PostgreSQL protocol between them.
//
// Threading: `workers` threads, each running its own event loop; a session (client
// connection + upstream connection) lives on exactly one of them. Run() blocks until the
// server has shut down; Shutdown() may be called from any thread or a signal handler's
// loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pgveil/proxy/tls.h"
#include "pgveil/status.h"
#include "pgveil/wire/frame.h"

namespace pgveil::audit {
class AuditLog;
}

namespace pgveil::proxy {

class PolicyProvider;

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};

// Parses "HOST:PORT", "[v6]:PORT" or ":PORT"/"PORT" (host defaults to `default_host`).
StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view default_host);

struct ServerOptions {
  HostPort listen{"127.0.0.1", 6432};
  HostPort upstream{"127.0.0.1", 5432};
  unsigned workers = 0;  // 0: one per hardware thread
  wire::Limits limits;
  // Time a client has to send its startup packet, and pgveil has to reach the server.
  std::chrono::milliseconds startup_timeout{60000};
  std::chrono::milliseconds connect_timeout{10000};
  // Keep a client's upstream connection after a clean end (Terminate outside a
  // transaction), reset it with DISCARD ALL and give it to the next client with the same
  // StartupMessage once the server has authenticated that client on a fresh connection
  // (which is then closed). Off by default: one upstream connection per client, opened
  // for it and closed with it. Idle kept connections close after upstream_idle_timeout.
  bool upstream_reuse = false;
  std::chrono::milliseconds upstream_idle_timeout{60000};
  // On SIGTERM/SIGINT: stop accepting, then wait this long for sessions to end.
  std::chrono::milliseconds shutdown_grace{30000};
  // Handle SIGTERM/SIGINT in Run() (the executable does; tests that embed the server
  // may not want to).
  bool handle_signals = true;
  // Masking policies; null relays every session unmasked.
  std::shared_ptr<PolicyProvider> policies;
  // Called on SIGHUP (on the listener's thread) when handle_signals is set, after the
  // TLS certificates and keys have been reloaded.
  std::function<void()> on_reload;
  // The audit log: one record per statement of a masked session (nullptr: none).
  std::shared_ptr<audit::AuditLog> audit;
  // TLS towards clients and towards the server (see pgveil/proxy/tls.h).
  ClientTlsOptions tls;
  UpstreamTlsOptions upstream_tls;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS certificates and keys, then binds the listening socket. After
  // success, port() is the bound port (useful when the configured port is 0).
  Status Bind();

  // Reads the TLS certificate, key and CA files again. New sessions use them; sessions
  // already open keep what they started with. On error the previous ones stay in use.
  // Thread-safe; also done on SIGHUP.
  Status ReloadTls();
  uint16_t port() const;

  // Serves until Shutdown() (or a signal) and the grace period are over.
  Status Run();

  // Starts a graceful shutdown. Thread-safe.
  void Shutdown();

  // Sessions currently open. Thread-safe.
  size_t active_sessions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::proxy
