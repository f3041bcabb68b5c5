#include "proxy/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstring>

namespace pgveil::proxy {
namespace {

constexpr unsigned char kAlpnPostgres[] = "postgresql";
constexpr size_t kAlpnPostgresLen = sizeof(kAlpnPostgres) - 1;

// Chooses "postgresql" from the client's ALPN list. A client that offers ALPN but not
// this protocol is talking about something else: refuse the handshake, as PostgreSQL 17
// does.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == kAlpnPostgresLen && std::memcmp(in + i + 1, kAlpnPostgres, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

Status FileError(const std::string& what, const std::string& path, const asio::error_code& ec) {
  std::string detail = TakeOpenSslErrors();
  if (detail.empty()) detail = ec.message();
  return InvalidArgument(what + " \"" + path + "\": " + detail);
}

// Key files must not be readable by everyone (PostgreSQL applies the same rule).
Status CheckKeyFileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return InvalidArgument("tls.key \"" + path + "\": " + std::strerror(errno));
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    return InvalidArgument("tls.key \"" + path +
                           "\": the private key is accessible to other users; chmod 600 it");
  }
  return Status::Ok();
}

void Harden(asio::ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Asio moves bytes between its own buffers and OpenSSL: partial writes are fine.
  // SSL_MODE_RELEASE_BUFFERS is left off on purpose: it frees the record buffers after
  // every exchange, which costs an allocation per query in a request/response relay.
  SSL_CTX_set_mode(native, SSL_MODE_ENABLE_PARTIAL_WRITE);
}

}  // namespace

std::string_view UpstreamTlsModeName(UpstreamTlsMode mode) {
  switch (mode) {
    case UpstreamTlsMode::kDisable:
      return "disable";
    case UpstreamTlsMode::kRequire:
      return "require";
    case UpstreamTlsMode::kVerifyFull:
      return "verify-full";
  }
  return "?";
}

StatusOr<UpstreamTlsMode> ParseUpstreamTlsMode(std::string_view name) {
  if (name == "disable") return UpstreamTlsMode::kDisable;
  if (name == "require") return UpstreamTlsMode::kRequire;
  if (name == "verify-full") return UpstreamTlsMode::kVerifyFull;
  return InvalidArgument("invalid upstream TLS mode \"" + std::string(name) +
                         "\": use disable, require or verify-full");
}

std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : buf;
  }
  return out;
}

StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientLegContext(
    const ClientTlsOptions& options) {
  ERR_clear_error();
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  Harden(*ctx);
  asio::error_code ec;
  ctx->use_certificate_chain_file(options.cert, ec);
  if (ec) return FileError("tls.cert: cannot load the certificate chain", options.cert, ec);
  if (Status st = CheckKeyFileMode(options.key); !st.ok()) return st;
  ctx->use_private_key_file(options.key, asio::ssl::context::pem, ec);
  // Asio takes the error off OpenSSL's queue into the error code.
  if (ec && ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    TakeOpenSslErrors();
    return InvalidArgument("tls.key \"" + options.key + "\" does not match tls.cert \"" +
                           options.cert + "\"");
  }
  if (ec) return FileError("tls.key: cannot load the private key", options.key, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    TakeOpenSslErrors();
    return InvalidArgument("tls.key \"" + options.key + "\" does not match tls.cert \"" +
                           options.cert + "\"");
  }
  if (!options.ca.empty()) {
    ctx->load_verify_file(options.ca, ec);
    if (ec) return FileError("tls.ca: cannot load", options.ca, ec);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca.c_str());
    if (names == nullptr) return FileError("tls.ca: no CA names in", options.ca, ec);
    SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), SelectAlpn, nullptr);
  // Session tickets would need key rotation of their own; sessions are long-lived.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  return ctx;
}

StatusOr<std::shared_ptr<asio::ssl::context>> MakeUpstreamContext(
    const UpstreamTlsOptions& options) {
  ERR_clear_error();
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  Harden(*ctx);
  if (options.mode == UpstreamTlsMode::kVerifyFull) {
    asio::error_code ec;
    ctx->load_verify_file(options.ca, ec);
    if (ec) return FileError("upstream_tls.ca: cannot load", options.ca, ec);
    ctx->set_verify_mode(asio::ssl::verify_peer);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none);
  }
  return ctx;
}

Status ConfigureUpstreamSsl(SSL* ssl, const UpstreamTlsOptions& options, const std::string& name) {
  asio::error_code ec;
  asio::ip::make_address(name, ec);
  const bool is_ip = !ec;
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return Internal("cannot set the TLS server name: " + TakeOpenSslErrors());
  }
  if (options.mode != UpstreamTlsMode::kVerifyFull) return Status::Ok();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (ok != 1) return Internal("cannot set the name to verify: " + TakeOpenSslErrors());
  return Status::Ok();
}

Status TlsManager::Load() {
  auto next = std::make_shared<TlsContexts>();
  if (client_.enabled()) {
    auto ctx = MakeClientLegContext(client_);
    if (!ctx.ok()) return ctx.status();
    next->client_leg = *ctx;
  }
  if (upstream_.enabled()) {
    auto ctx = MakeUpstreamContext(upstream_);
    if (!ctx.ok()) return ctx.status();
    next->upstream_leg = *ctx;
  }
  std::lock_guard lock(mu_);
  current_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const TlsContexts> TlsManager::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace pgveil::proxy
