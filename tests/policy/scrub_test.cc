// Scrubbing of the server's notices for masked sessions (policy/scrub.h).
#include "pgveil/policy/scrub.h"

#include <gtest/gtest.h>

#include <string>

#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {
namespace {

std::string Notice(const std::string& severity, const std::string& message) {
  std::string body;
  wire::Writer w(&body);
  w.Begin(wire::be::kNoticeResponse)
      .Byte('S')
      .CString(severity)
      .Byte('V')
      .CString(severity)
      .Byte('C')
      .CString("00000")
      .Byte('M')
      .CString(message)
      .Byte('\0')
      .End();
  return body.substr(5);  // the fields, after the type and length
}

TEST(ScrubTest, LogAndDebugNoticesAreNotPassedOn) {
  // They quote statements as the server received them (pseudonyms turned back).
  for (const char* severity : {"LOG", "DEBUG", "DEBUG1", "DEBUG2"}) {
    std::string out;
    ASSERT_TRUE(AppendScrubbedNotice(wire::be::kNoticeResponse,
                                     Notice(severity, "parse <unnamed>: SELECT 1 WHERE id = 7"),
                                     nullptr, &out, false)
                    .ok());
    EXPECT_TRUE(out.empty()) << severity;
  }
  std::string out;
  ASSERT_TRUE(AppendScrubbedNotice(wire::be::kNoticeResponse, Notice("NOTICE", "hello"), nullptr,
                                   &out, false)
                  .ok());
  EXPECT_NE(out.find("hello"), std::string::npos);
}

}  // namespace
}  // namespace pgveil::policy
