// A deterministic generator of chat messages like the demo's chat_messages.body:
// Chinese small talk with plenty of innocent numbers (prices, ages, dates, times), a few
// English lines, and a chosen share of messages that carry contact or identity details
// in the ways people write them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgveil::bench {

struct ChatCorpusOptions {
  size_t messages = 20000;
  double contact_share = 0.02;  // fraction of messages with a phone, WeChat, ID, ...
  uint32_t seed = 20240512;
};

std::vector<std::string> MakeChatCorpus(const ChatCorpusOptions& options);

}  // namespace pgveil::bench
