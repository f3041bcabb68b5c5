#include "proxy/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "pgveil/wire/frame.h"
#include "proxy/tls_context.h"

namespace pgveil::proxy {

using namespace asio::experimental::awaitable_operators;

void Stream::StartTls(std::shared_ptr<asio::ssl::context> ctx) {
  ctx_ = std::move(ctx);
  tls_ = std::make_unique<asio::ssl::stream<drained::Socket>>(drained::Socket(std::move(socket_)),
                                                              *ctx_);
}

asio::awaitable<Status> Stream::Handshake(asio::ssl::stream_base::handshake_type type) {
  ERR_clear_error();
  auto [ec] = co_await tls_->async_handshake(type, kNoThrow);
  if (!ec) co_return Status::Ok();
  std::string reason = ec.message();
  long verify = SSL_get_verify_result(tls_->native_handle());
  if (verify != X509_V_OK) {
    reason += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
  }
  ERR_clear_error();
  co_return Unavailable(reason);
}

asio::awaitable<void> Stream::ShutdownTls(std::chrono::milliseconds limit) {
  if (!tls_ || !socket().is_open()) co_return;
  asio::steady_timer timer(get_executor(), limit);
  co_await (tls_->async_shutdown(kNoThrow) || timer.async_wait(kNoThrow));
}

bool Stream::SetBatching(int low_water) {
  if (tls_ || !socket_.is_open()) return false;
  const int bytes = std::max(low_water, 1);
  if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) != 0) {
    return false;
  }
  batching_ = low_water > 0;
  batch_full_ = false;
  return true;
}

Stream::Result Stream::ReadSomeBatched(asio::mutable_buffer buffer,
                                       std::chrono::microseconds wait) {
  asio::error_code ec;
  if (!user_non_blocking_) {
    socket_.non_blocking(true, ec);
    if (ec) co_return std::tuple(ec, size_t{0});
    user_non_blocking_ = true;
  }
  if (!batch_timer_) batch_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  bool wait_first = !batch_full_;
  for (;;) {
    if (wait_first) {
      // Readable means `low_water` bytes are queued; the timer bounds the wait for a
      // slow producer and for the last bytes of the stream, which never reach it.
      batch_timer_->expires_after(wait);
      co_await (socket_.async_wait(asio::socket_base::wait_read, kNoThrow) ||
                batch_timer_->async_wait(kNoThrow));
      if ((co_await asio::this_coro::cancellation_state).cancelled() !=
          asio::cancellation_type::none) {
        co_return std::tuple(asio::error_code(asio::error::operation_aborted), size_t{0});
      }
    }
    const size_t n = socket_.receive(buffer, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
      if (wait_first) {
        // Nothing came for a whole wait: the stream has stalled (a slow query, a lock).
        // Waking on the timer until it resumes would cost a wake-up per `wait`: a plain
        // read waits for its first byte instead, and the caller batches again after it.
        SetBatching(0);
        co_return co_await ReadSome(buffer);
      }
      wait_first = true;
      continue;
    }
    batch_full_ = !ec && n == buffer.size();
    co_return std::tuple(ec, n);
  }
}

std::string Stream::Describe() {
  if (!tls_) return "off";
  SSL* ssl = tls_->native_handle();
  return std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
}

asio::awaitable<Status> AcceptClientTls(Stream& client, std::shared_ptr<asio::ssl::context> ctx,
                                        bool direct) {
  client.StartTls(std::move(ctx));
  Status st = co_await client.Handshake(asio::ssl::stream_base::server);
  if (!st.ok()) co_return st;
  if (direct) {
    const unsigned char* alpn = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(client.ssl(), &alpn, &len);
    if (len != 10 || std::memcmp(alpn, "postgresql", 10) != 0) {
      co_return ProtocolError(
          "direct TLS connection without ALPN protocol \"postgresql\" (use "
          "sslnegotiation=direct with a PostgreSQL 17 or later client)");
    }
  }
  co_return Status::Ok();
}

asio::awaitable<Status> ConnectUpstreamTls(Stream& server, std::shared_ptr<asio::ssl::context> ctx,
                                           const UpstreamTlsOptions& options,
                                           const std::string& verify_name) {
  unsigned char request[8];
  auto put32 = [](unsigned char* p, uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
  };
  put32(request, 8);
  put32(request + 4, wire::kSslRequestCode);
  auto [wec, wn] = co_await server.Write(asio::buffer(request));
  (void)wn;
  if (wec) co_return Unavailable("sending SSLRequest: " + wec.message());
  // Exactly one byte: anything the server sent after it belongs to the handshake (and
  // bytes injected before the handshake make it fail, CVE-2021-23222).
  char answer = 0;
  auto [rec, rn] =
      co_await asio::async_read(server.socket(), asio::buffer(&answer, 1), Stream::kNoThrow);
  (void)rn;
  if (rec) co_return Unavailable("reading the answer to SSLRequest: " + rec.message());
  if (answer == 'N') {
    co_return Unavailable("the database server does not accept TLS connections (upstream_tls is " +
                          std::string(UpstreamTlsModeName(options.mode)) +
                          "; pgveil never falls back to plaintext)");
  }
  if (answer != 'S') co_return ProtocolError("unexpected answer to SSLRequest");
  server.StartTls(std::move(ctx));
  Status st = ConfigureUpstreamSsl(server.ssl(), options, verify_name);
  if (!st.ok()) co_return st;
  co_return co_await server.Handshake(asio::ssl::stream_base::client);
}

}  // namespace pgveil::proxy
