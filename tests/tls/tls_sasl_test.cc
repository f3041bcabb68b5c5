// RemoveChannelBindingMechanisms on byte literals: what the client is offered once TLS
// ends at pgveil.
#include "proxy/tls_sasl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pgveil::proxy {
namespace {

// An AuthenticationSASL message offering `mechanisms`, in order.
std::string Offer(const std::vector<std::string>& mechanisms) {
  std::string body("\0\0\0\x0a", 4);
  for (const auto& m : mechanisms) body += m + '\0';
  body += '\0';
  uint32_t len = static_cast<uint32_t>(body.size() + 4);
  std::string msg = "R";
  for (int shift = 24; shift >= 0; shift -= 8) msg += static_cast<char>(len >> shift);
  return msg + body;
}

TEST(RemoveChannelBinding, ServerOverTlsOffersPlusFirst) {
  std::string msg = Offer({"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->removed, 1);
  EXPECT_EQ(r->remaining, 1);
  EXPECT_EQ(msg.substr(0, r->total), Offer({"SCRAM-SHA-256"}));
}

TEST(RemoveChannelBinding, PlusLastAndSeveral) {
  std::string msg = Offer({"SCRAM-SHA-256", "SCRAM-SHA-512-PLUS", "X-TEST", "SCRAM-SHA-256-PLUS"});
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 2);
  EXPECT_EQ(r->remaining, 2);
  EXPECT_EQ(msg.substr(0, r->total), Offer({"SCRAM-SHA-256", "X-TEST"}));
}

TEST(RemoveChannelBinding, NothingToRemoveLeavesTheMessageAsItWas) {
  const std::string original = Offer({"SCRAM-SHA-256"});
  std::string msg = original;
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 0);
  EXPECT_EQ(r->total, original.size());
  EXPECT_EQ(msg, original);
}

TEST(RemoveChannelBinding, OnlyPlusLeavesAnEmptyOffer) {
  std::string msg = Offer({"SCRAM-SHA-256-PLUS"});
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->remaining, 0);
  EXPECT_EQ(msg.substr(0, r->total), Offer({}));
}

TEST(RemoveChannelBinding, NamesThatOnlyContainPlusStay) {
  std::string msg = Offer({"PLUS", "-PLUS-X", "A-PLUSX"});
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 0);
  EXPECT_EQ(r->remaining, 3);
}

TEST(RemoveChannelBinding, MalformedOffersAreRefusedUntouched) {
  std::vector<std::string> bad;
  std::string good = Offer({"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
  bad.push_back(good.substr(0, good.size() - 1));  // no final empty name
  bad.push_back(good + "x");                       // bytes after the list
  std::string wrong_code = good;
  wrong_code[8] = 11;  // SASLContinue, not SASL
  bad.push_back(wrong_code);
  std::string wrong_len = good;
  wrong_len[4] = static_cast<char>(wrong_len[4] + 1);  // length word off by one
  bad.push_back(wrong_len);
  std::string wrong_type = good;
  wrong_type[0] = 'E';
  bad.push_back(wrong_type);
  bad.push_back(std::string("R\0\0\0\x08\0\0\0\x0a", 9));  // no list at all
  for (std::string& msg : bad) {
    const std::string before = msg;
    auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(msg, before);
  }
}

TEST(RemoveChannelBinding, LayoutErrorsWithACorrectLengthWord) {
  // Correct length word, but the last name is not terminated.
  std::string body("\0\0\0\x0aSCRAM-SHA-256", 17);
  std::string msg = "R";
  uint32_t len = static_cast<uint32_t>(body.size() + 4);
  for (int shift = 24; shift >= 0; shift -= 8) msg += static_cast<char>(len >> shift);
  msg += body;
  const std::string before = msg;
  auto r = RemoveChannelBindingMechanisms(msg.data(), msg.size());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(msg, before);
}

// A SASLInitialResponse body: mechanism, Int32 length, client-first-message.
std::string Initial(const std::string& mechanism, const std::string& data) {
  std::string body = mechanism + '\0';
  uint32_t len = static_cast<uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) body += static_cast<char>(len >> shift);
  return body + data;
}

TEST(SaslGs2Flag, ReadsTheFlagOfEachKind) {
  EXPECT_EQ(*SaslGs2Flag(Initial("SCRAM-SHA-256", "n,,n=,r=abc")), 'n');
  EXPECT_EQ(*SaslGs2Flag(Initial("SCRAM-SHA-256", "y,,n=,r=abc")), 'y');
  EXPECT_EQ(*SaslGs2Flag(Initial("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc")), 'p');
}

TEST(SaslGs2Flag, MalformedBodiesAreErrors) {
  EXPECT_FALSE(SaslGs2Flag("").ok());
  EXPECT_FALSE(SaslGs2Flag(std::string("SCRAM-SHA-256")).ok());       // no NUL
  EXPECT_FALSE(SaslGs2Flag(Initial("SCRAM-SHA-256", "")).ok());       // no data
  EXPECT_FALSE(SaslGs2Flag(Initial("SCRAM-SHA-256", "x,,n=")).ok());  // unknown flag
  std::string wrong = Initial("SCRAM-SHA-256", "n,,n=,r=abc");
  wrong.pop_back();  // length says more
  EXPECT_FALSE(SaslGs2Flag(wrong).ok());
  std::string minus_one = std::string("M\0", 2) + std::string(4, '\xff') + "n";
  EXPECT_FALSE(SaslGs2Flag(minus_one).ok());  // -1: no data
}

}  // namespace
}  // namespace pgveil::proxy
