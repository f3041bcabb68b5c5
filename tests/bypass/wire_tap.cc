#include "wire_tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgveil::bypass {
namespace {

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

int ConnectUpstream(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Writes all of `data`; false when the peer is gone.
bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<WireTap>> WireTap::Start(int upstream_port) {
  std::unique_ptr<WireTap> tap(new WireTap());
  tap->upstream_port_ = upstream_port;
  tap->listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (tap->listen_fd_ < 0) return Unavailable("socket failed");
  int one = 1;
  setsockopt(tap->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(tap->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(tap->listen_fd_, 64) != 0) {
    return Unavailable(std::string("tap bind/listen: ") + strerror(errno));
  }
  socklen_t len = sizeof(addr);
  getsockname(tap->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  tap->port_ = ntohs(addr.sin_port);
  tap->acceptor_ = std::thread([t = tap.get()] { t->AcceptLoop(); });
  return tap;
}

WireTap::~WireTap() {
  stopping_ = true;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  std::vector<std::thread> relays;
  {
    std::lock_guard<std::mutex> lock(mu_);
    relays.swap(relays_);
  }
  for (auto& t : relays) t.join();
}

void WireTap::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int n = poll(&p, 1, 100);
    if (n <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> lock(mu_);
    size_t index = connections_.size();
    connections_.emplace_back();
    relays_.emplace_back([this, index, fd] { Relay(index, fd); });
  }
}

// Copies bytes both ways until either side closes, recording them. The recording
// happens before forwarding, so a byte the client could have seen is always recorded.
void WireTap::Relay(size_t index, int client_fd) {
  int server_fd = ConnectUpstream(upstream_port_);
  if (server_fd >= 0) {
    char buf[65536];
    bool open = true;
    while (open && !stopping_) {
      pollfd p[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
      int n = poll(p, 2, 100);
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) continue;
      for (int side = 0; side < 2 && open; ++side) {
        if (!(p[side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = side == 0 ? client_fd : server_fd;
        const int to = side == 0 ? server_fd : client_fd;
        ssize_t r = recv(from, buf, sizeof(buf), 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          open = false;
          break;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto& c = connections_[index];
          (side == 0 ? c.to_server : c.to_client).append(buf, static_cast<size_t>(r));
        }
        if (!WriteAll(to, buf, static_cast<size_t>(r))) open = false;
      }
    }
    close(server_fd);
  }
  close(client_fd);
  std::lock_guard<std::mutex> lock(mu_);
  connections_[index].closed = true;
}

size_t WireTap::connection_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_.size();
}

TapConnection WireTap::Connection(size_t i) const {
  std::lock_guard<std::mutex> lock(mu_);
  return i < connections_.size() ? connections_[i] : TapConnection{};
}

void WireTap::DropClosed(size_t below) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < below && i < connections_.size(); ++i) {
    if (!connections_[i].closed) continue;
    std::string().swap(connections_[i].to_client);
    std::string().swap(connections_[i].to_server);
  }
}

std::vector<it::BackendMessage> SplitMessages(const std::string& stream, bool startup) {
  std::vector<it::BackendMessage> out;
  size_t pos = 0;
  if (startup) {
    if (stream.size() < 4) return out;
    pos = BigEndian32(stream, 0);
  }
  while (pos + 5 <= stream.size()) {
    const uint32_t len = BigEndian32(stream, pos + 1);
    if (len < 4 || pos + 1 + len > stream.size()) break;
    out.push_back({stream[pos], stream.substr(pos + 5, len - 4)});
    pos += 1 + len;
  }
  return out;
}

}  // namespace pgveil::bypass
