// The OpenSSL contexts of one server, built from the configured files. Internal to the
// proxy module (pulls in Asio's SSL support).
#pragma once

#include <asio/ssl.hpp>
#include <memory>
#include <mutex>
#include <string>

#include "pgveil/proxy/tls.h"
#include "pgveil/status.h"

namespace pgveil::proxy {

// One generation of contexts. A session takes the current one when it starts and holds
// it (shared_ptr) for its whole life, so a reload never changes a live connection.
struct TlsContexts {
  std::shared_ptr<asio::ssl::context> client_leg;    // null: no TLS towards clients
  std::shared_ptr<asio::ssl::context> upstream_leg;  // null: upstream_tls is disable
};

// Client leg: certificate, key (checked against each other), optional client CA (then
// a client certificate is required), TLS 1.2 or later, no renegotiation, ALPN
// "postgresql" selected when offered (a ClientHello offering only other protocols is
// refused).
StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientLegContext(const ClientTlsOptions& options);

// Upstream leg: TLS 1.2 or later; verify-full loads `ca` and verifies the peer (the name
// is set per connection, see ConfigureUpstreamSsl).
StatusOr<std::shared_ptr<asio::ssl::context>> MakeUpstreamContext(
    const UpstreamTlsOptions& options);

// Per connection on the upstream leg: SNI (for DNS names) and, for verify-full, the
// name or IP address the certificate must carry.
Status ConfigureUpstreamSsl(SSL* ssl, const UpstreamTlsOptions& options, const std::string& name);

// The contexts of a running server and their reload. Thread-safe.
class TlsManager {
 public:
  TlsManager(ClientTlsOptions client, UpstreamTlsOptions upstream, std::string upstream_host)
      : client_(std::move(client)),
        upstream_(std::move(upstream)),
        verify_name_(upstream_.server_name.empty() ? std::move(upstream_host)
                                                   : upstream_.server_name) {}

  // Builds both contexts from the files; on error the current ones stay.
  Status Load();
  std::shared_ptr<const TlsContexts> Current() const;

  const ClientTlsOptions& client() const { return client_; }
  const UpstreamTlsOptions& upstream() const { return upstream_; }
  // The name the upstream certificate is checked against.
  const std::string& verify_name() const { return verify_name_; }

 private:
  const ClientTlsOptions client_;
  const UpstreamTlsOptions upstream_;
  const std::string verify_name_;
  mutable std::mutex mu_;
  std::shared_ptr<const TlsContexts> current_ = std::make_shared<TlsContexts>();
};

// The OpenSSL error queue as one line (and cleared), for logs. Never holds key material.
std::string TakeOpenSslErrors();

}  // namespace pgveil::proxy
