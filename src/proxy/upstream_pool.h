// Idle upstream connections kept for reuse (ServerOptions::upstream_reuse). Internal to
// the proxy module; included by session.cc only.
//
// A connection enters the pool when its client ended the session cleanly (Terminate,
// outside a transaction) and `DISCARD ALL` succeeded on it. It leaves it for a new client
// whose StartupMessage is byte-for-byte the same, and only after the server has
// authenticated that client on a fresh connection of its own: a reused backend never
// lets anybody skip authentication. What a pooled backend would otherwise carry over
// (temporary tables, prepared statements, settings, LISTEN, advisory locks, SET ROLE)
// is what DISCARD ALL removes.
//
// Plaintext connections are kept as bare sockets, detached from any event loop, and are
// reused on whichever worker the next client lands. A TLS connection's state belongs to
// the event loop (worker) that made it: it is reused by a client on that worker only and
// closed there. Thread-safe.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "proxy/tls_stream.h"

namespace pgveil::proxy {

struct PooledUpstream {
  std::unique_ptr<Stream> stream;
  int32_t backend_pid = 0;
  std::string backend_key;  // BackendKeyData's secret, for CancelRequest
};

class UpstreamPool {
 public:
  static constexpr size_t kMaxConnections = 256;  // per pool

  explicit UpstreamPool(std::chrono::milliseconds max_idle) : max_idle_(max_idle) {}
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // The most recently kept connection for `key` that is still usable (idle for less than
  // max_idle, and with nothing to read: a backend that was terminated or sent anything
  // while idle is closed instead), registered with `ex`'s event loop.
  std::optional<PooledUpstream> Take(const std::string& key, const asio::any_io_executor& ex);

  // Keeps `p` for `key`; `ex` is the event loop its stream runs on. The oldest
  // connection goes when the pool is full; connections idle for max_idle are closed by a
  // timer.
  void Put(const std::string& key, PooledUpstream p, const asio::any_io_executor& ex);

  size_t size() const;

 private:
  struct Item {
    std::string key;
    int fd = -1;  // plaintext: the bare socket
    bool v6 = false;
    std::unique_ptr<Stream> tls;  // TLS: the stream, bound to `loop`
    asio::any_io_executor loop;
    int32_t backend_pid = 0;
    std::string backend_key;
    std::chrono::steady_clock::time_point idle_since;
  };

  void PruneLocked(std::chrono::steady_clock::time_point now);
  void ArmTimerLocked(const asio::any_io_executor& ex);
  // TLS streams are closed on their own loop, unless `here` (no loop runs any more).
  static void CloseItem(Item& item, bool here = false);

  const std::chrono::milliseconds max_idle_;
  mutable std::mutex mu_;
  std::deque<Item> items_;  // oldest first
  std::unique_ptr<asio::steady_timer> timer_;
  bool timer_armed_ = false;
};

}  // namespace pgveil::proxy
