// A session's connection to one peer: a TCP socket that may be switched to TLS once,
// after the PostgreSQL negotiation. Internal to the proxy module.
//
// The relay loops call ReadSome/Write on every chunk. For a plaintext connection they
// are socket operations behind one predictable branch: no extra coroutine frame, no
// extra allocation, no extra copy. Both kinds return the same awaitable type, so the
// loops are written once. A plaintext read skips the recv() that would only find the
// socket empty (drained_read.h), and SendNow lets a writer hand bytes to the kernel
// without suspending: together they bring a relayed round trip down to the
// epoll_wait, recv and send of each direction.
//
// Like the sockets it wraps, a Stream is used from its session's thread only; one read
// and one write may be in flight at the same time (Asio's SSL stream allows that).
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>

#include "pgveil/proxy/tls.h"
#include "pgveil/status.h"
#include "proxy/drained_read.h"

namespace pgveil::proxy {

class Stream {
 public:
  using Result = asio::awaitable<std::tuple<asio::error_code, size_t>>;
  static constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

  explicit Stream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  explicit Stream(const asio::any_io_executor& ex) : socket_(ex) {}

  asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer().socket() : socket_; }
  asio::any_io_executor get_executor() { return socket().get_executor(); }
  bool is_open() { return socket().is_open(); }
  void close(asio::error_code& ec) { socket().close(ec); }

  Result ReadSome(asio::mutable_buffer buffer) {
    if (tls_) return tls_->async_read_some(buffer, kNoThrow);
    if (reactor_ == nullptr) reactor_ = &drained::ReactorOf(socket_);
    return drained::AsyncReadSome(socket_, *reactor_, buffer, kNoThrow);
  }
  // Plaintext: sends what the kernel takes right now, without waiting, and advances
  // `buffer` past it; a hard error is left in `ec`. TLS: sends nothing. Whatever is left
  // goes through Write. The caller must hold the connection's write turn (no Write in
  // flight), or the bytes would overtake it.
  void SendNow(asio::const_buffer& buffer, asio::error_code& ec) {
    if (tls_ || buffer.size() == 0) return;
    if (!user_non_blocking_) {
      socket_.non_blocking(true, ec);
      if (ec) return;
      user_non_blocking_ = true;
    }
    size_t n = socket_.send(buffer, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    buffer += n;
  }
  // Batched reads, for a long stream of data from the peer (plaintext only: with TLS,
  // SetBatching does nothing and returns false). While on, the kernel wakes the reader
  // only once `low_water` bytes are queued (SO_RCVLOWAT), and ReadSomeBatched waits at
  // most `wait` for that before taking whatever has come. 0 turns it off. A read that
  // finds nothing at all after its wait turns batching off and waits for the first byte.
  bool SetBatching(int low_water);
  bool batching() const { return batching_; }
  Result ReadSomeBatched(asio::mutable_buffer buffer, std::chrono::microseconds wait);
  Result Write(asio::const_buffer buffer) {
    if (tls_) return asio::async_write(*tls_, buffer, kNoThrow);
    return asio::async_write(socket_, buffer, kNoThrow);
  }

  // Moves the socket under a TLS stream using `ctx` (kept alive as long as the stream).
  // Call once, with no operation in flight; then Handshake().
  void StartTls(std::shared_ptr<asio::ssl::context> ctx);
  bool tls() const { return tls_ != nullptr; }
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }

  // The TLS handshake; the error names OpenSSL's reason (never key material).
  asio::awaitable<Status> Handshake(asio::ssl::stream_base::handshake_type type);

  // Sends close_notify and waits at most `limit` for the peer's; plaintext: nothing.
  asio::awaitable<void> ShutdownTls(std::chrono::milliseconds limit);

  // "TLSv1.3 TLS_AES_256_GCM_SHA384", or "off".
  std::string Describe();

 private:
  asio::ip::tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<asio::ssl::stream<drained::Socket>> tls_;
  asio::detail::reactor* reactor_ = nullptr;  // the socket's, found at the first read
  bool user_non_blocking_ = false;
  bool batching_ = false;
  bool batch_full_ = false;  // the last batched read filled its buffer: more is queued
  std::unique_ptr<asio::steady_timer> batch_timer_;
};

// Client leg, after `S` (or on a direct ClientHello): handshake as the server. A direct
// connection must have negotiated ALPN "postgresql".
asio::awaitable<Status> AcceptClientTls(Stream& client, std::shared_ptr<asio::ssl::context> ctx,
                                        bool direct);

// Upstream leg, on a freshly connected socket: SSLRequest, the one-byte answer, then the
// handshake with the name checks of `options`. The server answering `N` is an error:
// pgveil never falls back to plaintext when TLS is configured.
asio::awaitable<Status> ConnectUpstreamTls(Stream& server, std::shared_ptr<asio::ssl::context> ctx,
                                           const UpstreamTlsOptions& options,
                                           const std::string& verify_name);

}  // namespace pgveil::proxy
