// WireTap: a TCP relay between a client and pgveil that keeps every byte of both
// directions, connection by connection. The bypass suites put it in front of pgveil so
// that the leak scanner can read exactly what a masked client received, whatever client
// it is (libpq, psql, sqlsmith), and so that the statements a client sent can be counted.
//
// Clients must not negotiate TLS through the tap (use sslmode=disable gssencmode=disable):
// the recorded bytes would be ciphertext.
//
// Thread-safety: Start/Stop from one thread; the accessors may be called from any thread
// while connections are being relayed (they copy under a lock).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/raw_client.h"
#include "pgveil/status.h"

namespace pgveil::bypass {

struct TapConnection {
  std::string to_server;  // bytes the client sent (startup packet first)
  std::string to_client;  // bytes the client received
  bool closed = false;
};

class WireTap {
 public:
  // Listens on 127.0.0.1 (a free port) and relays each accepted connection to
  // 127.0.0.1:upstream_port.
  static StatusOr<std::unique_ptr<WireTap>> Start(int upstream_port);
  ~WireTap();
  WireTap(const WireTap&) = delete;
  WireTap& operator=(const WireTap&) = delete;

  int port() const { return port_; }
  // The number of connections accepted so far.
  size_t connection_count() const;
  // A copy of connection `i` (in accept order).
  TapConnection Connection(size_t i) const;
  // Forgets the recorded bytes of every closed connection (keeps indices stable); for
  // long campaigns that scan as they go.
  void DropClosed(size_t below);

 private:
  WireTap() = default;
  void AcceptLoop();
  void Relay(size_t index, int client_fd);

  int port_ = 0;
  int upstream_port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<TapConnection> connections_;
  std::vector<std::thread> relays_;
};

// Splits a recorded server-to-client stream into messages (type byte, body). A trailing
// partial message is left out. With `startup` set, the stream is client-to-server and
// begins with an untyped startup packet, which is skipped.
std::vector<it::BackendMessage> SplitMessages(const std::string& stream, bool startup = false);

}  // namespace pgveil::bypass
