#include "harness/raw_exchange.h"

#include <cstdio>

#include "harness/pg_cluster.h"

namespace pgveil::it {

Exchange RunExchange(int port, const std::string& user, const std::string& script, int ready_count,
                     const std::string& app) {
  Exchange ex;
  auto client = RawClient::Connect(port);
  if (!client.ok()) {
    ex.status = client.status();
    return ex;
  }
  auto startup = (*client)->StartupTrust(user, kDatabase, {{"application_name", app}});
  if (!startup.ok()) {
    ex.status = startup.status();
    return ex;
  }
  if (Status st = (*client)->Send(script); !st.ok()) {
    ex.status = st;
    return ex;
  }
  for (int i = 0; i < ready_count; ++i) {
    auto part = (*client)->ReadUntil('Z', std::chrono::seconds(30));
    if (!part.ok()) {
      ex.status = part.status();
      return ex;
    }
    ex.messages.insert(ex.messages.end(), part->begin(), part->end());
  }
  ex.status = (*client)->Send(fe::Terminate());
  return ex;
}

std::string Dump(const std::vector<BackendMessage>& messages) {
  std::string out;
  for (const BackendMessage& m : messages) {
    out.push_back(m.type);
    out += " ";
    for (unsigned char c : m.body) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out.push_back(static_cast<char>(c));
      } else {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out += buf;
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace pgveil::it
