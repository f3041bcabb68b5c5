// The audit log file: one JSON object per line, rotation by size, reopen after an
// external rename, many writer threads.
#include "pgveil/audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

namespace pgveil::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pgveil-audit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<std::string> Lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  static AuditRecord Record(int i) {
    AuditRecord r;
    r.login = "sales_li";
    r.policy = "sales";
    r.client_address = "127.0.0.1:5000";
    r.database = "crm";
    r.statement = SummarizeStatement("SELECT nickname FROM crm.members WHERE member_id = " +
                                     std::to_string(1000 + i));
    r.relations = {"crm.members"};
    r.columns = {"crm.members.nickname", "crm.members.member_id"};
    r.output = {{"nickname", "crm.members.nickname", "show"}};
    r.rows = i;
    return r;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(AuditLogTest, WritesOneJsonObjectPerLineWithMode0600) {
  auto log = AuditLog::Open({.path = path_});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*log)->Append(Record(i)).ok());
  auto lines = Lines(path_);
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    json j = json::parse(lines[i]);
    EXPECT_EQ(j["login"], "sales_li");
    EXPECT_EQ(j["rows"], i);
    EXPECT_EQ(j["statement"], "SELECT nickname FROM crm.members WHERE member_id = $1");
    EXPECT_EQ(j["fingerprint"].get<std::string>().size(), 16u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ((*log)->records(), 3u);
}

// Result column names are aliases the client wrote: a phone number or a name written as
// one stays out of the log, like the statement's literals.
TEST_F(AuditLogTest, OutputNamesThatLookLikeValuesAreWithheld) {
  auto log = AuditLog::Open({.path = path_});
  ASSERT_TRUE(log.ok());
  AuditRecord r = Record(0);
  r.output = {{"nickname", "crm.members.nickname", "show"},
              {"13800138000", "crm.members.nickname", "show"},
              {"张伟", "", "show"},
              {"li.na@example.com", "", "show"}};
  ASSERT_TRUE((*log)->Append(r).ok());
  auto lines = Lines(path_);
  ASSERT_EQ(lines.size(), 1u);
  json j = json::parse(lines[0]);
  ASSERT_EQ(j["output"].size(), 4u);
  EXPECT_EQ(j["output"][0]["name"], "nickname");
  EXPECT_EQ(j["output"][1]["name"], "?");
  EXPECT_EQ(j["output"][2]["name"], "?");
  EXPECT_EQ(j["output"][3]["name"], "?");
  EXPECT_EQ(lines[0].find("13800138000"), std::string::npos);
}

TEST_F(AuditLogTest, AppendsToAnExistingFile) {
  { std::ofstream(path_) << "{\"old\":1}\n"; }
  auto log = AuditLog::Open({.path = path_});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendLine("{\"new\":2}").ok());
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"{\"old\":1}", "{\"new\":2}"}));
}

TEST_F(AuditLogTest, RejectsBadOptionsAndMultiLineRecords) {
  EXPECT_FALSE(AuditLog::Open({.path = ""}).ok());
  EXPECT_FALSE(AuditLog::Open({.path = path_, .keep = 0}).ok());
  EXPECT_FALSE(AuditLog::Open({.path = (dir_ / "missing" / "a.jsonl").string()}).ok());
  auto log = AuditLog::Open({.path = path_});
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE((*log)->AppendLine("{}\n{}").ok());
}

TEST_F(AuditLogTest, RotatesBySizeKeepingAtMostKeepFiles) {
  // Lines of exactly 100 bytes; 350 bytes per file: 3 lines fit, the 4th rotates.
  const std::string line = "{\"n\":\"" + std::string(100 - 9, 'x') + "\"}";
  ASSERT_EQ(line.size() + 1, 100u);
  auto log = AuditLog::Open({.path = path_, .max_bytes = 350, .keep = 3});
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*log)->AppendLine(line).ok()) << i;
  // 10 lines: files of 3, 3, 3, 1 -> the oldest 3 were dropped.
  EXPECT_EQ(Lines(path_).size(), 1u);
  EXPECT_EQ(Lines(path_ + ".1").size(), 3u);
  EXPECT_EQ(Lines(path_ + ".2").size(), 3u);
  EXPECT_FALSE(fs::exists(path_ + ".3"));
  EXPECT_LE(fs::file_size(path_ + ".1"), 350u);
  EXPECT_EQ((*log)->records(), 10u);
}

TEST_F(AuditLogTest, KeepOneTruncatesInPlace) {
  auto log = AuditLog::Open({.path = path_, .max_bytes = 20, .keep = 1});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendLine("{\"a\":111111111}").ok());
  ASSERT_TRUE((*log)->AppendLine("{\"b\":222222222}").ok());
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"{\"b\":222222222}"}));
  EXPECT_FALSE(fs::exists(path_ + ".1"));
}

TEST_F(AuditLogTest, ALineLargerThanTheLimitStillGetsWritten) {
  auto log = AuditLog::Open({.path = path_, .max_bytes = 10, .keep = 2});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendLine("{\"long\":\"0123456789\"}").ok());
  ASSERT_TRUE((*log)->AppendLine("{\"long\":\"abcdefghij\"}").ok());
  EXPECT_EQ(Lines(path_).size(), 1u);
  EXPECT_EQ(Lines(path_ + ".1").size(), 1u);
}

TEST_F(AuditLogTest, ReopenAfterRenameStartsANewFile) {
  auto log = AuditLog::Open({.path = path_});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->AppendLine("{\"before\":1}").ok());
  fs::rename(path_, path_ + ".rotated");                    // what logrotate does before SIGHUP
  ASSERT_TRUE((*log)->AppendLine("{\"between\":2}").ok());  // still the renamed file
  ASSERT_TRUE((*log)->Reopen().ok());
  ASSERT_TRUE((*log)->AppendLine("{\"after\":3}").ok());
  EXPECT_EQ(Lines(path_ + ".rotated"),
            (std::vector<std::string>{"{\"before\":1}", "{\"between\":2}"}));
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{"{\"after\":3}"}));
}

TEST_F(AuditLogTest, ConcurrentWritersNeverInterleaveLines) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  auto log = AuditLog::Open({.path = path_, .max_bytes = 64 << 10, .keep = 100});
  ASSERT_TRUE(log.ok());
  AuditLog* l = log->get();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([l, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AuditRecord r;
        r.login = "t" + std::to_string(t);
        r.rows = i;
        r.statement = SummarizeStatement("SELECT 1");
        if (!l->Append(r).ok()) std::abort();
        if (t == 0 && i % 100 == 0 && !l->Reopen().ok()) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::pair<std::string, int64_t>> seen;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
    for (const std::string& line : Lines(entry.path().string())) {
      json j = json::parse(line);  // throws (fails the test) on an interleaved line
      seen.insert({j["login"].get<std::string>(), j["rows"].get<int64_t>()});
    }
  }
  EXPECT_GT(files, 1u);  // it did rotate under load
  EXPECT_EQ(seen.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(l->records(), uint64_t{kThreads * kPerThread});
}

TEST(AuditRecordTest, FormatsTimeAsRfc3339UtcWithMilliseconds) {
  using namespace std::chrono;
  system_clock::time_point t{milliseconds(1714552200123)};  // 2024-05-01T08:30:00.123Z
  EXPECT_EQ(FormatTime(t), "2024-05-01T08:30:00.123Z");
  EXPECT_EQ(FormatTime(system_clock::time_point{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

TEST(AuditRecordTest, RefusalMessagesLoseQuotedTextAndDetectedValues) {
  AuditRecord r;
  r.statement = SummarizeStatement("SELECT phone FROM crm.members");
  r.refusal = Refusal{"42501", "column 'x13812345678' may not be used; call 13912345678"};
  json j = json::parse(ToJson(r));
  EXPECT_EQ(j["refused"]["sqlstate"], "42501");
  const std::string m = j["refused"]["message"];
  EXPECT_EQ(m.find("13812345678"), std::string::npos) << m;
  EXPECT_EQ(m.find("13912345678"), std::string::npos) << m;
  EXPECT_NE(m.find("may not be used"), std::string::npos) << m;
  EXPECT_FALSE(j.contains("rows"));
}

}  // namespace
}  // namespace pgveil::audit
