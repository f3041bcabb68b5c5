#include "harness/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace pgveil::it {
namespace {

constexpr size_t kMaxMessage = 256 << 20;  // larger than anything the tests provoke

void PutInt32(std::string& out, uint32_t v) {
  uint32_t n = htonl(v);
  out.append(reinterpret_cast<const char*>(&n), 4);
}
void PutInt16(std::string& out, uint16_t v) {
  uint16_t n = htons(v);
  out.append(reinterpret_cast<const char*>(&n), 2);
}
void PutCString(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

// A message without a type byte: int32 length (including itself), then the body.
std::string Untyped(std::string_view body) {
  std::string out;
  PutInt32(out, static_cast<uint32_t>(body.size() + 4));
  out.append(body);
  return out;
}

}  // namespace

namespace fe {

std::string Startup(const Params& params, uint32_t version) {
  std::string body;
  PutInt32(body, version);
  for (const auto& [k, v] : params) {
    PutCString(body, k);
    PutCString(body, v);
  }
  body.push_back('\0');
  return Untyped(body);
}

std::string SslRequest() {
  std::string body;
  PutInt32(body, 80877103);
  return Untyped(body);
}

std::string GssEncRequest() {
  std::string body;
  PutInt32(body, 80877104);
  return Untyped(body);
}

std::string CancelRequest(uint32_t pid, uint32_t key) {
  std::string body;
  PutInt32(body, 80877102);
  PutInt32(body, pid);
  PutInt32(body, key);
  return Untyped(body);
}

std::string Frame(char type, std::string_view body) {
  std::string out(1, type);
  PutInt32(out, static_cast<uint32_t>(body.size() + 4));
  out.append(body);
  return out;
}

std::string Query(std::string_view sql) {
  std::string body;
  PutCString(body, sql);
  return Frame('Q', body);
}

std::string Parse(std::string_view name, std::string_view sql) {
  std::string body;
  PutCString(body, name);
  PutCString(body, sql);
  PutInt16(body, 0);  // no parameter types specified
  return Frame('P', body);
}

std::string Bind(std::string_view portal, std::string_view statement,
                 const std::vector<std::string>& params, bool binary_results) {
  std::string body;
  PutCString(body, portal);
  PutCString(body, statement);
  PutInt16(body, 0);  // all parameters in text format
  PutInt16(body, static_cast<uint16_t>(params.size()));
  for (const std::string& p : params) {
    PutInt32(body, static_cast<uint32_t>(p.size()));
    body.append(p);
  }
  PutInt16(body, 1);  // one result format code for all columns
  PutInt16(body, binary_results ? 1 : 0);
  return Frame('B', body);
}

std::string Describe(char kind, std::string_view name) {
  std::string body(1, kind);
  PutCString(body, name);
  return Frame('D', body);
}

std::string Execute(std::string_view portal, uint32_t max_rows) {
  std::string body;
  PutCString(body, portal);
  PutInt32(body, max_rows);
  return Frame('E', body);
}

std::string Close(char kind, std::string_view name) {
  std::string body(1, kind);
  PutCString(body, name);
  return Frame('C', body);
}

std::string Sync() { return Frame('S', ""); }
std::string Flush() { return Frame('H', ""); }
std::string Terminate() { return Frame('X', ""); }

}  // namespace fe

namespace be {

uint32_t Int32At(std::string_view body, size_t offset) {
  if (offset + 4 > body.size()) return 0;
  uint32_t n;
  std::memcpy(&n, body.data() + offset, 4);
  return ntohl(n);
}

uint16_t Int16At(std::string_view body, size_t offset) {
  if (offset + 2 > body.size()) return 0;
  uint16_t n;
  std::memcpy(&n, body.data() + offset, 2);
  return ntohs(n);
}

std::map<char, std::string> Fields(std::string_view body) {
  std::map<char, std::string> fields;
  size_t pos = 0;
  while (pos < body.size() && body[pos] != '\0') {
    char code = body[pos++];
    size_t end = body.find('\0', pos);
    if (end == std::string_view::npos) break;
    fields[code] = std::string(body.substr(pos, end - pos));
    pos = end + 1;
  }
  return fields;
}

std::vector<std::string> DataRowValues(std::string_view body) {
  std::vector<std::string> values;
  uint16_t n = Int16At(body, 0);
  size_t pos = 2;
  for (uint16_t i = 0; i < n && pos + 4 <= body.size(); ++i) {
    int32_t len = static_cast<int32_t>(Int32At(body, pos));
    pos += 4;
    if (len < 0) {
      values.emplace_back("<NULL>");
      continue;
    }
    values.emplace_back(body.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
  }
  return values;
}

std::string Types(const std::vector<BackendMessage>& messages) {
  std::string types;
  for (const BackendMessage& m : messages) types.push_back(m.type);
  return types;
}

}  // namespace be

StatusOr<std::unique_ptr<RawClient>> RawClient::Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string err = strerror(errno);
    close(fd);
    return Unavailable("connect to port " + std::to_string(port) + ": " + err);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RawClient>(new RawClient(fd));
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

void RawClient::Reset() {
  if (fd_ < 0) return;
  linger lg{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd_);
  fd_ = -1;
}

Status RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(std::string("send: ") + strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status RawClient::SendByteByByte(std::string_view bytes, Millis pause) {
  for (char c : bytes) {
    if (Status st = Send(std::string_view(&c, 1)); !st.ok()) return st;
    std::this_thread::sleep_for(pause);
  }
  return Status::Ok();
}

Status RawClient::Fill(Millis timeout) {
  pollfd pfd{fd_, POLLIN, 0};
  int r;
  do {
    r = poll(&pfd, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r == 0) return Unavailable("timeout");
  if (r < 0) return Unavailable(std::string("poll: ") + strerror(errno));
  char buf[65536];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n == 0) return Unavailable("closed");
  if (n < 0) {
    if (errno == ECONNRESET) return Unavailable("closed");
    return Unavailable(std::string("recv: ") + strerror(errno));
  }
  in_.append(buf, static_cast<size_t>(n));
  return Status::Ok();
}

StatusOr<char> RawClient::ReadByte(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_.empty()) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Unavailable("timeout");
    if (Status st = Fill(left); !st.ok()) return st;
  }
  char c = in_[0];
  in_.erase(0, 1);
  return c;
}

StatusOr<BackendMessage> RawClient::ReadMessage(Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (in_.size() >= 5) {
      uint32_t len = be::Int32At(in_, 1);
      if (len < 4 || len > kMaxMessage) {
        return ProtocolError("backend sent a bad length " + std::to_string(len));
      }
      if (in_.size() >= 1 + static_cast<size_t>(len)) {
        BackendMessage m{in_[0], in_.substr(5, len - 4)};
        in_.erase(0, 1 + len);
        return m;
      }
    }
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Unavailable("timeout");
    if (Status st = Fill(left); !st.ok()) {
      if (st.message() == "closed" && !in_.empty()) {
        return ProtocolError("closed inside a message (" + std::to_string(in_.size()) + " bytes)");
      }
      return st;
    }
  }
}

StatusOr<std::vector<BackendMessage>> RawClient::ReadUntil(char last, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<BackendMessage> out;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    auto m = ReadMessage(left.count() > 0 ? left : Millis(0));
    if (!m.ok()) {
      return Status(m.status().code(), m.status().message() + " after '" + be::Types(out) + "'");
    }
    out.push_back(*m);
    if (m->type == last) return out;
  }
}

bool RawClient::WaitForClose(Millis timeout, std::vector<BackendMessage>* received) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    auto m = ReadMessage(left);
    if (m.ok()) {
      if (received != nullptr) received->push_back(*m);
      continue;
    }
    if (m.status().message() == "timeout") return false;
    return true;  // closed, reset, or garbage followed by close
  }
}

StatusOr<std::vector<BackendMessage>> RawClient::StartupTrust(const std::string& user,
                                                              const std::string& database,
                                                              const fe::Params& extra,
                                                              uint32_t version) {
  fe::Params params = {{"user", user}, {"database", database}};
  params.insert(params.end(), extra.begin(), extra.end());
  if (Status st = Send(fe::Startup(params, version)); !st.ok()) return st;
  auto messages = ReadUntil('Z', Millis(10000));
  if (!messages.ok()) return messages.status();
  for (const BackendMessage& m : *messages) {
    if (m.type == 'E') return Internal("startup failed: " + be::Fields(m.body)['M']);
  }
  return messages;
}

}  // namespace pgveil::it
