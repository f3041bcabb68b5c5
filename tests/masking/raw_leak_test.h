// What the raw-wire leak tests share (leak_test.cc, leak_paths_test.cc): a raw protocol
// session that keeps every message it receives, and a fixture that runs a scenario once
// directly (where the scanner must find raw values, or the scenario proves nothing) and
// once through pgveil (where it must find none).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/raw_client.h"
#include "leak_scanner.h"
#include "masking_env.h"

namespace pgveil::masking {

class RawSession {
 public:
  static std::unique_ptr<RawSession> Open(int port, const std::string& user = kRawSales,
                                          const it::fe::Params& extra = {}) {
    auto client = it::RawClient::Connect(port);
    if (!client.ok()) {
      ADD_FAILURE() << client.status().ToString();
      return nullptr;
    }
    auto s = std::unique_ptr<RawSession>(new RawSession(std::move(*client)));
    auto startup = s->client_->StartupTrust(user, it::kDatabase, extra);
    if (!startup.ok()) {
      ADD_FAILURE() << startup.status().ToString();
      return nullptr;
    }
    s->all_ = *startup;
    s->startup_count_ = s->all_.size();
    return s;
  }

  // Sends `script` and reads until `ready` ReadyForQuery messages; returns those messages.
  std::vector<it::BackendMessage> Run(const std::string& script, int ready = 1) {
    std::vector<it::BackendMessage> got;
    if (Status st = client_->Send(script); !st.ok()) {
      ADD_FAILURE() << st.ToString();
      return got;
    }
    for (int i = 0; i < ready; ++i) {
      auto part = client_->ReadUntil('Z', std::chrono::seconds(60));
      if (!part.ok()) {
        ADD_FAILURE() << part.status().ToString();
        break;
      }
      got.insert(got.end(), part->begin(), part->end());
    }
    all_.insert(all_.end(), got.begin(), got.end());
    return got;
  }

  // Reads whatever arrives within `wait` (asynchronous messages).
  std::vector<it::BackendMessage> Drain(std::chrono::milliseconds wait) {
    std::vector<it::BackendMessage> got;
    for (;;) {
      auto m = client_->ReadMessage(wait);
      if (!m.ok()) break;
      got.push_back(*m);
    }
    all_.insert(all_.end(), got.begin(), got.end());
    return got;
  }

  // Reads until `n` messages of type `type` arrived or `wait` passed.
  std::vector<it::BackendMessage> Await(char type, int n, std::chrono::milliseconds wait) {
    std::vector<it::BackendMessage> got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int seen = 0;
    while (seen < n && std::chrono::steady_clock::now() < deadline) {
      auto m = client_->ReadMessage(std::chrono::milliseconds(100));
      if (!m.ok()) continue;
      seen += m->type == type;
      got.push_back(*m);
    }
    all_.insert(all_.end(), got.begin(), got.end());
    return got;
  }

  const std::vector<it::BackendMessage>& all() const { return all_; }
  // Everything after the startup's ReadyForQuery.
  std::vector<it::BackendMessage> after_startup() const {
    return {all_.begin() + static_cast<std::ptrdiff_t>(startup_count_), all_.end()};
  }

 private:
  explicit RawSession(std::unique_ptr<it::RawClient> c) : client_(std::move(c)) {}
  std::unique_ptr<it::RawClient> client_;
  std::vector<it::BackendMessage> all_;
  size_t startup_count_ = 0;
};

inline int Count(const std::vector<it::BackendMessage>& ms, char type) {
  int n = 0;
  for (const auto& m : ms) n += m.type == type;
  return n;
}

inline std::vector<std::string> Sqlstates(const std::vector<it::BackendMessage>& ms) {
  std::vector<std::string> codes;
  for (const auto& m : ms) {
    if (m.type == 'E') codes.push_back(it::be::Fields(m.body)['C']);
  }
  return codes;
}

inline std::string Join(const std::vector<std::string>& v, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += "\n  " + v[i];
  if (v.size() > max) out += "\n  ... and " + std::to_string(v.size() - max) + " more";
  return out;
}

class RawLeakTest : public MaskingTest {
 protected:
  static void LoadScanner() {
    auto s = LeakScanner::Load();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scanner_ = new LeakScanner(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete scanner_;
    scanner_ = nullptr;
  }

  // Runs `scenario` directly (where it must show raw values, unless `direct_leaks` is
  // false: e.g. a refusal that only pgveil makes) and through pgveil (where it must not).
  void ExpectNoLeak(const std::string& name,
                    const std::function<void(RawSession&, bool proxied)>& scenario,
                    bool direct_leaks = true) {
    SCOPED_TRACE(name);
    ASSERT_NE(scanner_, nullptr) << "the leak scanner did not load";
    auto direct = RawSession::Open(Env().server_port());
    ASSERT_NE(direct, nullptr);
    scenario(*direct, false);
    if (direct_leaks) {
      EXPECT_FALSE(scanner_->Scan(direct->all()).empty())
          << "the direct session should show raw values: the scenario proves nothing";
    }
    auto proxied = RawSession::Open(Env().proxy_port());
    ASSERT_NE(proxied, nullptr);
    scenario(*proxied, true);
    auto leaks = scanner_->Scan(proxied->all());
    EXPECT_TRUE(leaks.empty()) << leaks.size()
                               << " raw values reached the masked session:" << Join(leaks);
  }

  static inline LeakScanner* scanner_ = nullptr;
};

}  // namespace pgveil::masking
