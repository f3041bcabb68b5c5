// Redaction of free text for sales, against the generator's ground truth
// (crm_truth.*_pii: every contact or identity detail embedded in chat bodies, about_me
// and contact notes, exactly as written): no raw fragment may reach a sales session, in
// query results or in COPY output.
#include <gtest/gtest.h>

#include <map>

#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

struct Fragment {
  std::string key, kind, style, raw;
};

struct FreeText {
  std::string raw_sql;     // key, raw text (as postgres, direct)
  std::string masked_sql;  // the text column only, same order (through pgveil)
  std::string truth_sql;   // key, kind, style, raw_fragment
};

const FreeText kChat = {"SELECT message_id, body FROM crm.chat_messages",
                        "SELECT body FROM crm.chat_messages",
                        "SELECT message_id, kind, style, raw_fragment FROM crm_truth.chat_pii"};
const FreeText kAboutMe = {
    "SELECT member_id, about_me FROM crm.members", "SELECT about_me FROM crm.members",
    "SELECT member_id, kind, style, raw_fragment FROM crm_truth.about_me_pii"};
const FreeText kNotes = {
    "SELECT contact_id, note FROM crm.contact_log", "SELECT note FROM crm.contact_log",
    "SELECT contact_id, kind, style, raw_fragment FROM crm_truth.contact_note_pii"};

class RedactionTest : public MaskingTest {
 protected:
  // Checks every ground-truth fragment against the masked text of its row; returns the
  // number of fragments checked.
  static size_t CheckNoFragmentSurvives(const FreeText& t, const std::string& login) {
    auto raw = Env().Query(t.raw_sql);
    auto truth = Env().Query(t.truth_sql);
    auto masked = Fetch(Env().ProxyConnInfo(login), t.masked_sql);
    EXPECT_TRUE(raw.ok() && truth.ok() && masked.ok());
    if (!raw.ok() || !truth.ok() || !masked.ok()) return 0;
    EXPECT_EQ(masked->rows.size(), raw->size());
    if (masked->rows.size() != raw->size()) return 0;
    std::map<std::string, std::string> masked_by_key;
    std::string all_masked;
    size_t changed = 0;
    for (size_t r = 0; r < raw->size(); ++r) {
      const Cell& m = masked->rows[r][0];
      const Cell& orig = (*raw)[r][1];
      EXPECT_EQ(m.has_value(), orig.has_value()) << "row " << r;
      if (!m) continue;
      masked_by_key[*(*raw)[r][0]] = *m;
      all_masked += *m + "\n";
      changed += *m != *orig;
    }
    size_t checked = 0;
    // Survivors per "kind/style", with the masked text just before each (what sales
    // sees anyway), so that a report shows how the detail was written.
    std::map<std::string, std::vector<std::string>> survivors;
    std::map<std::string, size_t> totals;
    for (const auto& row : *truth) {
      Fragment f{*row[0], *row[1], *row[2], *row[3]};
      auto it = masked_by_key.find(f.key);
      EXPECT_NE(it, masked_by_key.end()) << "no masked text for " << f.key;
      if (it == masked_by_key.end()) continue;
      const std::string& text = it->second;
      const std::string label = f.kind + "/" + f.style;
      ++totals[label];
      ++checked;
      size_t at = text.find(f.raw);
      // Phone and card numbers: not even their digits in sequence.
      const std::string digits = DigitsOf(f.raw);
      const bool digits_survive =
          (f.kind == "phone" || f.kind == "id_card" || f.kind == "bank_card") &&
          digits.size() >= 11 && DigitsOf(text).find(digits) != std::string::npos;
      // Nor anywhere else in the whole masked column.
      const bool elsewhere = all_masked.find(f.raw) != std::string::npos;
      if (at == std::string::npos && !digits_survive && !elsewhere) continue;
      std::string before = at == std::string::npos ? "" : text.substr(0, at);
      size_t cut = before.size();
      for (int cps = 0; cut > 0 && cps < 8;) {
        --cut;
        if ((static_cast<unsigned char>(before[cut]) & 0xC0) != 0x80) ++cps;
      }
      std::string how = " after \"" + before.substr(cut) + "\"";
      if (at == std::string::npos) {
        how = digits_survive ? " (its digits, in sequence)"
                             : " (redacted here; the same detail survives in another row)";
      }
      survivors[label].push_back("key " + f.key + how);
    }
    for (const auto& [label, list] : survivors) {
      std::string examples;
      for (size_t i = 0; i < list.size() && i < 5; ++i) examples += "\n    " + list[i];
      ADD_FAILURE() << t.masked_sql << " as " << login << ": " << list.size() << " of "
                    << totals[label] << " " << label << " details survived redaction, e.g."
                    << examples;
    }
    EXPECT_GE(changed, checked > 0 ? 1u : 0u);
    return checked;
  }
};

TEST_F(RedactionTest, ChatBodiesAsSalesHoldNoContactDetails) {
  EXPECT_GE(CheckNoFragmentSurvives(kChat, "sales_li"), 100u);
}

TEST_F(RedactionTest, ChatBodiesAsSalesLeadHoldNoContactDetails) {
  EXPECT_GE(CheckNoFragmentSurvives(kChat, "lead_zhao"), 100u);
}

TEST_F(RedactionTest, AboutMeAndContactNotesHoldNoContactDetails) {
  EXPECT_GT(CheckNoFragmentSurvives(kAboutMe, "sales_wang"), 0u);
  EXPECT_GT(CheckNoFragmentSurvives(kNotes, "sales_wang"), 0u);
}

TEST_F(RedactionTest, InnocentNumbersMostlySurvive) {
  // Prices, ages, dates, order numbers: redaction that removed every number would pass
  // the checks above; this one keeps it honest.
  auto raw = Env().Query("SELECT message_id FROM crm.chat_messages");
  auto innocent = Env().Query("SELECT message_id, fragment FROM crm_truth.chat_innocent");
  auto masked = Fetch(Env().ProxyConnInfo("sales_li"), kChat.masked_sql);
  ASSERT_TRUE(raw.ok() && innocent.ok() && masked.ok());
  ASSERT_EQ(masked->rows.size(), raw->size());
  std::map<std::string, std::string> by_id;
  for (size_t r = 0; r < raw->size(); ++r) by_id[*(*raw)[r][0]] = masked->rows[r][0].value_or("");
  size_t kept = 0;
  for (const auto& row : *innocent) kept += by_id[*row[0]].find(*row[1]) != std::string::npos;
  ASSERT_GT(innocent->size(), 50u);
  EXPECT_GE(kept * 100, innocent->size() * 90)
      << kept << " of " << innocent->size() << " innocent numbers survived";
}

TEST_F(RedactionTest, CopyOfChatMessagesHoldsNoContactDetails) {
  auto truth = Env().Query(kChat.truth_sql);
  ASSERT_TRUE(truth.ok());
  auto conn = it::Connect(Env().ProxyConnInfo("sales_li"));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  // The whole table too: there, all-digit fragments (QQ numbers) are left out, as they
  // can occur inside pseudonyms and timestamps by chance.
  for (const char* sql : {"COPY crm.chat_messages (body) TO STDOUT",
                          "COPY crm.chat_messages (body) TO STDOUT (FORMAT csv)",
                          "COPY crm.chat_messages (body) TO STDOUT (FORMAT binary)",
                          "COPY crm.chat_messages TO STDOUT"}) {
    const bool whole_table = std::string_view(sql).find("(body)") == std::string_view::npos;
    it::PgResult res(PQexec(conn->get(), sql));
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_COPY_OUT) << sql << PQerrorMessage(conn->get());
    std::string out;
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(conn->get(), &buf, 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      PQfreemem(buf);
    }
    it::PgResult end(PQgetResult(conn->get()));
    ASSERT_EQ(PQresultStatus(end.get()), PGRES_COMMAND_OK) << sql;
    ASSERT_GT(out.size(), 10000u) << sql;
    std::map<std::string, int> survived;  // "kind/style" → count
    for (const auto& row : *truth) {
      if (whole_table && DigitsOf(*row[3]) == *row[3]) continue;
      if (out.find(*row[3]) != std::string::npos) ++survived[*row[1] + "/" + *row[2]];
    }
    for (const auto& [label, n] : survived) {
      ADD_FAILURE() << sql << ": " << n << " " << label << " details survived redaction";
    }
  }
}

}  // namespace
}  // namespace pgveil::masking
