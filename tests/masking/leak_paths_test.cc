// Leaks through paths other than ordinary result rows, in a masked session (raw_sales,
// policy sales) spoken to with the harness's protocol client: COPY options that pgveil
// read differently from the server, notifications sent by other sessions, error and
// notice fields set by PL/pgSQL, and pgveil's own log. Every scenario that can also run
// straight against PostgreSQL does so first, and must show raw values there: the proof
// that the scanner would see the leak.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "harness/raw_client.h"
#include "leak_scanner.h"
#include "masking_env.h"

namespace pgveil::masking {
namespace {

using it::BackendMessage;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fe = it::fe;
namespace be = it::be;

// One raw session that keeps every message it receives.
class Session {
 public:
  static std::unique_ptr<Session> Open(int port, const std::string& user = kRawSales,
                                       const fe::Params& extra = {}) {
    auto client = it::RawClient::Connect(port);
    if (!client.ok()) {
      ADD_FAILURE() << client.status().ToString();
      return nullptr;
    }
    auto s = std::unique_ptr<Session>(new Session(std::move(*client)));
    auto startup = s->client_->StartupTrust(user, it::kDatabase, extra);
    if (!startup.ok()) {
      ADD_FAILURE() << startup.status().ToString();
      return nullptr;
    }
    s->all_ = *startup;
    return s;
  }

  // Sends `script` and reads until `ready` ReadyForQuery messages.
  std::vector<BackendMessage> Run(const std::string& script, int ready = 1) {
    std::vector<BackendMessage> got;
    if (Status st = client_->Send(script); !st.ok()) {
      ADD_FAILURE() << st.ToString();
      return got;
    }
    for (int i = 0; i < ready; ++i) {
      auto part = client_->ReadUntil('Z', seconds(60));
      if (!part.ok()) {
        ADD_FAILURE() << part.status().ToString();
        break;
      }
      got.insert(got.end(), part->begin(), part->end());
    }
    all_.insert(all_.end(), got.begin(), got.end());
    return got;
  }

  // Reads until `n` messages of type `type` arrived or `wait` passed.
  std::vector<BackendMessage> Await(char type, int n, milliseconds wait) {
    std::vector<BackendMessage> got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int seen = 0;
    while (seen < n && std::chrono::steady_clock::now() < deadline) {
      auto m = client_->ReadMessage(milliseconds(100));
      if (!m.ok()) continue;
      seen += m->type == type;
      got.push_back(*m);
    }
    all_.insert(all_.end(), got.begin(), got.end());
    return got;
  }

  const std::vector<BackendMessage>& all() const { return all_; }

 private:
  explicit Session(std::unique_ptr<it::RawClient> c) : client_(std::move(c)) {}
  std::unique_ptr<it::RawClient> client_;
  std::vector<BackendMessage> all_;
};

int Count(const std::vector<BackendMessage>& ms, char type) {
  int n = 0;
  for (const auto& m : ms) n += m.type == type;
  return n;
}

std::vector<std::string> Sqlstates(const std::vector<BackendMessage>& ms) {
  std::vector<std::string> codes;
  for (const auto& m : ms) {
    if (m.type == 'E') codes.push_back(be::Fields(m.body)['C']);
  }
  return codes;
}

std::string Join(const std::vector<std::string>& v, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += "\n  " + v[i];
  if (v.size() > max) out += "\n  ... and " + std::to_string(v.size() - max) + " more";
  return out;
}

class LeakPathsTest : public MaskingTest {
 protected:
  static void SetUpTestSuite() {
    auto s = LeakScanner::Load();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scanner_ = new LeakScanner(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete scanner_;
    scanner_ = nullptr;
  }

  // Runs `scenario` directly (where it must show raw values, unless `direct_leaks` is
  // false) and through pgveil (where it must not).
  void ExpectNoLeak(const std::string& name,
                    const std::function<void(Session&, bool proxied)>& scenario,
                    bool direct_leaks = true) {
    SCOPED_TRACE(name);
    auto direct = Session::Open(Env().server_port());
    ASSERT_NE(direct, nullptr);
    scenario(*direct, false);
    if (direct_leaks) {
      EXPECT_FALSE(scanner_->Scan(direct->all()).empty())
          << "the direct session should show raw values: the scenario proves nothing";
    }
    auto proxied = Session::Open(Env().proxy_port());
    ASSERT_NE(proxied, nullptr);
    scenario(*proxied, true);
    auto leaks = scanner_->Scan(proxied->all());
    EXPECT_TRUE(leaks.empty()) << leaks.size()
                               << " raw values reached the masked session:" << Join(leaks);
  }

  static LeakScanner* scanner_;
};

LeakScanner* LeakPathsTest::scanner_ = nullptr;

// COPY options given as numbers are read by the server as their text: `DELIMITER 9`
// splits CSV rows at '9'. pgveil read them as absent and split at ',' or a tab, so a
// constant column holding tabs moved the raw value of the next column into the
// constant's place, which is shown as it is.
TEST_F(LeakPathsTest, CopyOptionsGivenAsNumbers) {
  ExpectNoLeak("numeric COPY options", [](Session& s, bool) {
    // (Columns whose masked values end in digits are left out: next to a digit delimiter
    // they would make digit runs that the scanner could take for QQ numbers.)
    auto got = s.Run(
        fe::Query("COPY (SELECT 'x' AS a, real_name, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 9); "
                  "COPY (SELECT 'x' AS a, email, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 0, QUOTE 7); "
                  "COPY (SELECT 'x' AS a, id_card_no, E'\\t\\ty' AS b FROM crm.members) TO STDOUT "
                  "(FORMAT csv, DELIMITER 5, ESCAPE 8)"));
    EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
    EXPECT_EQ(Count(got, 'd'), 3 * kMembers);
  });
}

// `HEADER (false)` is false for the server (a one-element list is read as its text);
// pgveil took any HEADER it could not read for true, and passed the first row on as the
// header line, unmasked.
TEST_F(LeakPathsTest, CopyHeaderGivenAsAList) {
  ExpectNoLeak("HEADER (false)", [](Session& s, bool proxied) {
    const std::string copies[] = {
        "COPY crm.members (phone, real_name, id_card_no) TO STDOUT (FORMAT csv, HEADER (false))",
        "COPY (SELECT phone, real_name, email FROM crm.members WHERE grade = 'A') TO STDOUT "
        "(FORMAT csv, HEADER (off))",
    };
    for (const auto& sql : copies) {
      auto got = s.Run(fe::Query(sql));
      if (proxied) {
        EXPECT_EQ(Sqlstates(got), std::vector<std::string>{"0A000"});
        EXPECT_EQ(Count(got, 'd'), 0);
      } else {
        EXPECT_EQ(Count(got, 'E'), 0) << Join(Sqlstates(got));
      }
    }
  });
}

}  // namespace
}  // namespace pgveil::masking
