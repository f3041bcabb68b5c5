// The relay. Each direction is a loop: one read, a scan of the frames in it (just far
// enough to stay in sync and to see the few messages pgveil must act on), one write of
// everything that can go out. Messages pgveil does not need to look at are forwarded as
// they stream in, even before they are complete, so a large row or COPY chunk never has
// to be buffered whole; the messages it acts on are always buffered whole first.
#include "proxy/session.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>
#include <string>

#include "pgveil/audit/statement_summary.h"
#include "pgveil/guard/startup.h"
#include "pgveil/mask/redact.h"
#include "pgveil/proxy/policy_provider.h"
#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"
#include "proxy/masked_stream.h"
#include "proxy/tls_sasl.h"
#include "proxy/tls_stream.h"

namespace pgveil::proxy {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

constexpr size_t kReadChunk = 64 * 1024;

// A long result (COPY TO, a large SELECT) comes from a backend in pieces of 8 kB, and
// relaying each piece as it comes wakes pgveil thousands of times per query; on a busy
// machine each wake-up also preempts the backend or the client. Past kBatchAfter bytes
// without a ReadyForQuery, the upstream read is batched (Stream::SetBatching): it wakes
// once kBatchLowWater bytes are queued, or kBatchWait after it began waiting, whichever
// is first. The ReadyForQuery that ends the result turns batching off again, so short
// answers never wait; a long result's last bytes wait at most kBatchWait.
constexpr size_t kBatchAfter = 512 * 1024;
constexpr int kBatchLowWater = 256 * 1024;
constexpr std::chrono::microseconds kBatchWait{1000};

// A client-chosen name (user, database) as it may appear in a log line: control
// characters, quotes, backslashes and bytes outside printable ASCII are written as \xNN,
// so that no name can forge or break a log record. Pre-authentication names are
// anybody's input.
std::string Printable(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(name.size());
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A growable byte buffer: [0, len) holds data not yet consumed.
struct Buffer {
  std::vector<char> data = std::vector<char>(kReadChunk * 2);
  size_t len = 0;

  std::string_view view(size_t from = 0) const { return {data.data() + from, len - from}; }
  asio::mutable_buffer free_space() {
    if (data.size() - len < kReadChunk / 4) data.resize(data.size() * 2);
    return asio::buffer(data.data() + len, data.size() - len);
  }
  void Ensure(size_t total) {
    if (data.size() < total) data.resize(total);
  }
  // The whole frame at `pos`, or kNeedMore after making room for all of it.
  wire::Peek WholeFrame(size_t pos, const wire::Limits& limits, wire::Frame* f, Status* st) {
    wire::Peek p = wire::PeekFrame(view(pos), limits, f, st);
    wire::FrameHeader h;
    if (p == wire::Peek::kNeedMore &&
        wire::PeekHeader(view(pos), limits, &h, st) == wire::Peek::kReady) {
      Ensure(pos + h.total());
    }
    return p;
  }
  void Consume(size_t n) {
    std::memmove(data.data(), data.data() + n, len - n);
    len -= n;
    // A one-off huge message must not pin its memory for the rest of the session.
    if (len <= kReadChunk && data.size() > kReadChunk * 8) {
      data.resize(kReadChunk * 2);
      data.shrink_to_fit();
    }
  }
};

// PolicyProvider::ForLogin on `pool` (it may block on the catalog connection), the result
// delivered on the awaiting coroutine's own executor.
template <typename Token>
auto AsyncLookUpPolicy(asio::thread_pool& pool, std::shared_ptr<PolicyProvider> provider,
                       std::string login, Token&& token) {
  using Result = StatusOr<std::shared_ptr<const policy::Policy>>;
  return asio::async_initiate<Token, void(Result)>(
      [&pool](auto handler, std::shared_ptr<PolicyProvider> provider, std::string login) {
        auto ex = asio::get_associated_executor(handler);
        asio::post(pool, [handler = std::move(handler), ex, provider = std::move(provider),
                          login = std::move(login)]() mutable {
          Result r = provider->ForLogin(login);
          asio::post(ex, [handler = std::move(handler), r = std::move(r)]() mutable {
            std::move(handler)(std::move(r));
          });
        });
      },
      token, std::move(provider), std::move(login));
}

awaitable<StatusOr<std::shared_ptr<const policy::Policy>>> LookUpPolicy(
    asio::thread_pool& pool, std::shared_ptr<PolicyProvider> provider, std::string login) {
  co_return co_await AsyncLookUpPolicy(pool, std::move(provider), std::move(login),
                                       asio::use_awaitable);
}

// Serializes writes to one socket between the two directions of a session. Both run
// on the same single-threaded loop, so a flag and a timer to park waiters suffice.
class WriteGate {
 public:
  explicit WriteGate(const asio::any_io_executor& ex) : wake_(ex) {}
  awaitable<void> Lock() {
    while (busy_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kNoThrow);
    }
    busy_ = true;
  }
  void Unlock() {
    busy_ = false;
    wake_.cancel();
  }

 private:
  bool busy_ = false;
  asio::steady_timer wake_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, std::shared_ptr<SessionShared> shared)
      : client_(std::move(client)),
        server_(client_.get_executor()),
        shared_(std::move(shared)),
        id_(shared_->next_id++),
        client_gate_(client_.get_executor()),
        tls_(shared_->tls->Current()) {
    asio::error_code ec;
    auto peer = client_.socket().remote_endpoint(ec);
    if (!ec) peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  }

  ~Session() {
    if (!client_key_.empty()) shared_->cancels.Unregister(cancel_pid_, client_key_);
  }

  awaitable<void> Run();

 private:
  const wire::Limits& limits() const { return shared_->options.limits; }
  // Server messages relayed without masking are streamed, never held whole: as large as
  // PostgreSQL sends (a DataRow is bounded by its 1 GB allocation limit).
  wire::Limits relay_limits() const {
    wire::Limits l = limits();
    l.max_message_bytes = std::max(l.max_message_bytes, kLargestServerMessage);
    return l;
  }
  static constexpr uint32_t kLargestServerMessage = 1u << 30;

  awaitable<bool> ReadStartup();
  awaitable<bool> StartClientTls(bool direct);
  awaitable<Status> StartUpstreamTls(Stream& server);
  // Takes the -PLUS mechanisms out of an AuthenticationSASL at `pos` of sin_ (whole in
  // the buffer); updates *h. False: a malformed offer or nothing left to offer.
  awaitable<bool> FilterSaslOffer(size_t pos, wire::FrameHeader* h);
  bool SameCertificateOnBothLegs();
  awaitable<void> HandleCancel(const wire::StartupFrame& frame);
  awaitable<bool> ConnectUpstream();
  awaitable<void> ClientToServer();
  awaitable<void> ServerToClient();
  // Notices a peer that closed its side while its data was read in the same wake-up
  // (see WatchPeers in session.cc); never returns by itself.
  awaitable<void> WatchPeers();
  // Until no request is outstanding (ReadyForQuery), the server is gone, or `limit`.
  awaitable<void> AwaitIdle(std::chrono::steady_clock::duration limit);
  static constexpr std::chrono::seconds kClientEofGrace{2};
  awaitable<void> SendCancelUpstream();
  awaitable<void> WriteClient(std::string_view bytes);
  awaitable<asio::error_code> WriteServer(asio::const_buffer out);
  awaitable<void> SendFatal(std::string_view sqlstate, std::string_view message,
                            std::string_view hint = {});

  // Acts on a whole server message that pgveil needs to see. May rewrite it in place
  // (same length). Returns false to end the session.
  bool OnServerMessage(char type, char* body, size_t body_len);
  static bool ServerTypeNeedsInspection(char type) {
    return type == wire::be::kBackendKeyData || type == wire::be::kAuthentication ||
           type == wire::be::kReadyForQuery || type == wire::be::kErrorResponse;
  }

  Stream client_;
  Stream server_;
  std::shared_ptr<SessionShared> shared_;
  uint64_t id_;
  std::string peer_ = "?";
  WriteGate client_gate_;
  std::shared_ptr<const TlsContexts> tls_;  // the certificates this session started with

  Buffer cin_;  // bytes from the client
  Buffer sin_;  // bytes from the server
  std::string user_, database_;

  bool authenticated_ = false;
  bool client_terminated_ = false;  // the client sent Terminate
  bool busy_ = false;               // a request is outstanding (no ReadyForQuery since)
  char last_server_type_ = 0;       // type of the last whole message sent to the client
  bool last_error_fatal_ = false;
  // The server's -PLUS offer was removed from a TLS client's view: its SASLInitialResponse
  // is checked for the 'y' flag the server would refuse.
  bool check_gs2_flag_ = false;

  // Masking. Until the server has authenticated the login and its policy is known, the
  // client may send authentication messages only; anything else waits.
  bool policy_ready_ = false;
  asio::steady_timer policy_signal_{client_.get_executor()};
  asio::steady_timer idle_signal_{client_.get_executor()};  // cancelled at ReadyForQuery
  std::unique_ptr<MaskedStream> masked_;
  uint64_t policy_generation_ = 0;
  std::string cout_;                    // masked output towards the server
  std::string sout_;                    // masked output towards the client
  std::vector<std::string_view> rows_;  // ServerMasked: DataRows masked together
  static constexpr size_t kRowBatch = 256;

  // The login's policy, looked up on the blocking pool (ForLogin may query the catalog)
  // while this worker's other sessions go on; then applied here.
  awaitable<bool> ResolvePolicy();
  bool policy_pending_ = false;          // authenticated: ResolvePolicy is due
  guard::StartupParams startup_params_;  // kept when rules are configured
  std::optional<guard::StartupRefusal> startup_refusal_;
  awaitable<void> RefreshPolicyIfChanged();
  awaitable<bool> ClientMasked();
  awaitable<void> LingerAfterTerminate();
  awaitable<bool> ServerMasked(size_t pos);

  int32_t cancel_pid_ = 0;
  std::string client_key_;  // registered in the CancelRegistry
  std::shared_ptr<CancelTarget> cancel_target_;

  // Upstream reuse (ServerOptions::upstream_reuse): see proxy/upstream_pool.h.
  std::string pool_key_;                 // empty: reuse is off
  bool ready_seen_ = false;              // the server's first ReadyForQuery: startup is over
  char txn_status_ = 0;                  // of the last ReadyForQuery
  bool client_sent_after_auth_ = false;  // forwarded a message other than authentication
  bool server_write_in_flight_ = false;
  bool server_in_sync_ = true;    // the client has seen whole server messages only
  uint64_t server_bytes_ = 0;     // read from the server since its last ReadyForQuery
  bool return_upstream_ = false;  // the client ended cleanly: reset and keep the upstream
  bool CanKeepUpstream() const {
    return !pool_key_.empty() && ready_seen_ && policy_ready_ && !busy_ && txn_status_ == 'I' &&
           server_in_sync_ && sin_.len == 0 && cancel_target_ != nullptr;
  }
  void MaybeReuseUpstream(bool ready_is_last);
  // A whole ReadyForQuery; `is_last`: nothing follows it in sin_.
  void OnReadyForQuery(std::string_view body, bool is_last) {
    busy_ = false;
    idle_signal_.cancel();
    server_bytes_ = 0;
    if (server_.batching()) server_.SetBatching(0);
    txn_status_ = body.empty() ? 0 : body[0];
    if (!ready_seen_) {
      ready_seen_ = true;
      MaybeReuseUpstream(is_last);
    }
  }
  awaitable<void> KeepUpstream();
};

awaitable<void> Session::WriteClient(std::string_view bytes) {
  co_await client_gate_.Lock();
  asio::const_buffer out = asio::buffer(bytes);
  asio::error_code ec;
  client_.SendNow(out, ec);
  if (!ec && out.size() > 0) std::tie(ec, std::ignore) = co_await client_.Write(out);
  client_gate_.Unlock();
  if (ec) client_.close(ec);
}

// ClientToServer's writes: it is the upstream's only writer while the relay runs.
awaitable<asio::error_code> Session::WriteServer(asio::const_buffer out) {
  asio::error_code ec;
  server_.SendNow(out, ec);
  if (!ec && out.size() > 0) {
    server_write_in_flight_ = true;
    std::tie(ec, std::ignore) = co_await server_.Write(out);
    server_write_in_flight_ = false;
  }
  co_return ec;
}

awaitable<void> Session::SendFatal(std::string_view sqlstate, std::string_view message,
                                   std::string_view hint) {
  std::string out;
  wire::AppendError(&out,
                    {.severity = "FATAL", .sqlstate = sqlstate, .message = message, .hint = hint});
  co_await WriteClient(out);
}

awaitable<void> Session::Run() {
  shared_->active++;
  spdlog::debug("session={} event=accept client={}", id_, peer_);
  asio::error_code ec;
  client_.socket().set_option(tcp::no_delay(true), ec);

  auto startup = co_await (ReadStartup() || [this]() -> awaitable<void> {
    asio::steady_timer t(client_.get_executor(), shared_->options.startup_timeout);
    co_await t.async_wait(kNoThrow);
  }());
  bool started = startup.index() == 0 && std::get<0>(startup);
  if (startup.index() == 1) {
    spdlog::info("session={} event=startup_timeout client={}", id_, peer_);
  }
  if (started && co_await ConnectUpstream()) {
    spdlog::info("session={} event=start client={} user={} database={} tls={} upstream_tls={}", id_,
                 peer_, Printable(user_), Printable(database_), client_.Describe(),
                 server_.Describe());
    co_await (ClientToServer() || ServerToClient() || WatchPeers());
    if (return_upstream_ && server_.is_open() && server_in_sync_ && sin_.len == 0) {
      // The client is done: let it go first, then reset the upstream for the next one.
      spdlog::info("session={} event=end client={} user={} terminated=true upstream=kept", id_,
                   peer_, Printable(user_));
      co_await client_.ShutdownTls(std::chrono::milliseconds(250));
      client_.close(ec);
      co_await KeepUpstream();
      server_.close(ec);
      shared_->active--;
      co_return;
    }
    if (busy_ && !client_terminated_ && server_.is_open()) {
      // The client left in the middle of a request: stop the query it started instead of
      // letting it run until the server notices the closed socket.
      co_await SendCancelUpstream();
    }
    spdlog::info("session={} event=end client={} user={} terminated={}", id_, peer_,
                 Printable(user_), client_terminated_);
  }
  server_.close(ec);
  // A TLS client reads pgveil's last error before close_notify; bounded, as the client
  // may be gone.
  co_await client_.ShutdownTls(std::chrono::milliseconds(250));
  client_.close(ec);
  shared_->active--;
}

awaitable<bool> Session::StartClientTls(bool direct) {
  Status st = co_await AcceptClientTls(client_, tls_->client_leg, direct);
  if (!st.ok()) {
    spdlog::warn("session={} event=tls_refused client={} direct={} reason=\"{}\"", id_, peer_,
                 direct, st.message());
    // Only a completed handshake (missing ALPN) can still carry an error message.
    if (st.code() == StatusCode::kProtocol) co_await SendFatal("08P01", st.message());
    co_return false;
  }
  spdlog::debug("session={} event=tls client={} direct={} tls=\"{}\"", id_, peer_, direct,
                client_.Describe());
  co_return true;
}

awaitable<bool> Session::ReadStartup() {
  if (tls_->client_leg) {
    // A PostgreSQL 17 client may open with a TLS ClientHello (record type 0x16) instead
    // of an SSLRequest. Peek, so that the handshake reads the hello itself.
    char first = 0;
    auto [ec, n] = co_await client_.socket().async_receive(asio::buffer(&first, 1),
                                                           tcp::socket::message_peek, kNoThrow);
    if (ec || n == 0) co_return false;
    if (first == 0x16 && !co_await StartClientTls(/*direct=*/true)) co_return false;
  }
  // As PostgreSQL: one SSLRequest and one GSSENCRequest at most; after TLS, neither.
  bool ssl_done = client_.tls(), gss_done = client_.tls();
  for (;;) {
    wire::StartupFrame frame;
    Status status;
    wire::Peek p;
    while ((p = wire::PeekStartup(cin_.view(), limits(), &frame, &status)) ==
           wire::Peek::kNeedMore) {
      auto [ec, n] = co_await client_.ReadSome(cin_.free_space());
      if (ec) co_return false;  // a port probe or a client that gave up
      cin_.len += n;
    }
    if (p == wire::Peek::kError) {
      // A length PostgreSQL would not take: it closes without a word (the peer may not
      // speak its protocol at all), and so does pgveil.
      spdlog::warn("session={} event=bad_startup client={} reason=\"{}\"", id_, peer_,
                   status.message());
      co_return false;
    }
    size_t total = frame.total();
    if (frame.code == wire::kSslRequestCode || frame.code == wire::kGssEncRequestCode) {
      if (cin_.len != total) {
        // Bytes sent before the answer would be read as if they had come over the
        // encrypted channel: refuse them (CVE-2021-3935).
        spdlog::warn("session={} event=bad_startup client={} reason=\"data after {} request\"", id_,
                     peer_, frame.code == wire::kSslRequestCode ? "SSL" : "GSSENC");
        co_await SendFatal("08P01", "received unencrypted data after SSL request");
        co_return false;
      }
      if (client_.tls()) {
        spdlog::warn("session={} event=bad_startup client={} reason=\"negotiation inside TLS\"",
                     id_, peer_);
        co_await SendFatal("08P01", "SSL or GSS negotiation requested on an encrypted connection");
        co_return false;
      }
      const bool ssl = frame.code == wire::kSslRequestCode;
      if (ssl ? ssl_done : gss_done) {
        spdlog::warn("session={} event=bad_startup client={} reason=\"second {} request\"", id_,
                     peer_, ssl ? "SSL" : "GSSENC");
        co_await SendFatal("0A000", std::string("unsupported frontend protocol 1234.") +
                                        (ssl ? "5679" : "5680") + ": server supports 3.0 to 3.x");
        co_return false;
      }
      (ssl ? ssl_done : gss_done) = true;
      cin_.Consume(total);
      if (frame.code == wire::kSslRequestCode && tls_->client_leg) {
        co_await WriteClient("S");
        if (!client_.is_open() || !co_await StartClientTls(/*direct=*/false)) co_return false;
        continue;
      }
      co_await WriteClient("N");
      continue;
    }
    if (frame.code == wire::kCancelRequestCode) {
      co_await HandleCancel(frame);
      co_return false;
    }
    auto msg = wire::ParseStartupMessage(frame.body);
    if (!msg.ok()) {
      spdlog::warn("session={} event=bad_startup client={} reason=\"{}\"", id_, peer_,
                   msg.status().message());
      co_await SendFatal("08P01", "invalid startup packet layout");
      co_return false;
    }
    if (msg->major != 3) {
      spdlog::warn("session={} event=bad_startup client={} reason=\"protocol {}.{}\"", id_, peer_,
                   msg->major, msg->minor);
      co_await SendFatal("0A000", "unsupported frontend protocol " + std::to_string(msg->major) +
                                      "." + std::to_string(msg->minor) +
                                      ": server supports 3.0 to 3.x");
      co_return false;
    }
    user_ = std::string(msg->Get("user"));
    database_ = std::string(msg->Get("database"));
    if (shared_->options.policies) {
      // Checked once the login's policy is known: a masked session may set at connection
      // start only what it could SET.
      for (const auto& [k, v] : msg->params) startup_params_.emplace_back(k, v);
    }
    if (database_.empty()) database_ = user_;
    if (user_.empty()) {
      co_await SendFatal("28000", "no PostgreSQL user name specified in startup packet");
      co_return false;
    }
    if (tls_->client_leg && !client_.tls() && shared_->tls->client().require) {
      spdlog::info("session={} event=plaintext_refused client={} user={}", id_, peer_,
                   Printable(user_));
      co_await SendFatal("28000",
                         "pgveil accepts only TLS connections: connect with sslmode=require "
                         "(or verify-full with pgveil's CA certificate)");
      co_return false;
    }
    if (shared_->upstream_pool) {
      // Who may reuse this session's upstream later: a client with exactly the same
      // StartupMessage (user, database, options), once the server has authenticated it.
      pool_key_.assign(cin_.data.data(), total);
    }
    // The startup frame stays at the front of cin_: it is relayed as is.
    co_return true;
  }
}

awaitable<void> Session::HandleCancel(const wire::StartupFrame& frame) {
  auto req = wire::ParseCancelRequest(frame.body);
  if (!req.ok()) {
    spdlog::warn("session={} event=bad_cancel client={}", id_, peer_);
    co_return;
  }
  auto target = shared_->cancels.Find(req->pid, req->key);
  if (!target) {
    spdlog::info("session={} event=cancel_unknown_key client={}", id_, peer_);
    co_return;
  }
  spdlog::info("session={} event=cancel client={} backend_pid={}", id_, peer_, req->pid);
  cancel_target_ = std::const_pointer_cast<CancelTarget>(target);
  co_await SendCancelUpstream();
}

awaitable<void> Session::SendCancelUpstream() {
  if (!cancel_target_) co_return;
  Stream s(client_.get_executor());
  auto [ec, ep] = co_await asio::async_connect(s.socket(), shared_->upstream, kNoThrow);
  (void)ep;
  if (ec) {
    spdlog::warn("session={} event=cancel_failed reason=\"{}\"", id_, ec.message());
    co_return;
  }
  if (tls_->upstream_leg) {
    // The cancel key goes over the same kind of channel as the session it cancels.
    Status st = co_await StartUpstreamTls(s);
    if (!st.ok()) {
      spdlog::warn("session={} event=cancel_failed reason=\"{}\"", id_, st.message());
      co_return;
    }
  }
  std::string out;
  wire::Writer w(&out);
  w.BeginUntyped()
      .Int32(static_cast<int32_t>(wire::kCancelRequestCode))
      .Int32(cancel_target_->server_pid)
      .Bytes(cancel_target_->server_key)
      .End();
  co_await s.Write(asio::buffer(out));
  // The server closes the connection once it has acted on the request.
  char byte;
  co_await s.ReadSome(asio::buffer(&byte, 1));
}

awaitable<Status> Session::StartUpstreamTls(Stream& server) {
  const auto& tls = *shared_->tls;
  co_return co_await ConnectUpstreamTls(server, tls_->upstream_leg, tls.upstream(),
                                        tls.verify_name());
}

awaitable<bool> Session::ConnectUpstream() {
  auto connect = [this]() -> awaitable<Status> {
    auto [ec, ep] = co_await asio::async_connect(server_.socket(), shared_->upstream, kNoThrow);
    (void)ep;
    if (ec) co_return Unavailable(ec.message());
    server_.socket().set_option(tcp::no_delay(true), ec);
    if (!tls_->upstream_leg) co_return Status::Ok();
    Status st = co_await StartUpstreamTls(server_);
    if (!st.ok()) co_return Unavailable("TLS: " + st.message());
    co_return Status::Ok();
  };
  auto result = co_await (connect() || [this]() -> awaitable<void> {
    asio::steady_timer t(client_.get_executor(), shared_->options.connect_timeout);
    co_await t.async_wait(kNoThrow);
  }());
  Status st = result.index() == 0 ? std::get<0>(result) : Unavailable("timed out");
  if (!st.ok()) {
    spdlog::error("session={} event=upstream_connect_failed upstream={} reason=\"{}\"", id_,
                  shared_->options.upstream.ToString(), st.message());
    co_await SendFatal("08006", tls_->upstream_leg
                                    ? "pgveil could not establish a secure connection to the "
                                      "database server"
                                    : "pgveil could not connect to the database server");
    co_return false;
  }
  co_return true;
}

awaitable<void> Session::ClientToServer() {
  size_t skip = 0;  // bytes of a forwarded message that are still to come
  bool first = true;
  bool need_read = false;
  for (;;) {
    if (need_read) {
      auto [ec, n] = co_await client_.ReadSome(cin_.free_space());
      if (ec) {
        if (ec == asio::error::eof && busy_ && !client_terminated_ && server_.is_open()) {
          // A client that shut down its sending side may still read the answer, as the
          // server alone would give it; one that is gone cannot. Both look the same:
          // the answer gets a short grace, then the request is cancelled (Run).
          spdlog::debug("session={} event=client_eof_in_request", id_);
          co_await AwaitIdle(kClientEofGrace);
        }
        if (!client_terminated_) {
          spdlog::info("session={} event=client_gone reason=\"{}\"", id_, ec.message());
        }
        co_return;
      }
      cin_.len += n;
    }
    need_read = true;
    if (masked_) {
      if (!co_await ClientMasked()) {
        if (client_terminated_ && !return_upstream_) co_await LingerAfterTerminate();
        co_return;
      }
      continue;
    }
    size_t pos = 0;
    if (first) {
      // The startup packet, relayed as the client sent it.
      pos = wire::ReadU32(cin_.data.data());
      first = false;
    }
    size_t take = std::min(skip, cin_.len - pos);
    pos += take;
    skip -= take;
    bool wait_for_policy = false;
    while (pos < cin_.len) {
      wire::FrameHeader h;
      Status status;
      auto p = wire::PeekHeader(cin_.view(pos), limits(), &h, &status);
      if (p == wire::Peek::kNeedMore) break;
      if (p == wire::Peek::kError) {
        spdlog::warn("session={} event=protocol_violation side=client reason=\"{}\"", id_,
                     status.message());
        co_await SendFatal("08P01", "invalid message from client: " + status.message());
        co_return;
      }
      if (!policy_ready_ && h.type != wire::fe::kPassword && h.type != wire::fe::kTerminate) {
        wait_for_policy = true;  // nothing but authentication before the policy is known
        break;
      }
      size_t avail = cin_.len - pos;
      if (check_gs2_flag_ && h.type == wire::fe::kPassword) {
        if (h.total() > avail) {
          cin_.Ensure(pos + h.total());
          break;
        }
        check_gs2_flag_ = false;
        auto flag = SaslGs2Flag(cin_.view(pos + 5).substr(0, h.body_size()));
        if (flag.ok() && *flag == 'y') {
          spdlog::warn(
              "session={} event=channel_binding_refused user={} detail=\"the client supports "
              "channel binding, and a server that offers it refuses such a client unless it "
              "uses it; it cannot be used because pgveil presents a different certificate than "
              "the server\"",
              id_, Printable(user_));
          if (pos > 0) co_await server_.Write(asio::buffer(cin_.data.data(), pos));
          co_await SendFatal(
              "28000",
              "channel binding cannot work through pgveil: the database server offers "
              "SCRAM-SHA-256-PLUS bound to its own certificate and pgveil presents a different "
              "one. Connect with channel_binding=disable, or configure pgveil with the "
              "server's certificate and key");
          co_return;
        }
      }
      if (h.type == wire::fe::kTerminate) {
        client_terminated_ = true;
        if (pos == 0 && skip == 0 && h.total() == cin_.len && CanKeepUpstream()) {
          return_upstream_ = true;  // not forwarded: the upstream stays open
          cin_.Consume(cin_.len);
          co_return;
        }
      } else {
        busy_ = true;
        if (h.type != wire::fe::kPassword) client_sent_after_auth_ = true;
      }
      if (h.total() <= avail) {
        pos += h.total();
      } else {
        skip = h.total() - avail;
        pos = cin_.len;
      }
    }
    if (pos > 0) {
      if (co_await WriteServer(asio::buffer(cin_.data.data(), pos))) {
        co_return;  // ServerToClient reports the server's failure
      }
      cin_.Consume(pos);
    }
    if (client_terminated_ && skip == 0 && cin_.len == 0) {
      co_await LingerAfterTerminate();
      co_return;
    }
    if (wait_for_policy) {
      while (!policy_ready_) {
        policy_signal_.expires_at(asio::steady_timer::time_point::max());
        co_await policy_signal_.async_wait(kNoThrow);
        if (!server_.is_open() || !client_.is_open()) co_return;
      }
      need_read = false;  // go on with the bytes already buffered
    }
  }
}

namespace {

// True when the peer has closed its sending side and everything it sent has been read.
bool PeerClosed(asio::ip::tcp::socket& socket) {
  if (!socket.is_open()) return false;
  char c;
  return ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace

awaitable<void> Session::WatchPeers() {
  // A read that returns less than its buffer leaves the socket to the next epoll edge
  // (drained_read.h). When the peer's FIN came in the same wake-up as its last bytes,
  // no edge follows and the end of the stream would go unnoticed: a client that sends a
  // query and shuts down its side at once would keep its session and backend forever.
  // Once a second, a socket whose peer is done is shut down for reading here, which
  // wakes its reader with end-of-file.
  asio::steady_timer t(client_.get_executor());
  for (;;) {
    t.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await t.async_wait(kNoThrow);
    if (ec) co_return;  // cancelled: the session is ending
    asio::error_code ignored;
    for (Stream* s : {&client_, &server_}) {
      if (PeerClosed(s->socket())) s->socket().shutdown(tcp::socket::shutdown_receive, ignored);
    }
  }
}

awaitable<void> Session::AwaitIdle(std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (busy_ && server_.is_open() && std::chrono::steady_clock::now() < deadline) {
    idle_signal_.expires_at(deadline);
    auto [ec] = co_await idle_signal_.async_wait(kNoThrow);
    if (ec && (co_await asio::this_coro::cancellation_state).cancelled() !=
                  asio::cancellation_type::none) {
      co_return;
    }
  }
}

awaitable<void> Session::LingerAfterTerminate() {
  // The client said goodbye, possibly in the same write as its last query: the server
  // answers what came before the Terminate and then closes, which ends the session from
  // the other direction. The timer only bounds a server that never closes.
  asio::steady_timer t(client_.get_executor(), std::chrono::seconds(30));
  co_await t.async_wait(kNoThrow);
}

awaitable<bool> Session::ClientMasked() {
  // Whole frames only: every client message of a masked session is read before it is
  // passed on (and may be replaced).
  size_t pos = 0;
  cout_.clear();
  for (;;) {
    wire::Frame f;
    Status status;
    auto p = cin_.WholeFrame(pos, limits(), &f, &status);
    if (p == wire::Peek::kNeedMore) break;
    if (p == wire::Peek::kError) {
      spdlog::warn("session={} event=protocol_violation side=client reason=\"{}\"", id_,
                   status.message());
      co_await SendFatal("08P01", "invalid message from client: " + status.message());
      co_return false;
    }
    if (f.type == wire::fe::kQuery || f.type == wire::fe::kParse) {
      co_await RefreshPolicyIfChanged();
    }
    if (f.type == wire::fe::kTerminate) {
      client_terminated_ = true;
      if (pos == 0 && f.total() == cin_.len && CanKeepUpstream()) {
        return_upstream_ = true;  // not forwarded: the upstream stays open
        cin_.Consume(cin_.len);
        co_return false;
      }
    } else {
      busy_ = true;
      if (f.type != wire::fe::kPassword) client_sent_after_auth_ = true;
    }
    Status st = masked_->OnClient(f.type, f.body, &cout_);
    if (!st.ok()) {
      spdlog::warn("session={} event=protocol_violation side=client type={} reason=\"{}\"", id_,
                   f.type, st.message());
      co_await SendFatal("08P01", "invalid message from client");
      co_return false;
    }
    pos += f.total();
  }
  if (!cout_.empty() && co_await WriteServer(asio::buffer(cout_))) co_return false;
  if (pos > 0) cin_.Consume(pos);
  co_return !(client_terminated_ && cin_.len == 0);
}

awaitable<bool> Session::ResolvePolicy() {
  auto provider = shared_->options.policies;
  if (!provider) co_return true;  // no rules configured: a plain relay
  policy_generation_ = provider->generation();
  auto policy = co_await LookUpPolicy(*shared_->blocking, provider, user_);
  if (!policy.ok()) {
    spdlog::error("session={} event=policy_failed user={} reason=\"{}\"", id_, Printable(user_),
                  policy.status().message());
    co_return false;
  }
  spdlog::info("session={} event=policy user={} policy={} masked={}", id_, Printable(user_),
               (*policy)->name(), (*policy)->masked());
  const guard::StartupParams params = std::move(startup_params_);  // needed here only
  if ((*policy)->masked()) {
    if (auto refusal = guard::CheckStartupParameters(params)) {
      // The message names the parameter as the client wrote it, which may be any text (a
      // phone number as a name): the log has the name only if it is a plain identifier.
      spdlog::warn("session={} event=startup_refused user={} parameter={}", id_, Printable(user_),
                   Printable(audit::SafeName(refusal->parameter)));
      startup_refusal_ = std::move(*refusal);
      co_return false;
    }
    masked_ = std::make_unique<MaskedStream>(*policy, provider->Scrubber(),
                                             [provider] { provider->OnUnknownRelations(); });
    if (shared_->options.audit) {
      masked_->SetAudit(shared_->options.audit, {user_, peer_, database_});
    }
  }
  co_return true;
}

awaitable<void> Session::RefreshPolicyIfChanged() {
  auto provider = shared_->options.policies;
  if (!provider || provider->generation() == policy_generation_) co_return;
  policy_generation_ = provider->generation();
  auto policy = co_await LookUpPolicy(*shared_->blocking, provider, user_);
  if (!policy.ok() || !(*policy)->masked()) {
    // A masked session stays masked; without a usable policy, it sees NULLs only.
    if (!policy.ok()) {
      spdlog::error("session={} event=policy_failed user={} reason=\"{}\"", id_, Printable(user_),
                    policy.status().message());
    }
    masked_->SetPolicy(policy::Policy::MaskEverything("unresolved"));
    co_return;
  }
  masked_->SetPolicy(*policy);
}

bool Session::SameCertificateOnBothLegs() {
  X509* mine = SSL_get_certificate(client_.ssl());
  X509* theirs = SSL_get0_peer_certificate(server_.ssl());
  return mine != nullptr && theirs != nullptr && X509_cmp(mine, theirs) == 0;
}

bool Session::OnServerMessage(char type, char* body, size_t body_len) {
  std::string_view b(body, body_len);
  switch (type) {
    case wire::be::kReadyForQuery:
      return true;  // the caller knows where it stands in the buffer: OnReadyForQuery
    case wire::be::kAuthentication: {
      auto auth = wire::ParseAuthentication(b);
      if (!auth.ok()) return false;
      if (auth->code == 0 && !authenticated_) {
        authenticated_ = true;
        spdlog::info("session={} event=authenticated user={} database={}", id_, Printable(user_),
                     Printable(database_));
        policy_pending_ = true;  // resolved by the caller, off this loop
      }
      return true;
    }
    case wire::be::kBackendKeyData: {
      auto key = wire::ParseBackendKeyData(b);
      if (!key.ok() || !client_key_.empty()) return false;
      cancel_target_ = std::make_shared<CancelTarget>();
      cancel_target_->server_pid = key->pid;
      cancel_target_->server_key = std::string(key->key);
      cancel_pid_ = key->pid;
      client_key_ = shared_->cancels.Register(key->pid, key->key.size(), cancel_target_);
      // Same length as the server's key: rewritten in place.
      std::memcpy(body + 4, client_key_.data(), client_key_.size());
      return true;
    }
    case wire::be::kErrorResponse: {
      auto fields = wire::ParseNoticeFields(b);
      if (!fields.ok()) return false;
      last_error_fatal_ = fields->Get('S') == "FATAL" || fields->Get('S') == "PANIC";
      if (!authenticated_) {
        // Only the SQLSTATE: the message may echo what the client sent.
        spdlog::info("session={} event=startup_refused user={} sqlstate={}", id_, Printable(user_),
                     fields->Get('C'));
      }
      return true;
    }
    default:
      return true;
  }
}

awaitable<bool> Session::FilterSaslOffer(size_t pos, wire::FrameHeader* h) {
  char* msg = sin_.data.data() + pos;
  if (h->body_size() < 4 || wire::ReadU32(msg + 5) != 10) co_return true;  // not SASL
  if (client_.tls() && server_.tls() && SameCertificateOnBothLegs()) {
    // tls-server-end-point binds to the certificate alone: the client sees the
    // server's own, so channel binding works end to end.
    spdlog::info("session={} event=channel_binding_end_to_end user={}", id_, Printable(user_));
    co_return true;
  }
  const size_t old_total = h->total();
  auto rewrite = RemoveChannelBindingMechanisms(msg, old_total);
  if (!rewrite.ok()) {
    spdlog::error("session={} event=protocol_violation side=server reason=\"{}\"", id_,
                  rewrite.status().message());
  } else if (rewrite->removed > 0) {
    std::memmove(msg + rewrite->total, msg + old_total, sin_.len - pos - old_total);
    sin_.len -= old_total - rewrite->total;
    Status st;
    if (wire::PeekHeader(sin_.view(pos), limits(), h, &st) != wire::Peek::kReady) {
      rewrite = st;  // cannot happen: the rewritten frame is shorter and whole
    } else {
      spdlog::info(
          "session={} event=channel_binding_unavailable user={} removed={} detail=\"TLS ends "
          "at pgveil and pgveil's certificate is not the server's, so SCRAM-SHA-256-PLUS "
          "cannot work: removed from the server's offer; clients with "
          "channel_binding=require are refused by their driver\"",
          id_, Printable(user_), rewrite->removed);
      check_gs2_flag_ = client_.tls();
    }
  }
  if (rewrite.ok() && rewrite->remaining > 0) co_return true;
  if (pos > 0) co_await WriteClient({sin_.data.data(), pos});
  if (!rewrite.ok()) {
    co_await SendFatal("08P01", "invalid message from server");
  } else {
    spdlog::error(
        "session={} event=session_refused user={} reason=\"only channel-bound SASL "
        "mechanisms offered\"",
        id_, Printable(user_));
    co_await SendFatal("28000",
                       "the database server offers only SCRAM-SHA-256-PLUS (channel binding), "
                       "which cannot work through pgveil because TLS ends at pgveil");
  }
  co_return false;
}

awaitable<void> Session::ServerToClient() {
  size_t skip = 0;
  bool mid_message = false;  // the client has seen part of a message only
  for (;;) {
    asio::error_code ec;
    size_t n = 0;
    // Two statements: GCC 12 destroys the temporaries of a conditional operand of
    // co_await twice.
    if (server_.batching()) {
      std::tie(ec, n) = co_await server_.ReadSomeBatched(sin_.free_space(), kBatchWait);
      // A result that stalled is batched again only after another kBatchAfter bytes:
      // one that trickles would otherwise switch at every message.
      if (!server_.batching()) server_bytes_ = 0;
    } else {
      std::tie(ec, n) = co_await server_.ReadSome(sin_.free_space());
    }
    if (ec) {
      if (client_terminated_ || ec == asio::error::operation_aborted) co_return;
      spdlog::info("session={} event=server_gone reason=\"{}\"", id_, ec.message());
      // Tell the client why, unless the server already did or a message is half sent.
      if (!mid_message && skip == 0 && sin_.len == 0 &&
          !(last_server_type_ == wire::be::kErrorResponse && last_error_fatal_)) {
        co_await SendFatal("08006", "server closed the connection unexpectedly");
      }
      co_return;
    }
    sin_.len += n;
    server_bytes_ += n;
    if (server_bytes_ >= kBatchAfter && !server_.batching()) {
      server_.SetBatching(kBatchLowWater);
    }
    size_t pos = 0;
    if (!masked_) {
      size_t take = std::min(skip, sin_.len);
      pos += take;
      skip -= take;
      mid_message = skip > 0;
      while (pos < sin_.len && !masked_) {
        wire::FrameHeader h;
        Status status;
        auto p = wire::PeekHeader(sin_.view(pos), relay_limits(), &h, &status);
        if (p == wire::Peek::kNeedMore) break;
        if (p == wire::Peek::kError) {
          spdlog::error("session={} event=protocol_violation side=server reason=\"{}\"", id_,
                        status.message());
          if (pos > 0) co_await WriteClient({sin_.data.data(), pos});
          co_await SendFatal("08P01", "invalid message from server");
          co_return;
        }
        size_t avail = sin_.len - pos;
        if (ServerTypeNeedsInspection(h.type)) {
          if (h.total() > avail) {
            sin_.Ensure(pos + h.total());
            break;
          }
          if (h.type == wire::be::kAuthentication && !authenticated_ &&
              !co_await FilterSaslOffer(pos, &h)) {
            co_return;
          }
          avail = sin_.len - pos;
          if (!OnServerMessage(h.type, sin_.data.data() + pos + 5, h.body_size())) {
            spdlog::error("session={} event=session_refused type={}", id_, h.type);
            if (pos > 0) co_await WriteClient({sin_.data.data(), pos});
            co_await SendFatal("08P01", "invalid message from server");
            co_return;
          }
          if (policy_pending_) {
            policy_pending_ = false;
            if (!co_await ResolvePolicy()) {
              if (pos > 0) co_await WriteClient({sin_.data.data(), pos});
              if (startup_refusal_) {
                co_await SendFatal("42501", startup_refusal_->message, startup_refusal_->hint);
                co_return;
              }
              spdlog::error("session={} event=session_refused reason=policy", id_);
              co_await SendFatal("28000",
                                 "pgveil could not determine the masking policy of this login");
              co_return;
            }
            policy_ready_ = true;
            policy_signal_.cancel();
          }
          if (h.type == wire::be::kReadyForQuery) {
            OnReadyForQuery({sin_.data.data() + pos + 5, h.body_size()},
                            pos + h.total() == sin_.len);
          }
        }
        last_server_type_ = h.type;
        if (h.total() <= avail) {
          pos += h.total();
          mid_message = false;
        } else {
          skip = h.total() - avail;
          pos = sin_.len;
          mid_message = true;
        }
      }
      server_in_sync_ = skip == 0 && !mid_message;
      if (pos > 0) {
        co_await WriteClient({sin_.data.data(), pos});
        if (!client_.is_open()) co_return;
        sin_.Consume(pos);
        pos = 0;
      }
      if (!masked_) continue;
    }
    if (!co_await ServerMasked(pos)) co_return;
  }
}

awaitable<bool> Session::ServerMasked(size_t pos) {
  sout_.clear();
  bool fatal = false;
  for (;;) {
    wire::Frame f;
    Status status;
    auto p = sin_.WholeFrame(pos, limits(), &f, &status);
    if (p == wire::Peek::kNeedMore) break;
    if (p == wire::Peek::kError) {
      spdlog::error("session={} event=protocol_violation side=server reason=\"{}\"", id_,
                    status.message());
      // Masked sessions hold each server message whole, up to max_message_bytes.
      const bool too_large = status.code() == StatusCode::kTooLarge;
      wire::AppendError(&sout_, {.severity = "FATAL",
                                 .sqlstate = too_large ? "54000" : "08P01",
                                 .message = too_large ? "a message from the server is larger "
                                                        "than pgveil's max_message_bytes"
                                                      : "invalid message from server"});
      fatal = true;
      break;
    }
    size_t next = pos + f.total();
    Status st;
    if (f.type == wire::be::kBackendKeyData || f.type == wire::be::kAuthentication) {
      char* body = sin_.data.data() + pos + 5;
      if (!OnServerMessage(f.type, body, f.body.size())) {
        fatal = true;
        break;
      }
      sout_.append(sin_.data.data() + pos, f.total());
    } else if (f.type == wire::be::kDataRow) {
      // Whole DataRows in a row are masked together (RowPlan::AppendDataRows). The
      // look-ahead must not grow the buffer: the bodies point into it.
      rows_.clear();
      rows_.push_back(f.body);
      while (rows_.size() < kRowBatch) {
        wire::Frame g;
        Status ignored;
        if (wire::PeekFrame(sin_.view(next), limits(), &g, &ignored) != wire::Peek::kReady ||
            g.type != wire::be::kDataRow) {
          break;
        }
        rows_.push_back(g.body);
        next += g.total();
      }
      st = masked_->OnDataRows(rows_, &sout_);
    } else {
      if (f.type == wire::be::kReadyForQuery) OnReadyForQuery(f.body, next == sin_.len);
      if (f.type == wire::be::kErrorResponse) {
        // A server that ends the session says why in a FATAL (idle-in-transaction
        // timeout, pg_terminate_backend, shutdown): nothing is added to it at the end.
        auto fields = wire::ParseNoticeFields(f.body);
        last_error_fatal_ =
            fields.ok() && (fields->Get('S') == "FATAL" || fields->Get('S') == "PANIC");
      }
      st = masked_->OnServer(f.type, f.body, &sout_);
    }
    last_server_type_ = f.type;
    if (!st.ok()) {
      spdlog::error("session={} event=masking_failed type={} reason=\"{}\"", id_, f.type,
                    st.message());
      fatal = true;
      break;
    }
    pos = next;
  }
  if (!sout_.empty()) {
    co_await WriteClient(sout_);
    if (!client_.is_open()) co_return false;
  }
  if (pos > 0) sin_.Consume(pos);
  co_return !fatal;
}

void Session::MaybeReuseUpstream(bool ready_is_last) {
  // Only at the end of startup, before the client has seen ReadyForQuery and so before it
  // can have sent anything: the fresh connection did the authentication and is dropped.
  if (pool_key_.empty() || !ready_is_last || client_sent_after_auth_ || server_write_in_flight_ ||
      !cancel_target_) {
    return;
  }
  auto pooled = shared_->upstream_pool->Take(pool_key_, client_.get_executor());
  if (!pooled) return;
  auto fresh = std::make_shared<Stream>(std::move(server_));
  server_ = std::move(*pooled->stream);
  auto target = std::make_shared<CancelTarget>();
  target->server_pid = pooled->backend_pid;
  target->server_key = pooled->backend_key;
  shared_->cancels.Retarget(cancel_pid_, client_key_, target);
  cancel_target_ = std::move(target);
  spdlog::debug("session={} event=upstream_reused backend_pid={}", id_, pooled->backend_pid);
  asio::co_spawn(
      client_.get_executor(),
      [fresh]() -> awaitable<void> {
        static constexpr char kTerminate[] = {'X', 0, 0, 0, 4};
        co_await fresh->Write(asio::buffer(kTerminate, sizeof kTerminate));
        co_await fresh->ShutdownTls(std::chrono::milliseconds(250));
        asio::error_code ec;
        fresh->close(ec);
      },
      asio::detached);
}

awaitable<void> Session::KeepUpstream() {
  // DISCARD ALL, then ReadyForQuery 'I' with nothing refused: the backend is as new.
  auto reset = [this]() -> awaitable<bool> {
    std::string q;
    wire::Writer w(&q);
    w.Begin(wire::fe::kQuery).CString("DISCARD ALL").End();
    auto [ec, n] = co_await server_.Write(asio::buffer(q));
    (void)n;
    if (ec) co_return false;
    bool done = false;
    for (;;) {
      for (;;) {
        wire::Frame f;
        Status st;
        auto p = sin_.WholeFrame(0, limits(), &f, &st);
        if (p == wire::Peek::kError) co_return false;
        if (p == wire::Peek::kNeedMore) break;
        const size_t total = f.total();
        switch (f.type) {
          case wire::be::kCommandComplete:
            done = f.body.substr(0, 11) == "DISCARD ALL";
            break;
          case wire::be::kReadyForQuery:
            co_return done&& total == sin_.len&& f.body.size() == 1 && f.body[0] == 'I';
          case wire::be::kParameterStatus:
          case wire::be::kNoticeResponse:
          case wire::be::kNotificationResponse:
            break;
          default:
            co_return false;  // an error, or anything unexpected
        }
        sin_.Consume(total);
      }
      auto [rec, got] = co_await server_.ReadSome(sin_.free_space());
      if (rec) co_return false;
      sin_.len += got;
    }
  };
  auto result = co_await (reset() || [this]() -> awaitable<void> {
    asio::steady_timer t(client_.get_executor(), std::chrono::seconds(5));
    co_await t.async_wait(kNoThrow);
  }());
  if (result.index() != 0 || !std::get<0>(result)) {
    spdlog::info("session={} event=upstream_closed reason=\"reset failed\"", id_);
    co_return;
  }
  PooledUpstream p;
  p.stream = std::make_unique<Stream>(std::move(server_));
  p.backend_pid = cancel_target_->server_pid;
  p.backend_key = cancel_target_->server_key;
  spdlog::debug("session={} event=upstream_kept backend_pid={}", id_, p.backend_pid);
  shared_->upstream_pool->Put(pool_key_, std::move(p), client_.get_executor());
}

}  // namespace

asio::awaitable<void> ServeClient(asio::ip::tcp::socket client,
                                  std::shared_ptr<SessionShared> shared) {
  auto session = std::make_shared<Session>(std::move(client), std::move(shared));
  co_await session->Run();
}

}  // namespace pgveil::proxy
