// A minimal PostgreSQL v3 frontend over a raw TCP socket, for tests that need control
// over the exact bytes a client sends: split or malformed frames, SSLRequest, protocol
// 3.2 startups, row-limited Execute, abrupt resets.
//
// It is written from the protocol documentation and deliberately shares no code with
// pgveil's own codec (src/wire), so the proxy is checked against an independent
// implementation. Only trust authentication is supported here; password logins are
// exercised through libpq. A RawClient is used from one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgveil/status.h"

namespace pgveil::it {

// One backend message: its type byte and its body (without the length word).
struct BackendMessage {
  char type = 0;
  std::string body;
};

// Frontend message encoders. Every length is computed here.
namespace fe {
inline constexpr uint32_t kProtocol30 = 196608;  // 3.0
inline constexpr uint32_t kProtocol32 = 196610;  // 3.2
using Params = std::vector<std::pair<std::string, std::string>>;

std::string Startup(const Params& params, uint32_t version = kProtocol30);
std::string SslRequest();
std::string GssEncRequest();
std::string CancelRequest(uint32_t pid, uint32_t key);
std::string Frame(char type, std::string_view body);
std::string Query(std::string_view sql);
std::string Parse(std::string_view name, std::string_view sql);
// Text-format parameters and all-text results unless `binary_results`.
std::string Bind(std::string_view portal, std::string_view statement,
                 const std::vector<std::string>& params, bool binary_results = false);
std::string Describe(char kind, std::string_view name);  // kind 'S' or 'P'
std::string Execute(std::string_view portal, uint32_t max_rows);
std::string Close(char kind, std::string_view name);
std::string Sync();
std::string Flush();
std::string Terminate();
}  // namespace fe

// Decoding helpers for backend message bodies.
namespace be {
uint32_t Int32At(std::string_view body, size_t offset);
uint16_t Int16At(std::string_view body, size_t offset);
// Fields of an ErrorResponse/NoticeResponse by their code ('S', 'C', 'M', ...).
std::map<char, std::string> Fields(std::string_view body);
// Column values of a DataRow (text as sent; NULL as "<NULL>").
std::vector<std::string> DataRowValues(std::string_view body);
// The type letters of a message sequence, e.g. "RSSSKZ".
std::string Types(const std::vector<BackendMessage>& messages);
}  // namespace be

class RawClient {
 public:
  using Millis = std::chrono::milliseconds;

  static StatusOr<std::unique_ptr<RawClient>> Connect(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  Status Send(std::string_view bytes);
  // Sends one byte per write(), pausing `pause` between them (Nagle is off).
  Status SendByteByByte(std::string_view bytes, Millis pause);

  // One raw byte: the answer to an SSLRequest or GSSENCRequest.
  StatusOr<char> ReadByte(Millis timeout);
  // The next whole message. kUnavailable with message "closed" when the peer closed.
  StatusOr<BackendMessage> ReadMessage(Millis timeout);
  // Messages up to and including the first of type `last` (e.g. 'Z').
  StatusOr<std::vector<BackendMessage>> ReadUntil(char last, Millis timeout);
  // Reads (and keeps, in `received`) messages until the peer closes the connection.
  // True when it closed within `timeout`.
  bool WaitForClose(Millis timeout, std::vector<BackendMessage>* received = nullptr);

  // Startup as `user` (trust authentication) into `database`; returns every message up
  // to the first ReadyForQuery. Fails on ErrorResponse.
  StatusOr<std::vector<BackendMessage>> StartupTrust(const std::string& user,
                                                     const std::string& database,
                                                     const fe::Params& extra = {},
                                                     uint32_t version = fe::kProtocol30);

  // Closes with SO_LINGER 0: the peer sees a reset, as when a process is killed while
  // data is unread.
  void Reset();
  int fd() const { return fd_; }

 private:
  explicit RawClient(int fd) : fd_(fd) {}
  // Waits for input and appends it to in_; kUnavailable("closed") on EOF or reset.
  Status Fill(Millis timeout);

  int fd_;
  std::string in_;
};

}  // namespace pgveil::it
