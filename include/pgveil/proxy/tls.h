// TLS settings of the two legs of a pgveil session.
//
// Client leg (pgveil is the TLS server): with a certificate configured, an SSLRequest is
// answered `S` and the handshake follows; a PostgreSQL 17 client may also open with a
// TLS ClientHello directly (`sslnegotiation=direct`), which must carry the ALPN protocol
// "postgresql". Plaintext StartupMessages are refused unless `require` is false. A
// plaintext CancelRequest is always accepted: libpq before version 17 never encrypts
// cancels, and a cancel key authorizes nothing but a cancel.
//
// Upstream leg (pgveil is the TLS client): `disable` speaks plaintext; `require` sends
// an SSLRequest and fails the session when the server answers `N` (never a silent
// downgrade) but does not check the certificate; `verify-full` also checks the chain
// against `ca` and the certificate's names against `server_name` (the upstream host
// when empty; an IP address is matched against IP SANs).
//
// Channel binding: TLS ends at pgveil on both legs, so SCRAM-SHA-256-PLUS cannot work
// through it (the client would bind to pgveil's certificate, the server checks its
// own). pgveil removes every "-PLUS" mechanism from the server's AuthenticationSASL
// before the client sees it; libpq with channel_binding=prefer then uses SCRAM-SHA-256,
// and channel_binding=require fails at once with libpq's own error.
//
// Files are read when the server binds and again on every reload (SIGHUP); a reload
// that fails keeps the previous certificates. Plain data: copy freely.
#pragma once

#include <string>
#include <string_view>

#include "pgveil/status.h"

namespace pgveil::proxy {

struct ClientTlsOptions {
  std::string cert;     // PEM certificate chain; empty: no TLS towards clients
  std::string key;      // PEM private key of `cert`
  std::string ca;       // PEM roots; when set, clients must present a certificate they sign
  bool require = true;  // with `cert`: refuse plaintext sessions (false: allow, logged)

  bool enabled() const { return !cert.empty(); }
};

enum class UpstreamTlsMode { kDisable, kRequire, kVerifyFull };

// "disable", "require", "verify-full".
std::string_view UpstreamTlsModeName(UpstreamTlsMode mode);
StatusOr<UpstreamTlsMode> ParseUpstreamTlsMode(std::string_view name);

struct UpstreamTlsOptions {
  UpstreamTlsMode mode = UpstreamTlsMode::kDisable;
  std::string ca;           // verify-full: PEM roots the server's chain must lead to
  std::string server_name;  // verify-full: the name checked; empty: the upstream host

  bool enabled() const { return mode != UpstreamTlsMode::kDisable; }
};

}  // namespace pgveil::proxy
