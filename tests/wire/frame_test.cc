#include "pgveil/wire/frame.h"

#include <gtest/gtest.h>

#include "wire/wire_test_util.h"

namespace pgveil::wire {
namespace {

using testing::I32;
using testing::Msg;
using testing::MsgWithLength;
using testing::Startup;
using testing::Z;

Limits SmallLimits() {
  Limits l;
  l.max_message_bytes = 1024;
  l.max_startup_bytes = 10000;
  return l;
}

TEST(PeekFrame, WholeFrame) {
  std::string buf = Msg('Q', Z("select 1"));
  Frame f;
  Status st;
  ASSERT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kReady);
  EXPECT_EQ(f.type, 'Q');
  EXPECT_EQ(f.body, Z("select 1"));
  EXPECT_EQ(f.total(), buf.size());
}

TEST(PeekFrame, EmptyBodyIsLegal) {
  std::string buf = Msg('S', "");
  Frame f;
  Status st;
  ASSERT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kReady);
  EXPECT_EQ(f.type, 'S');
  EXPECT_TRUE(f.body.empty());
}

TEST(PeekFrame, ByteByByteNeedsMoreUntilLastByte) {
  std::string buf = Msg('D', std::string("\0\1", 2) + I32(3) + "abc");
  for (size_t n = 0; n < buf.size(); ++n) {
    Frame f;
    Status st;
    EXPECT_EQ(PeekFrame(std::string_view(buf).substr(0, n), SmallLimits(), &f, &st),
              Peek::kNeedMore)
        << "prefix of " << n << " bytes";
  }
  Frame f;
  Status st;
  EXPECT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kReady);
}

TEST(PeekFrame, TwoFramesInOneBuffer) {
  std::string first = Msg('Q', Z("select 1"));
  std::string buf = first + Msg('X', "");
  Frame f;
  Status st;
  ASSERT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kReady);
  EXPECT_EQ(f.type, 'Q');
  ASSERT_EQ(f.total(), first.size());
  ASSERT_EQ(PeekFrame(std::string_view(buf).substr(f.total()), SmallLimits(), &f, &st),
            Peek::kReady);
  EXPECT_EQ(f.type, 'X');
}

class BadLengthTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(BadLengthTest, LengthsBelowFourAreProtocolErrors) {
  std::string buf = MsgWithLength('Q', GetParam(), "xxxxxxxx");
  Frame f;
  Status st;
  EXPECT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kError);
  EXPECT_EQ(st.code(), StatusCode::kProtocol);
}
INSTANTIATE_TEST_SUITE_P(ZeroToThree, BadLengthTest, ::testing::Values(0u, 1u, 2u, 3u));

TEST(PeekFrame, OversizeLengthRejectedBeforeBodyArrives) {
  // Only the header is here: the limit must be enforced without waiting for the body.
  std::string buf = MsgWithLength('d', 1025, "");
  Frame f;
  Status st;
  EXPECT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kError);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  buf = MsgWithLength('d', 0xFFFFFFFFu, "");
  EXPECT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kError);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
}

TEST(PeekFrame, LengthAtLimitAccepted) {
  std::string body(1020, 'a');
  std::string buf = Msg('d', body);
  Frame f;
  Status st;
  EXPECT_EQ(PeekFrame(buf, SmallLimits(), &f, &st), Peek::kReady);
}

TEST(PeekHeader, ReadyBeforeBodyComplete) {
  std::string buf = Msg('D', std::string(100, 'x')).substr(0, 10);
  FrameHeader h;
  Status st;
  ASSERT_EQ(PeekHeader(buf, SmallLimits(), &h, &st), Peek::kReady);
  EXPECT_EQ(h.type, 'D');
  EXPECT_EQ(h.length, 104u);
  EXPECT_EQ(h.total(), 105u);
  EXPECT_EQ(h.body_size(), 100u);
}

TEST(PeekStartup, StartupMessage) {
  std::string body = I32(196608) + Z("user") + Z("alice") + Z("");
  std::string buf = Startup(body);
  StartupFrame f;
  Status st;
  ASSERT_EQ(PeekStartup(buf, SmallLimits(), &f, &st), Peek::kReady);
  EXPECT_EQ(f.code, 196608u);
  EXPECT_EQ(f.body, body);
  EXPECT_EQ(f.total(), buf.size());
}

TEST(PeekStartup, SslAndGssRequests) {
  for (uint32_t code : {kSslRequestCode, kGssEncRequestCode}) {
    std::string buf = Startup(I32(code));
    StartupFrame f;
    Status st;
    ASSERT_EQ(PeekStartup(buf, SmallLimits(), &f, &st), Peek::kReady);
    EXPECT_EQ(f.code, code);
  }
}

TEST(PeekStartup, ByteByByte) {
  std::string buf = Startup(I32(196608) + Z("user") + Z("bob") + Z(""));
  for (size_t n = 0; n < buf.size(); ++n) {
    StartupFrame f;
    Status st;
    EXPECT_EQ(PeekStartup(std::string_view(buf).substr(0, n), SmallLimits(), &f, &st),
              Peek::kNeedMore);
  }
}

TEST(PeekStartup, LengthLimits) {
  StartupFrame f;
  Status st;
  for (uint32_t len : {0u, 3u, 4u, 7u}) {
    std::string buf = I32(len) + I32(196608);
    EXPECT_EQ(PeekStartup(buf, SmallLimits(), &f, &st), Peek::kError) << len;
  }
  // As PostgreSQL: the limit is on the packet after its length word.
  std::string big = I32(10005) + I32(196608);
  EXPECT_EQ(PeekStartup(big, SmallLimits(), &f, &st), Peek::kError);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  std::string at_limit = I32(10004) + I32(196608);
  EXPECT_EQ(PeekStartup(at_limit, SmallLimits(), &f, &st), Peek::kNeedMore);
}

}  // namespace
}  // namespace pgveil::wire
