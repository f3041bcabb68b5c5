// Runs one scripted raw-protocol exchange against a port and returns what came back, so
// that the answer through pgveil can be compared byte for byte with a direct one.
#pragma once

#include <string>
#include <vector>

#include "harness/raw_client.h"

namespace pgveil::it {

struct Exchange {
  Status status;                         // ok unless connecting or reading failed
  std::vector<BackendMessage> messages;  // after the startup's ReadyForQuery
};

// Logs in as `user` (trust) with application_name `app`, sends `script` in one write
// and reads until `ready_count` ReadyForQuery messages have arrived.
Exchange RunExchange(int port, const std::string& user, const std::string& script, int ready_count,
                     const std::string& app = "raw-exchange");

// A readable dump of messages: one line per message, type then escaped body.
std::string Dump(const std::vector<BackendMessage>& messages);

}  // namespace pgveil::it
