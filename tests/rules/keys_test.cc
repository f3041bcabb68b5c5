// Key files: permissions, format, generation; key material never in messages.
#include "pgveil/rules/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace pgveil::rules {
namespace {

const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pgveil-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string p = (dir_ / name).string();
    std::ofstream(p) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(KeyFile, LoadsA0600File) {
  std::vector<Diagnostic> errors;
  auto ring =
      KeyRing::LoadFile(Write("k.json", R"({"keys": {"crm": ")" + kHex + R"("}})", 0600), &errors);
  ASSERT_NE(ring, nullptr);
  EXPECT_TRUE(errors.empty());
  ASSERT_NE(ring->Find("crm"), nullptr);
  EXPECT_EQ(ring->Find("crm")->data()[1], 0x11);
  EXPECT_EQ(ring->Find("other"), nullptr);
}

TEST_F(KeyFile, RefusesGroupOrOtherAccess) {
  for (mode_t mode : {0640, 0604, 0660, 0644}) {
    std::vector<Diagnostic> errors;
    std::string p = Write("k.json", R"({"keys": {"crm": ")" + kHex + R"("}})", mode);
    EXPECT_EQ(KeyRing::LoadFile(p, &errors), nullptr) << std::oct << mode;
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("chmod 600"), std::string::npos);
  }
}

TEST_F(KeyFile, BadKeysAreReportedWithoutTheirValue) {
  const std::string secret = kHex.substr(0, 62) + "zz";  // not hex
  std::vector<Diagnostic> errors;
  auto ring = KeyRing::LoadFile(
      Write("k.json", R"({"keys": {"a": ")" + secret + R"(", "b": "abcd", "c": 5}, "key": 1})",
            0600),
      &errors);
  EXPECT_EQ(ring, nullptr);
  ASSERT_EQ(errors.size(), 4u);
  for (const auto& e : errors) {
    EXPECT_EQ(e.ToString().find(secret.substr(0, 16)), std::string::npos);
    EXPECT_EQ(e.ToString().find("abcd"), std::string::npos);
  }
  EXPECT_EQ(errors[0].pointer, "/key");
  EXPECT_NE(errors[0].message.find("did you mean \"keys\""), std::string::npos);
  EXPECT_EQ(errors[1].pointer, "/keys/a");
  // A JSON syntax error must not quote the file either.
  errors.clear();
  EXPECT_EQ(
      KeyRing::LoadFile(Write("bad.json", R"({"keys": {"a": ")" + kHex + R"(" )", 0600), &errors),
      nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString().find(kHex.substr(0, 8)), std::string::npos);
}

TEST_F(KeyFile, KeygenWritesA0600FileThatLoads) {
  const std::string p = (dir_ / "new.json").string();
  ASSERT_TRUE(WriteNewKeyFile(p, {"crm", "other"}, false).ok());
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<Diagnostic> errors;
  auto ring = KeyRing::LoadFile(p, &errors);
  ASSERT_NE(ring, nullptr) << (errors.empty() ? "" : errors[0].ToString());
  EXPECT_EQ(ring->Names(), (std::vector<std::string>{"crm", "other"}));
  EXPECT_NE(std::memcmp(ring->Find("crm")->data(), ring->Find("other")->data(), 32), 0);
  // Never replaces an existing file unless asked; when asked, the mode is forced to 0600.
  EXPECT_FALSE(WriteNewKeyFile(p, {"crm"}, false).ok());
  ::chmod(p.c_str(), 0644);
  ASSERT_TRUE(WriteNewKeyFile(p, {"crm"}, true).ok());
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(WriteNewKeyFile((dir_ / "x.json").string(), {}, false).ok());
  EXPECT_FALSE(WriteNewKeyFile((dir_ / "y.json").string(), {"a", "a"}, false).ok());
}

}  // namespace
}  // namespace pgveil::rules
