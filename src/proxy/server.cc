#include "pgveil/proxy/server.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <charconv>
#include <thread>

#include "proxy/session.h"

namespace pgveil::proxy {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

StatusOr<HostPort> ParseHostPort(std::string_view text, std::string_view default_host) {
  HostPort hp;
  std::string_view port_text = text;
  size_t colon = text.rfind(':');
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument("invalid address \"" + std::string(text) + "\": expected [IPv6]:PORT");
    }
    hp.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else if (colon != std::string_view::npos) {
    if (text.find(':') != colon) {
      return InvalidArgument("invalid address \"" + std::string(text) +
                             "\": write IPv6 addresses as [ADDRESS]:PORT");
    }
    hp.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (hp.host.empty()) hp.host = std::string(default_host);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return InvalidArgument("invalid port in \"" + std::string(text) +
                           "\": expected a number from 0 to 65535");
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

struct Server::Impl {
  explicit Impl(ServerOptions o) : acceptor(main_ctx), signals(main_ctx), grace(main_ctx) {
    shared = std::make_shared<SessionShared>();
    shared->options = std::move(o);
    unsigned n = shared->options.workers;
    if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
    shared->options.workers = n;
    if (shared->options.policies) shared->blocking = std::make_unique<asio::thread_pool>(2);
    if (shared->options.upstream_reuse) {
      shared->upstream_pool = std::make_unique<UpstreamPool>(shared->options.upstream_idle_timeout);
    }
    for (unsigned i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<asio::io_context>(1));
    }
  }

  asio::awaitable<void> AcceptLoop() {
    size_t next = 0;
    for (;;) {
      auto& ctx = *workers[next++ % workers.size()];
      auto [ec, socket] = co_await acceptor.async_accept(
          ctx.get_executor(), asio::experimental::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: log, breathe, carry on serving.
        spdlog::warn("event=accept_failed reason=\"{}\"", ec.message());
        asio::steady_timer t(main_ctx, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        continue;
      }
      asio::co_spawn(ctx, ServeClient(std::move(socket), shared), asio::detached);
    }
  }

  void WaitForSignal() {
    signals.async_wait([this](const asio::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        spdlog::info("event=signal signal=SIGHUP");
        (void)ReloadTls();  // logged; the previous certificates stay
        if (shared->options.on_reload) shared->options.on_reload();
        WaitForSignal();
        return;
      }
      spdlog::info("event=signal signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
      BeginShutdown();
    });
  }

  Status ReloadTls() {
    if (!shared->tls) return Status::Ok();
    const auto& o = shared->options;
    if (!o.tls.enabled() && !o.upstream_tls.enabled()) return Status::Ok();
    Status st = shared->tls->Load();
    if (st.ok()) {
      spdlog::info("event=tls_reloaded");
    } else {
      spdlog::error(
          "event=tls_reload_failed reason=\"{}\" detail=\"keeping the previous "
          "certificates\"",
          st.message());
    }
    return st;
  }

  void BeginShutdown() {
    if (stopping) return;
    stopping = true;
    asio::error_code ec;
    acceptor.close(ec);
    spdlog::info("event=shutdown_begin active_sessions={} grace_ms={}", shared->active.load(),
                 shared->options.shutdown_grace.count());
    deadline = std::chrono::steady_clock::now() + shared->options.shutdown_grace;
    PollShutdown();
  }

  void PollShutdown() {
    if (shared->active.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (shared->active.load() > 0) {
        spdlog::warn("event=shutdown_forced active_sessions={}", shared->active.load());
      }
      for (auto& w : workers) w->stop();
      main_ctx.stop();
      return;
    }
    grace.expires_after(std::chrono::milliseconds(50));
    grace.async_wait([this](const asio::error_code& ec) {
      if (!ec) PollShutdown();
    });
  }

  std::shared_ptr<SessionShared> shared;
  // Destroyed after main_ctx: an accept still pending there at exit holds a socket of
  // one of the workers.
  std::vector<std::unique_ptr<asio::io_context>> workers;
  asio::io_context main_ctx{1};
  asio::ip::tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer grace;
  bool stopping = false;
  std::chrono::steady_clock::time_point deadline;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() = default;

Status Server::Bind() {
  auto& opt = impl_->shared->options;
  if (!opt.tls.enabled() && (!opt.tls.key.empty() || !opt.tls.ca.empty())) {
    return InvalidArgument("tls.key and tls.ca need tls.cert");
  }
  if (opt.tls.enabled() && opt.tls.key.empty()) return InvalidArgument("tls.cert needs tls.key");
  if (opt.upstream_tls.mode == UpstreamTlsMode::kVerifyFull && opt.upstream_tls.ca.empty()) {
    return InvalidArgument("upstream_tls verify-full needs a CA file (upstream_tls.ca)");
  }
  auto tls = std::make_shared<TlsManager>(opt.tls, opt.upstream_tls, opt.upstream.host);
  if (Status st = tls->Load(); !st.ok()) return st;
  impl_->shared->tls = std::move(tls);
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(impl_->main_ctx);
  auto upstream = resolver.resolve(opt.upstream.host, std::to_string(opt.upstream.port), ec);
  if (ec) {
    return Unavailable("cannot resolve upstream " + opt.upstream.ToString() + ": " + ec.message());
  }
  for (const auto& e : upstream) impl_->shared->upstream.push_back(e.endpoint());

  auto listen = resolver.resolve(opt.listen.host, std::to_string(opt.listen.port),
                                 asio::ip::resolver_base::passive, ec);
  if (ec || listen.empty()) {
    return Unavailable("cannot resolve listen address " + opt.listen.ToString() + ": " +
                       ec.message());
  }
  auto endpoint = listen.begin()->endpoint();
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("could not listen on " + opt.listen.ToString() + ": " + ec.message());
  }
  return Status::Ok();
}

uint16_t Server::port() const {
  asio::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

Status Server::ReloadTls() {
  if (!impl_->shared->tls) return Unavailable("the server is not bound yet");
  return impl_->ReloadTls();
}

size_t Server::active_sessions() const { return impl_->shared->active.load(); }

void Server::Shutdown() {
  asio::post(impl_->main_ctx, [impl = impl_.get()] { impl->BeginShutdown(); });
}

Status Server::Run() {
  auto& impl = *impl_;
  if (!impl.acceptor.is_open()) {
    Status s = Bind();
    if (!s.ok()) return s;
  }
  auto& opt = impl.shared->options;
  if (opt.handle_signals) {
    impl.signals.add(SIGINT);
    impl.signals.add(SIGTERM);
    impl.signals.add(SIGHUP);
    impl.WaitForSignal();
  }
  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : impl.workers) {
    guards.push_back(asio::make_work_guard(*w));
    threads.emplace_back([ctx = w.get()] { ctx->run(); });
  }
  spdlog::info("event=listening listen={} upstream={} workers={} tls={} upstream_tls={}",
               opt.listen.host + ":" + std::to_string(port()), opt.upstream.ToString(), opt.workers,
               !opt.tls.enabled() ? "off"
               : opt.tls.require  ? "required"
                                  : "optional",
               UpstreamTlsModeName(opt.upstream_tls.mode));
  if (opt.upstream_reuse) {
    spdlog::info(
        "event=upstream_reuse idle_timeout_s={} detail=\"cleanly ended sessions leave their "
        "upstream connection, reset with DISCARD ALL, to the next client with the same startup "
        "parameters once the server has authenticated it\"",
        opt.upstream_idle_timeout.count() / 1000);
  }
  if (opt.tls.enabled() && !opt.tls.require) {
    spdlog::warn(
        "event=tls_optional detail=\"tls.require is false: plaintext clients are accepted "
        "deliberately; their passwords and results cross the network unencrypted\"");
  }
  if (opt.upstream_tls.enabled()) {
    spdlog::info(
        "event=channel_binding detail=\"the server offers SCRAM-SHA-256-PLUS over TLS, bound "
        "to its own certificate: it is relayed only to TLS clients that see that same "
        "certificate (pgveil configured with the server's certificate and key); otherwise "
        "pgveil removes it from the offer, libpq clients with channel_binding=require cannot "
        "connect, and TLS clients with channel_binding=prefer get an explanation (use "
        "channel_binding=disable)\"");
  }
  asio::co_spawn(impl.main_ctx, impl.AcceptLoop(), asio::detached);
  impl.main_ctx.run();
  for (auto& w : impl.workers) w->stop();
  for (auto& t : threads) t.join();
  impl.shared->upstream_pool.reset();  // closes the kept connections, before the loops go
  if (impl.shared->blocking) impl.shared->blocking->join();
  spdlog::info("event=stopped");
  return Status::Ok();
}

}  // namespace pgveil::proxy
