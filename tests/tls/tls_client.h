// A minimal PostgreSQL frontend over TLS for tests that need what libpq 15 cannot do:
// direct TLS (`sslnegotiation=direct`, ALPN), a CancelRequest over TLS, a look at the
// certificate pgveil presents, bytes sent at exact moments. Built on OpenSSL and on
// the harness's own frame encoders (tests/integration/harness/raw_client.h), sharing no
// code with pgveil. Blocking; used from one thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/raw_client.h"
#include "pgveil/status.h"

namespace pgveil::tls_test {

struct TlsClientOptions {
  bool direct = false;    // ClientHello first (no SSLRequest)
  std::string alpn;       // "" offers no ALPN
  std::string ca;         // verify the chain against this CA; "" verifies nothing
  std::string cert, key;  // client certificate
};

class TlsClient {
 public:
  using Millis = std::chrono::milliseconds;

  // Connects to 127.0.0.1:port and completes the TLS handshake. The error says why it
  // failed: "server answered N", the OpenSSL reason, or the verification error
  // ("certificate has expired").
  static StatusOr<std::unique_ptr<TlsClient>> Connect(int port, const TlsClientOptions& options);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  Status Send(std::string_view bytes);
  // kUnavailable("closed") when the peer closed.
  StatusOr<it::BackendMessage> ReadMessage(Millis timeout);
  StatusOr<std::vector<it::BackendMessage>> ReadUntil(char last, Millis timeout);
  // Trust startup as `user` into pgveil_it; messages up to ReadyForQuery.
  StatusOr<std::vector<it::BackendMessage>> StartupTrust(const std::string& user);

  // The subject CN of the certificate the server presented.
  std::string PeerCommonName() const;
  std::string Alpn() const;

 private:
  TlsClient() = default;
  Status Fill(Millis timeout);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string in_;
};

}  // namespace pgveil::tls_test
