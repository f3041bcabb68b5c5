// COPY ... FROM STDIN into a pseudonym column through pgveil as sales_li: the pseudonyms
// in the rows reach the server as the members' real ids, in text, CSV (psql's \copy)
// and binary, in the simple and the extended protocol, however the client cuts its data;
// a value that is not a pseudonym fails the copy and stores nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

constexpr char kLogin[] = "sales_li";

class CopyInTest : public MaskingTest {
 protected:
  void SetUp() override {
    auto conn = it::Connect(Env().ProxyConnInfo(kLogin));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    auto ids = Fetch(conn->get(), "SELECT member_id FROM crm.members LIMIT 3");
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    pseudonyms_.clear();
    for (const auto& row : ids->rows) pseudonyms_.push_back(*row[0]);
    auto staff = Env().Query("SELECT min(staff_id) FROM crm.staff");
    ASSERT_TRUE(staff.ok());
    staff_ = (*staff)[0][0].value_or("");
  }

  // The member ids stored with `outcome`, read through pgveil (pseudonyms) and directly.
  void ExpectStored(const std::string& outcome) {
    const std::string sql = "SELECT member_id FROM crm.contact_log WHERE outcome = '" + outcome +
                            "' ORDER BY contact_id";
    auto masked = Fetch(Env().ProxyConnInfo(kLogin), sql);
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    std::vector<std::string> read;
    for (const auto& row : masked->rows) read.push_back(row[0].value_or("NULL"));
    EXPECT_EQ(read, pseudonyms_) << outcome << ": read back through pgveil";
    auto raw = Env().Query(
        "SELECT c.member_id, m.member_id IS NOT NULL FROM crm.contact_log c "
        "LEFT JOIN crm.members m USING (member_id) WHERE c.outcome = '" +
        outcome + "' ORDER BY c.contact_id");
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(raw->size(), pseudonyms_.size()) << outcome;
    for (size_t i = 0; i < raw->size(); ++i) {
      EXPECT_NE((*raw)[i][0].value_or(""), pseudonyms_[i])
          << outcome << ": stored as the pseudonym";
      EXPECT_EQ((*raw)[i][1].value_or(""), "t") << outcome << ": not a member's real id";
    }
  }

  std::string TextRows(const std::string& outcome) const {
    std::string data;
    for (const auto& p : pseudonyms_) data += staff_ + "\t" + p + "\tcall\t" + outcome + "\n";
    return data;
  }

  // COPY through libpq, the data in pieces of `piece` bytes; the command tag or the error.
  static std::string CopyIn(PGconn* conn, const std::string& sql, const std::string& data,
                            size_t piece, bool extended) {
    PGresult* res = extended
                        ? PQexecParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)
                        : PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    std::string out = st == PGRES_COPY_IN ? "" : PQresultErrorMessage(res);
    PQclear(res);
    if (st != PGRES_COPY_IN) return "not copying: " + out;
    for (size_t i = 0; i < data.size(); i += piece) {
      const std::string part = data.substr(i, piece);
      if (PQputCopyData(conn, part.data(), static_cast<int>(part.size())) != 1) break;
    }
    PQputCopyEnd(conn, nullptr);
    while (PGresult* r = PQgetResult(conn)) {
      if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        out = PQcmdStatus(r);
      } else {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        out = std::string(state ? state : "?????") + " " + PQresultErrorMessage(r);
      }
      PQclear(r);
    }
    return out;
  }

  std::vector<std::string> pseudonyms_;
  std::string staff_;
};

TEST_F(CopyInTest, TextRowsInPiecesSimpleAndExtended) {
  auto conn = it::Connect(Env().ProxyConnInfo(kLogin));
  ASSERT_TRUE(conn.ok());
  const std::string sql = "COPY crm.contact_log (staff_id, member_id, channel, outcome) FROM STDIN";
  struct Case {
    const char* outcome;
    size_t piece;
    bool extended;
  };
  for (const Case& c :
       {Case{"copy-in text whole", 1 << 20, false}, Case{"copy-in text bytes", 1, false},
        Case{"copy-in text extended", 5, true}}) {
    EXPECT_EQ(CopyIn(conn->get(), sql, TextRows(c.outcome), c.piece, c.extended), "COPY 3")
        << c.outcome;
    ExpectStored(c.outcome);
  }
}

TEST_F(CopyInTest, PsqlCopyOfACsvFileWithAHeader) {
  const std::string file = Env().dir() + "/contacts.csv";
  {
    std::ofstream out(file);
    out << "staff_id,member_id,channel,outcome\r\n";
    for (const auto& p : pseudonyms_) out << staff_ << ",\"" << p << "\",sms,copy-in csv\r\n";
  }
  Status st = Env().Run({"psql", "-X", "-v", "ON_ERROR_STOP=1", Env().ProxyConnInfo(kLogin), "-c",
                         "\\copy crm.contact_log (staff_id, member_id, channel, outcome) FROM '" +
                             file + "' WITH (FORMAT csv, HEADER)"},
                        {}, Env().dir() + "/psql-copy.log", std::chrono::seconds(60));
  ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << it::FileTail(Env().dir() + "/psql-copy.log");
  ExpectStored("copy-in csv");
}

TEST_F(CopyInTest, BinaryRows) {
  auto be = [](uint64_t x, int bytes) {
    std::string s;
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(x >> (8 * i)));
    return s;
  };
  const std::string outcome = "copy-in binary";
  std::string data = std::string("PGCOPY\n\377\r\n\0", 11) + be(0, 4) + be(0, 4);
  for (const auto& p : pseudonyms_) {
    data += be(4, 2) + be(4, 4) + be(std::stoull(staff_), 4) + be(8, 4) + be(std::stoull(p), 8) +
            be(4, 4) + "call" + be(outcome.size(), 4) + outcome;
  }
  data += be(0xFFFF, 2);
  auto conn = it::Connect(Env().ProxyConnInfo(kLogin));
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(CopyIn(conn->get(),
                   "COPY crm.contact_log (staff_id, member_id, channel, outcome) FROM STDIN "
                   "(FORMAT binary)",
                   data, 7, false),
            "COPY 3");
  ExpectStored(outcome);
}

TEST_F(CopyInTest, NotAPseudonymStoresNothing) {
  auto conn = it::Connect(Env().ProxyConnInfo(kLogin));
  ASSERT_TRUE(conn.ok());
  const std::string sql = "COPY crm.contact_log (staff_id, member_id, channel, outcome) FROM STDIN";
  for (const std::string& bad : {std::string("-5"), std::string("12x"), std::string("abc")}) {
    const std::string data =
        TextRows("copy-in bad") + staff_ + "\t" + bad + "\tcall\tcopy-in bad\n";
    const std::string got = CopyIn(conn->get(), sql, data, 1 << 20, false);
    // pgveil's reason with 22P02, not the server's 57014 ("query canceled") for CopyFail.
    EXPECT_EQ(got.substr(0, 6), "22P02 ") << got;
    EXPECT_NE(got.find("not a pseudonym"), std::string::npos) << got;
    auto alive = Fetch(conn->get(), "SELECT 1");
    EXPECT_TRUE(alive.ok()) << "the session goes on";
  }
  auto stored = Env().Query("SELECT count(*) FROM crm.contact_log WHERE outcome = 'copy-in bad'");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)[0][0].value_or(""), "0");
}

}  // namespace
}  // namespace pgveil::masking
