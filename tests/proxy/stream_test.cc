// Stream's batched reads (proxy/tls_stream.h) on real loopback TCP connections: what a
// read returns with the low-water mark set, that the last bytes of a stream are not held
// back, end of stream, cancellation, and turning batching off again.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "proxy/tls_stream.h"

namespace pgveil::proxy {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using asio::ip::tcp;

class StreamBatchingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    writer_.connect(acceptor.local_endpoint());
    reader_.emplace(acceptor.accept());
  }

  int LowWater() {
    int v = 0;
    socklen_t len = sizeof v;
    EXPECT_EQ(::getsockopt(reader_->socket().native_handle(), SOL_SOCKET, SO_RCVLOWAT, &v, &len),
              0);
    return v;
  }

  // Runs one batched read to completion; the whole test fails if it hangs.
  std::tuple<asio::error_code, size_t> Read(std::chrono::microseconds wait) {
    std::optional<std::tuple<asio::error_code, size_t>> result;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          result = co_await reader_->ReadSomeBatched(asio::buffer(buf_), wait);
        },
        asio::detached);
    io_.restart();
    io_.run_for(20s);
    EXPECT_TRUE(result.has_value()) << "the batched read did not complete";
    return result.value_or(std::tuple(asio::error::timed_out, size_t{0}));
  }

  void Send(size_t n, char c = 'x') { asio::write(writer_, asio::buffer(std::string(n, c))); }

  asio::io_context io_;
  tcp::socket writer_{io_};
  std::optional<Stream> reader_;
  std::string buf_ = std::string(128 * 1024, '\0');
};

TEST_F(StreamBatchingTest, TurnsTheLowWaterMarkOnAndOff) {
  EXPECT_FALSE(reader_->batching());
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  EXPECT_TRUE(reader_->batching());
  EXPECT_EQ(LowWater(), 64 * 1024);
  ASSERT_TRUE(reader_->SetBatching(0));
  EXPECT_FALSE(reader_->batching());
  EXPECT_EQ(LowWater(), 1);
}

TEST_F(StreamBatchingTest, BytesBelowTheMarkAreReadWhenTheWaitEnds) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  Send(100);
  auto [ec, n] = Read(2ms);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 100u);
}

TEST_F(StreamBatchingTest, QueuedBytesComeInOneRead) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  // Written in 8 kB pieces, as a backend sends a long result.
  for (int i = 0; i < 12; ++i) Send(8 * 1024);
  auto [ec, n] = Read(1s);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GE(n, 64u * 1024) << "the read returned before the low-water mark";
  size_t total = n;
  while (total < 12 * 8 * 1024) {
    auto [ec2, m] = Read(2ms);
    ASSERT_FALSE(ec2) << ec2.message();
    total += m;
  }
  EXPECT_EQ(total, 12u * 8 * 1024);
}

TEST_F(StreamBatchingTest, AStreamArrivesWholeAndInOrder) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  // 4 MB in 8 kB pieces from another thread, each piece's bytes numbering it.
  constexpr size_t kPieces = 512;
  std::thread producer([this] {
    for (size_t i = 0; i < kPieces; ++i) Send(8 * 1024, static_cast<char>('a' + i % 26));
    writer_.shutdown(tcp::socket::shutdown_send);
  });
  std::string got;
  for (;;) {
    auto [ec, n] = Read(1ms);
    if (ec == asio::error::eof) break;
    ASSERT_FALSE(ec) << ec.message();
    got.append(buf_.data(), n);
  }
  producer.join();
  ASSERT_EQ(got.size(), kPieces * 8 * 1024);
  for (size_t i = 0; i < kPieces; ++i) {
    ASSERT_EQ(got.find_first_not_of(static_cast<char>('a' + i % 26), i * 8 * 1024),
              i + 1 == kPieces ? std::string::npos : (i + 1) * 8 * 1024)
        << "piece " << i;
  }
}

TEST_F(StreamBatchingTest, AStalledStreamFallsBackToAPlainRead) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  asio::steady_timer later(io_, 50ms);
  later.async_wait([this](asio::error_code) { Send(10); });
  auto [ec, n] = Read(2ms);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 10u);
  EXPECT_FALSE(reader_->batching());
  EXPECT_EQ(LowWater(), 1);
}

TEST_F(StreamBatchingTest, EndOfStreamAfterTheLastBytes) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  Send(10);
  writer_.shutdown(tcp::socket::shutdown_send);
  auto [ec, n] = Read(2ms);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 10u);
  auto [ec2, m] = Read(2ms);
  EXPECT_EQ(ec2, asio::error::eof);
  EXPECT_EQ(m, 0u);
}

TEST_F(StreamBatchingTest, CancelledWhileWaiting) {
  ASSERT_TRUE(reader_->SetBatching(64 * 1024));
  std::optional<std::tuple<asio::error_code, size_t>> result;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io_, 20ms);
        // Nothing is sent: the read would wait its 60 s, and is cancelled instead.
        auto r = co_await (reader_->ReadSomeBatched(asio::buffer(buf_), 60s) ||
                           t.async_wait(asio::use_awaitable));
        EXPECT_EQ(r.index(), 1u);
        result = std::tuple(asio::error_code(), size_t{0});
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io_.run_for(30s);
  EXPECT_TRUE(result.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  // The stream is still usable afterwards.
  Send(5);
  auto [ec, n] = Read(2ms);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(n, 5u);
}

}  // namespace
}  // namespace pgveil::proxy
