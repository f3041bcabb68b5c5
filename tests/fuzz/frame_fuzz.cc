// libFuzzer target: the frame splitter and every message parser over arbitrary bytes.
// Properties checked besides "no crash, no overread": a frame never extends past the
// input, and the splitter consumes the input monotonically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pgveil/wire/frame.h"
#include "pgveil/wire/messages.h"

using namespace pgveil::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_message_bytes = 1 << 16;

  StartupFrame sf;
  pgveil::Status st;
  if (PeekStartup(in, limits, &sf, &st) == Peek::kReady) {
    if (sf.total() > in.size()) std::abort();
    (void)ParseStartupMessage(sf.body);
    (void)ParseCancelRequest(sf.body);
  }

  size_t pos = 0;
  while (pos < in.size()) {
    Frame f;
    if (PeekFrame(in.substr(pos), limits, &f, &st) != Peek::kReady) break;
    if (f.total() > in.size() - pos || f.total() < 5) std::abort();
    std::string_view b = f.body;
    switch (f.type) {
      case 'R':
        (void)ParseAuthentication(b);
        break;
      case 'K':
        (void)ParseBackendKeyData(b);
        break;
      case 'S':
        (void)ParseParameterStatus(b);
        break;
      case 'Z':
        (void)ParseReadyForQuery(b);
        break;
      case 'v':
        (void)ParseNegotiateProtocolVersion(b);
        break;
      case 'E':
      case 'N':
        (void)ParseNoticeFields(b);
        break;
      case 'T':
        (void)ParseRowDescription(b);
        break;
      case 'D':
        (void)ParseDataRow(b);
        break;
      case 'C':
        (void)ParseCommandComplete(b);
        (void)ParseTarget(b);
        break;
      case 'A':
        (void)ParseNotificationResponse(b);
        break;
      case 'G':
      case 'H':
      case 'W':
        (void)ParseCopyResponse(b);
        break;
      case 't':
        (void)ParseParameterDescription(b);
        break;
      case 'Q':
        (void)ParseQuery(b);
        break;
      case 'P':
        (void)ParseParse(b);
        break;
      case 'B':
        (void)ParseBind(b);
        break;
      case 'E' + 128:
        break;
      case 'e':
        (void)ParseExecute(b);
        break;
      case 'F':
        (void)ParseFunctionCall(b);
        break;
      case 'f':
        (void)ParseCopyFail(b);
        break;
      default:
        (void)ParseExecute(b);
        (void)ParseTarget(b);
        break;
    }
    pos += f.total();
  }
  return 0;
}
