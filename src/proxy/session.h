// One client connection and its upstream connection. Internal to the proxy module:
// this header pulls in Asio and is included only by src/proxy/*.cc.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "pgveil/proxy/server.h"
#include "proxy/cancel_registry.h"
#include "proxy/tls_context.h"
#include "proxy/upstream_pool.h"

namespace pgveil::proxy {

// State shared by every session of one server. Immutable once the server runs, except
// the registry and the counters, which are thread-safe.
struct SessionShared {
  ServerOptions options;
  std::vector<asio::ip::tcp::endpoint> upstream;  // resolved once at start
  CancelRegistry cancels;
  std::shared_ptr<TlsManager> tls;  // never null once the server has bound
  std::atomic<size_t> active{0};
  // Runs PolicyProvider::ForLogin, which may block on the catalog connection, away from
  // the workers' event loops; null without a policy provider.
  std::unique_ptr<asio::thread_pool> blocking;
  // Idle upstream connections for reuse; null unless options.upstream_reuse.
  std::unique_ptr<UpstreamPool> upstream_pool;
  std::atomic<uint64_t> next_id{1};
};

// Serves one client until either side goes away. Never throws.
asio::awaitable<void> ServeClient(asio::ip::tcp::socket client,
                                  std::shared_ptr<SessionShared> shared);

}  // namespace pgveil::proxy
