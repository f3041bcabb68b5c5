#include "proxy/upstream_pool.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace pgveil::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// True while the connection is open and the server has sent nothing since it was kept.
bool Quiet(int fd) {
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

UpstreamPool::~UpstreamPool() {
  for (auto& item : items_) CloseItem(item, /*here=*/true);
}

void UpstreamPool::CloseItem(Item& item, bool here) {
  if (item.fd >= 0) ::close(item.fd);
  item.fd = -1;
  if (!item.tls) return;
  if (here) {
    item.tls.reset();
    return;
  }
  std::shared_ptr<Stream> s(std::move(item.tls));
  asio::post(item.loop, [s] {
    asio::error_code ec;
    s->close(ec);
  });
}

std::optional<PooledUpstream> UpstreamPool::Take(const std::string& key,
                                                 const asio::any_io_executor& ex) {
  Item found;
  {
    std::lock_guard lock(mu_);
    PruneLocked(Clock::now());
    for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
      if (it->key != key || (it->tls && it->loop != ex)) continue;
      found = std::move(*it);
      items_.erase(std::next(it).base());
      break;
    }
  }
  if (found.tls) {
    if (!Quiet(found.tls->socket().native_handle())) {
      CloseItem(found);
      return std::nullopt;
    }
    PooledUpstream p;
    p.stream = std::move(found.tls);
    p.backend_pid = found.backend_pid;
    p.backend_key = std::move(found.backend_key);
    return p;
  }
  if (found.fd < 0) return std::nullopt;
  if (!Quiet(found.fd)) {
    spdlog::debug("event=upstream_pool_drop backend_pid={} reason=\"closed or not idle\"",
                  found.backend_pid);
    CloseItem(found);
    return std::nullopt;
  }
  asio::ip::tcp::socket socket(ex);
  asio::error_code ec;
  socket.assign(found.v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), found.fd, ec);
  if (ec) {
    CloseItem(found);
    return std::nullopt;
  }
  PooledUpstream p;
  p.stream = std::make_unique<Stream>(std::move(socket));
  p.backend_pid = found.backend_pid;
  p.backend_key = std::move(found.backend_key);
  return p;
}

void UpstreamPool::Put(const std::string& key, PooledUpstream p, const asio::any_io_executor& ex) {
  if (!p.stream || !p.stream->is_open()) return;
  Item item;
  item.key = key;
  if (p.stream->tls()) {
    item.tls = std::move(p.stream);
    item.loop = ex;
  } else {
    asio::error_code ec;
    auto& socket = p.stream->socket();
    item.v6 = socket.local_endpoint(ec).address().is_v6();
    if (ec) return;
    item.fd = socket.release(ec);
    if (ec) return;
  }
  item.backend_pid = p.backend_pid;
  item.backend_key = std::move(p.backend_key);
  item.idle_since = Clock::now();
  std::lock_guard lock(mu_);
  PruneLocked(item.idle_since);
  if (items_.size() >= kMaxConnections) {
    CloseItem(items_.front());
    items_.pop_front();
  }
  items_.push_back(std::move(item));
  ArmTimerLocked(ex);
}

size_t UpstreamPool::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

void UpstreamPool::PruneLocked(Clock::time_point now) {
  while (!items_.empty() && now - items_.front().idle_since >= max_idle_) {
    spdlog::debug("event=upstream_pool_drop backend_pid={} reason=idle",
                  items_.front().backend_pid);
    CloseItem(items_.front());
    items_.pop_front();
  }
}

void UpstreamPool::ArmTimerLocked(const asio::any_io_executor& ex) {
  if (timer_armed_ || items_.empty()) return;
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(ex);
  timer_armed_ = true;
  timer_->expires_at(items_.front().idle_since + max_idle_);
  timer_->async_wait([this](const asio::error_code& ec) {
    std::lock_guard lock(mu_);
    timer_armed_ = false;
    if (ec) return;
    PruneLocked(Clock::now());
    if (!items_.empty()) ArmTimerLocked(timer_->get_executor());
  });
}

}  // namespace pgveil::proxy
