#include "tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace pgveil::tls_test {
namespace {

std::string OpensslReason() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += r != nullptr ? r : "unknown";
  }
  return out;
}

bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

}  // namespace

StatusOr<std::unique_ptr<TlsClient>> TlsClient::Connect(int port, const TlsClientOptions& options) {
  std::unique_ptr<TlsClient> c(new TlsClient());
  c->fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Unavailable("connect");
  }
  int one = 1;
  setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!options.direct) {
    const std::string req = it::fe::SslRequest();
    if (write(c->fd_, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
      return Unavailable("write SSLRequest");
    }
    char answer = 0;
    if (!WaitReadable(c->fd_, std::chrono::seconds(10)) || read(c->fd_, &answer, 1) != 1) {
      return Unavailable("no answer to SSLRequest");
    }
    if (answer != 'S') return Unavailable(std::string("server answered ") + answer);
  }
  ERR_clear_error();
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!options.ca.empty()) {
    SSL_CTX_load_verify_locations(c->ctx_, options.ca.c_str(), nullptr);
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!options.cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(c->ctx_, options.cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(c->ctx_, options.key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return InvalidArgument("client certificate: " + OpensslReason());
  }
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_fd(c->ssl_, c->fd_);
  SSL_set_tlsext_host_name(c->ssl_, "localhost");
  if (!options.alpn.empty()) {
    std::string wire(1, static_cast<char>(options.alpn.size()));
    wire += options.alpn;
    SSL_set_alpn_protos(c->ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (SSL_connect(c->ssl_) != 1) {
    long verify = SSL_get_verify_result(c->ssl_);
    std::string reason = OpensslReason();
    if (verify != X509_V_OK)
      reason += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
    return Unavailable("TLS handshake failed: " + reason);
  }
  return c;
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

Status TlsClient::Send(std::string_view bytes) {
  if (SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) !=
      static_cast<int>(bytes.size())) {
    return Unavailable("SSL_write: " + OpensslReason());
  }
  return Status::Ok();
}

Status TlsClient::Fill(Millis timeout) {
  if (SSL_pending(ssl_) == 0 && !WaitReadable(fd_, timeout)) return Unavailable("timeout");
  char buf[16384];
  int n = SSL_read(ssl_, buf, sizeof(buf));
  if (n <= 0) {
    ERR_clear_error();
    return Unavailable("closed");
  }
  in_.append(buf, static_cast<size_t>(n));
  return Status::Ok();
}

StatusOr<it::BackendMessage> TlsClient::ReadMessage(Millis timeout) {
  for (;;) {
    if (in_.size() >= 5) {
      uint32_t len = it::be::Int32At(in_, 1);
      if (in_.size() >= len + 1u) {
        it::BackendMessage m{in_[0], in_.substr(5, len - 4)};
        in_.erase(0, len + 1);
        return m;
      }
    }
    if (Status st = Fill(timeout); !st.ok()) return st;
  }
}

StatusOr<std::vector<it::BackendMessage>> TlsClient::ReadUntil(char last, Millis timeout) {
  std::vector<it::BackendMessage> out;
  for (;;) {
    auto m = ReadMessage(timeout);
    if (!m.ok()) return m.status();
    out.push_back(*m);
    if (m->type == last) return out;
  }
}

StatusOr<std::vector<it::BackendMessage>> TlsClient::StartupTrust(const std::string& user) {
  if (Status st = Send(it::fe::Startup({{"user", user}, {"database", "pgveil_it"}})); !st.ok()) {
    return st;
  }
  auto msgs = ReadUntil('Z', std::chrono::seconds(10));
  if (!msgs.ok()) return msgs;
  for (const auto& m : *msgs) {
    if (m.type == 'E') return Unavailable("startup failed: " + it::be::Fields(m.body)['M']);
  }
  return msgs;
}

std::string TlsClient::PeerCommonName() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  X509_free(cert);
  return cn;
}

std::string TlsClient::Alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

}  // namespace pgveil::tls_test
