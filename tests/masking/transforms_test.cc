// Every transform of masking-rules/crm.json through pgveil, cell by cell: each masked
// value is checked against the value computed from the raw row read directly as postgres
// (rows are matched by the natural order of a sequential scan, cross-checked on the
// columns sales sees as stored). The matcher and the DBA must get byte-identical results.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "masking_env.h"
#include "masking_util.h"

namespace pgveil::masking {
namespace {

constexpr uint32_t kInt8Oid = 20;
constexpr uint32_t kTextOid = 25;

const std::vector<std::string> kShownMemberColumns = {
    "nickname",       "gender",    "province", "city",  "education",     "occupation",
    "marital_status", "has_house", "has_car",  "grade", "do_not_contact"};

// Raw members (with the server's own truncations as expected values: the rules truncate
// on the UTC clock and print the result on it, whatever the session's zone) and the same
// scan through pgveil as `login`.
struct MemberPair {
  Table raw;
  Table masked;
};

MemberPair FetchMembers(const std::string& login, const std::string& options = "") {
  MemberPair p;
  auto raw = Fetch(Env().DirectConnInfo("postgres", options),
                   "SELECT m.*, (date_trunc('month', registered_at, 'UTC') AT TIME ZONE "
                   "'UTC')::text || '+00' AS exp_registered_at, (date_trunc('day', "
                   "last_login_at, 'UTC') AT TIME ZONE 'UTC')::text || '+00' AS "
                   "exp_last_login_at FROM crm.members m");
  EXPECT_TRUE(raw.ok()) << raw.status().ToString();
  auto masked = Fetch(Env().ProxyConnInfo(login, options), "SELECT * FROM crm.members");
  EXPECT_TRUE(masked.ok()) << masked.status().ToString();
  if (raw.ok()) p.raw = std::move(*raw);
  if (masked.ok()) p.masked = std::move(*masked);
  return p;
}

// Rows of both scans are the same members in the same order.
void ExpectAligned(const MemberPair& p) {
  ASSERT_EQ(p.raw.rows.size(), static_cast<size_t>(kMembers));
  ASSERT_EQ(p.masked.rows.size(), p.raw.rows.size());
  for (const char* name : {"nickname", "gender", "city"}) {
    int rc = p.raw.Col(name), mc = p.masked.Col(name);
    ASSERT_GE(rc, 0);
    ASSERT_GE(mc, 0);
    for (size_t r = 0; r < p.raw.rows.size(); ++r) {
      ASSERT_EQ(p.masked.rows[r][mc], p.raw.rows[r][rc]) << name << " row " << r;
    }
  }
}

class TransformsTest : public MaskingTest {};

// Checks every members column of a sales-policy scan; `phone_first` is 0 for sales and
// 3 for sales_lead.
void CheckSalesMembers(const MemberPair& p, int phone_first) {
  ExpectAligned(p);
  const Table& raw = p.raw;
  const Table& m = p.masked;
  ASSERT_EQ(m.names.size(), 26u);
  const std::string today = UtcToday();
  auto rv = [&](size_t r, const char* col) { return raw.rows[r][raw.Col(col)]; };
  auto mv = [&](size_t r, const char* col) { return m.rows[r][m.Col(col)]; };
  EXPECT_EQ(m.types[m.Col("member_id")], kInt8Oid);
  for (const char* col :
       {"real_name", "birth_date", "phone", "email", "height_cm", "monthly_income", "about_me"}) {
    EXPECT_EQ(m.types[m.Col(col)], kTextOid) << col;
  }
  int checked = 0;
  for (size_t r = 0; r < raw.rows.size(); ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    for (const std::string& col : kShownMemberColumns) {
      ASSERT_EQ(m.rows[r][m.Col(col)], raw.rows[r][raw.Col(col)]) << col;
    }
    for (const char* col : {"wechat_id", "qq", "id_card_no", "photo_url", "weight_kg"}) {
      ASSERT_FALSE(mv(r, col).has_value()) << col << " must be NULL";
    }
    auto expect = [&](const char* col, const Cell& want) {
      ASSERT_EQ(mv(r, col), want) << col << " (raw length " << (rv(r, col) ? rv(r, col)->size() : 0)
                                  << ")";
      ++checked;
    };
    auto derived = [&](const char* col, auto fn) -> Cell {
      Cell raw_value = rv(r, col);
      if (!raw_value) return std::nullopt;
      return fn(*raw_value);
    };
    expect("real_name",
           derived("real_name", [](const std::string& v) { return ExpectedPartial(v, 1, 0); }));
    expect("phone", derived("phone", [&](const std::string& v) {
             return ExpectedPartial(v, phone_first, 4);
           }));
    expect("email",
           derived("email", [](const std::string& v) { return ExpectedPartial(v, 1, 0, "@"); }));
    expect("height_cm", derived("height_cm", [](const std::string& v) {
             return ExpectedWidthBand(std::stoll(v), 5);
           }));
    expect("monthly_income", derived("monthly_income", [](const std::string& v) {
             return ExpectedIncomeBracket(std::stoll(v));
           }));
    expect("birth_date",
           rv(r, "birth_date") ? ExpectedAgeBand(*rv(r, "birth_date"), today) : Cell());
    expect("registered_at", rv(r, "exp_registered_at"));
    expect("last_login_at", rv(r, "exp_last_login_at"));
    // The pseudonym is never the raw id (FF1 fixed points are astronomically rare).
    ASSERT_TRUE(mv(r, "member_id").has_value());
    ASSERT_NE(mv(r, "member_id"), rv(r, "member_id"));
    ASSERT_EQ(mv(r, "member_id")->find('-'), std::string::npos) << "pseudonyms are non-negative";
    // Free text: never the raw value when the raw value holds contact details (checked
    // in detail against the ground truth in redaction_test).
    if (!rv(r, "about_me")) {
      ASSERT_FALSE(mv(r, "about_me").has_value());
    }
  }
  EXPECT_GE(checked, kMembers * 8);
}

TEST_F(TransformsTest, SalesSeesEveryMembersColumnMaskedAsTheRulesSay) {
  CheckSalesMembers(FetchMembers("sales_li"), 0);
}

TEST_F(TransformsTest, TruncationKeepsItsClockInAnySessionTimeZone) {
  // A session in another zone sees the same instants (the rule's clock is UTC), printed
  // on the rule's clock: the offset of the session's zone at the original instant would
  // tell where in the unit it lies. Odd offsets must not move the boundaries either.
  CheckSalesMembers(FetchMembers("sales_wang", "options='-c TimeZone=Asia/Shanghai'"), 0);
  CheckSalesMembers(FetchMembers("sales_wang", "options='-c TimeZone=XXX+05:17'"), 0);
}

TEST_F(TransformsTest, SalesLeadSeesFirstThreeAndLastFourDigitsOfThePhone) {
  CheckSalesMembers(FetchMembers("lead_zhao"), 3);
}

TEST_F(TransformsTest, BinaryResultsCarryTheSameMaskedValues) {
  auto text = Fetch(Env().ProxyConnInfo("sales_li"), "SELECT * FROM crm.members", 0);
  auto bin = Fetch(Env().ProxyConnInfo("sales_li"), "SELECT * FROM crm.members", 1);
  // Raw binary values of the shown columns and of the UTC truncations (binary timestamps
  // are truncated in UTC).
  auto raw = Fetch(Env().DirectConnInfo("postgres"),
                   "SELECT nickname, gender, province, city, education, occupation, "
                   "marital_status, has_house, has_car, grade, do_not_contact, "
                   "date_trunc('month', registered_at, 'UTC') AS registered_at, "
                   "date_trunc('day', last_login_at, 'UTC') AS last_login_at FROM crm.members",
                   1);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(bin->rows.size(), text->rows.size());
  ASSERT_EQ(raw->rows.size(), text->rows.size());
  ASSERT_EQ(bin->types, text->types);
  for (size_t r = 0; r < bin->rows.size(); ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    for (size_t c = 0; c < bin->names.size(); ++c) {
      const std::string& col = bin->names[c];
      const Cell& b = bin->rows[r][c];
      const Cell& t = text->rows[r][c];
      if (int rc = raw->Col(col); rc >= 0) {
        ASSERT_EQ(b, raw->rows[r][rc]) << col << " in binary";
        continue;
      }
      ASSERT_EQ(b.has_value(), t.has_value()) << col;
      if (!b) continue;
      if (col == "member_id") {
        ASSERT_EQ(b->size(), 8u);
        ASSERT_EQ(std::to_string(BinaryInt(*b)), *t) << "pseudonym in binary and text";
      } else {
        ASSERT_EQ(Hex(*b), Hex(*t)) << col << ": text output types are the same bytes";
      }
    }
  }
}

// Reads a whole COPY ... TO STDOUT on `conn`.
StatusOr<std::string> CopyOut(PGconn* conn, const std::string& sql) {
  it::PgResult res(PQexec(conn, sql.c_str()));
  if (PQresultStatus(res.get()) != PGRES_COPY_OUT) {
    return Internal(sql + ": " + PQerrorMessage(conn));
  }
  std::string out;
  char* buf = nullptr;
  int n;
  while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    PQfreemem(buf);
  }
  it::PgResult end(PQgetResult(conn));
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) return Internal(sql + ": did not end");
  return out;
}

// Splits COPY text output into rows of fields (\N is NULL). The demo's values hold no
// tabs, newlines or backslashes, so no unescaping is needed; a value that did would
// show up as a mismatch.
std::vector<std::vector<Cell>> ParseCopyText(const std::string& text) {
  std::vector<std::vector<Cell>> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::vector<Cell> row;
    size_t f = pos;
    for (;;) {
      size_t tab = text.find('\t', f);
      if (tab == std::string::npos || tab > nl) tab = nl;
      std::string v = text.substr(f, tab - f);
      row.push_back(v == "\\N" ? Cell() : Cell(v));
      if (tab == nl) break;
      f = tab + 1;
    }
    rows.push_back(std::move(row));
    pos = nl + 1;
  }
  return rows;
}

// Splits COPY binary output into rows of fields (values as sent).
std::vector<std::vector<Cell>> ParseCopyBinary(const std::string& data) {
  std::vector<std::vector<Cell>> rows;
  static const std::string kSignature("PGCOPY\n\xff\r\n\0", 11);
  if (data.compare(0, kSignature.size(), kSignature) != 0) return rows;
  size_t pos = kSignature.size() + 4;                                           // flags
  pos += 4 + static_cast<size_t>(BinaryInt(data.substr(pos, 4)) & 0xffffffff);  // extension
  while (pos + 2 <= data.size()) {
    int64_t fields = BinaryInt(data.substr(pos, 2));
    pos += 2;
    if (fields == -1) break;  // trailer
    std::vector<Cell> row;
    for (int64_t i = 0; i < fields && pos + 4 <= data.size(); ++i) {
      int64_t len = BinaryInt(data.substr(pos, 4));
      pos += 4;
      if (len < 0) {
        row.emplace_back();
        continue;
      }
      row.emplace_back(data.substr(pos, static_cast<size_t>(len)));
      pos += static_cast<size_t>(len);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// COPY crm.members TO STDOUT as sales: every row equal to the masked SELECT (checked
// cell by cell above), in text and in binary.
TEST_F(TransformsTest, CopyOutOfMembersIsMaskedLikeSelect) {
  auto conn = it::Connect(Env().ProxyConnInfo("sales_li"));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  for (int format : {0, 1}) {
    SCOPED_TRACE(format == 0 ? "text" : "binary");
    auto select = Fetch(conn->get(), "SELECT * FROM crm.members", format);
    ASSERT_TRUE(select.ok()) << select.status().ToString();
    auto copy = CopyOut(conn->get(), format == 0 ? "COPY crm.members TO STDOUT"
                                                 : "COPY crm.members TO STDOUT (FORMAT binary)");
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    auto rows = format == 0 ? ParseCopyText(*copy) : ParseCopyBinary(*copy);
    ASSERT_EQ(rows.size(), select->rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      ASSERT_EQ(rows[r].size(), select->names.size()) << "row " << r;
      for (size_t c = 0; c < rows[r].size(); ++c) {
        ASSERT_TRUE(rows[r][c] == select->rows[r][c])
            << select->names[c] << " row " << r << " differs between COPY and SELECT";
      }
    }
  }
}

// A text COPY with HEADER: the header line names the columns as the server wrote it, and
// the rows after it are the rows of the COPY without one.
TEST_F(TransformsTest, CopyOutTextHeaderIsTheColumnNames) {
  auto conn = it::Connect(Env().ProxyConnInfo("sales_li"));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto plain = CopyOut(conn->get(), "COPY crm.members (member_id, phone, city) TO STDOUT");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto header =
      CopyOut(conn->get(), "COPY crm.members (member_id, phone, city) TO STDOUT (HEADER)");
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(*header, "member_id\tphone\tcity\n" + *plain);
}

TEST_F(TransformsTest, PseudonymsAreDistinctDeterministicAndSharedAcrossTables) {
  auto raw = Fetch(Env().DirectConnInfo("postgres"), "SELECT member_id FROM crm.members");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  std::map<std::string, std::string> pseudonym;  // raw id → pseudonym
  std::set<std::string> seen;
  for (const char* login : {"sales_li", "sales_wang", "lead_zhao"}) {
    auto masked = Fetch(Env().ProxyConnInfo(login), "SELECT member_id FROM crm.members");
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_EQ(masked->rows.size(), raw->rows.size());
    for (size_t r = 0; r < raw->rows.size(); ++r) {
      const std::string& id = *raw->rows[r][0];
      ASSERT_TRUE(masked->rows[r][0].has_value());
      auto [it, fresh] = pseudonym.emplace(id, *masked->rows[r][0]);
      ASSERT_EQ(it->second, *masked->rows[r][0]) << login << ": same member, same pseudonym";
      if (fresh) {
        ASSERT_TRUE(seen.insert(it->second).second) << "two members, one pseudonym";
      }
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kMembers));

  // Every member id column of every table, row by row.
  struct IdColumns {
    std::string table;
    std::vector<std::string> columns;
  };
  const std::vector<IdColumns> tables = {{"crm.chat_messages", {"sender_id", "receiver_id"}},
                                         {"crm.profile_views", {"viewer_id", "viewed_id"}},
                                         {"crm.resource_claims", {"member_id"}},
                                         {"crm.contact_log", {"member_id"}}};
  for (const auto& t : tables) {
    std::string cols;
    for (const auto& c : t.columns) cols += (cols.empty() ? "" : ", ") + c;
    const std::string sql = "SELECT " + cols + " FROM " + t.table;
    auto direct = Fetch(Env().DirectConnInfo("postgres"), sql);
    auto masked = Fetch(Env().ProxyConnInfo("sales_wang"), sql, t.table == "crm.contact_log");
    ASSERT_TRUE(direct.ok()) << direct.status().ToString();
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_GT(direct->rows.size(), 0u) << t.table;
    ASSERT_EQ(masked->rows.size(), direct->rows.size()) << t.table;
    for (size_t r = 0; r < direct->rows.size(); ++r) {
      for (size_t c = 0; c < t.columns.size(); ++c) {
        ASSERT_TRUE(masked->rows[r][c].has_value()) << t.table << "." << t.columns[c];
        std::string got = *masked->rows[r][c];
        if (t.table == "crm.contact_log") got = std::to_string(BinaryInt(got));  // binary
        ASSERT_EQ(got, pseudonym.at(*direct->rows[r][c]))
            << t.table << "." << t.columns[c] << " row " << r;
      }
    }
  }
}

TEST_F(TransformsTest, OtherTablesAsSales) {
  // chat_messages: id as stored, sent_at to the hour; profile_views: viewed_at to the day;
  // resource_claims and contact_log: everything but member ids and notes as stored.
  struct Case {
    std::string masked_sql, raw_sql;
  };
  const std::vector<Case> cases = {
      {"SELECT message_id, sent_at FROM crm.chat_messages",
       "SELECT message_id, date_trunc('hour', sent_at) FROM crm.chat_messages"},
      {"SELECT viewed_at FROM crm.profile_views",
       "SELECT date_trunc('day', viewed_at) FROM crm.profile_views"},
      {"SELECT staff_id, pool, claimed_at, status FROM crm.resource_claims",
       "SELECT staff_id, pool, claimed_at, status FROM crm.resource_claims"},
      {"SELECT contact_id, staff_id, channel, contacted_at, outcome FROM crm.contact_log",
       "SELECT contact_id, staff_id, channel, contacted_at, outcome FROM crm.contact_log"},
      {"SELECT * FROM crm.staff", "SELECT * FROM crm.staff"},
      {"SELECT * FROM crm.stores", "SELECT * FROM crm.stores"}};
  for (const Case& c : cases) {
    auto masked = Fetch(Env().ProxyConnInfo("sales_li"), c.masked_sql);
    auto raw = Fetch(Env().DirectConnInfo("postgres"), c.raw_sql);
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_GT(raw->rows.size(), 0u) << c.raw_sql;
    EXPECT_EQ(DiffRows(masked->rows, raw->rows, masked->names), "") << c.masked_sql;
  }
}

TEST_F(TransformsTest, DefaultPolicyNullsEveryPersonalColumn) {
  for (const char* table : {"crm.members", "crm.chat_messages", "crm.profile_views",
                            "crm.resource_claims", "crm.contact_log"}) {
    auto masked = Fetch(Env().ProxyConnInfo("intern_zhou"), std::string("SELECT * FROM ") + table);
    ASSERT_TRUE(masked.ok()) << masked.status().ToString();
    ASSERT_GT(masked->rows.size(), 0u) << table;
    for (const auto& row : masked->rows) {
      for (size_t c = 0; c < row.size(); ++c) {
        ASSERT_FALSE(row[c].has_value()) << table << "." << masked->names[c] << " must be NULL";
      }
    }
  }
  for (const char* table : {"crm.staff", "crm.stores"}) {
    const std::string sql = std::string("SELECT * FROM ") + table;
    auto masked = Fetch(Env().ProxyConnInfo("intern_zhou"), sql);
    auto raw = Fetch(Env().DirectConnInfo("postgres"), sql);
    ASSERT_TRUE(masked.ok() && raw.ok());
    EXPECT_EQ(DiffRows(masked->rows, raw->rows, masked->names), "") << table;
  }
}

// Expressions: computed from protected columns, refused by the query guard; computed
// from columns the policy shows, served as computed.
TEST_F(TransformsTest, ExpressionColumnsFollowTheirLineage) {
  auto refused = Fetch(Env().ProxyConnInfo("sales_li"),
                       "SELECT phone || '' AS p, upper(real_name) AS n, monthly_income + 0 AS i, "
                       "1 AS one, member_id FROM crm.members LIMIT 50");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("may not be used"), std::string::npos)
      << refused.status().ToString();
  const char* sql =
      "SELECT upper(nickname) AS n, 1 AS one, city || '/' || province AS place, member_id "
      "FROM crm.members ORDER BY nickname, city LIMIT 50";
  auto masked = Fetch(Env().ProxyConnInfo("sales_li"), sql);
  ASSERT_TRUE(masked.ok()) << masked.status().ToString();
  auto raw = Fetch(Env().DirectConnInfo("postgres"), sql);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(masked->rows.size(), 50u);
  for (size_t r = 0; r < masked->rows.size(); ++r) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(masked->rows[r][c], raw->rows[r][c]) << masked->names[c];
    }
    ASSERT_TRUE(masked->rows[r][3].has_value());
  }
}

// The unmasked fast path: byte-identical to a direct connection, text and binary, for
// the matcher and for the DBA, on every crm table.
TEST_F(TransformsTest, MatcherAndDbaResultsAreByteIdenticalToDirect) {
  for (const char* login : {"match_engine", "postgres"}) {
    auto direct = it::Connect(Env().DirectConnInfo(login));
    auto proxied = it::Connect(Env().ProxyConnInfo(login));
    ASSERT_TRUE(direct.ok() && proxied.ok());
    for (const char* table : {"crm.members", "crm.chat_messages", "crm.profile_views",
                              "crm.resource_claims", "crm.contact_log", "crm.staff"}) {
      const std::string sql =
          std::string("SELECT *, ctid, tableoid FROM ") + table;  // system columns too
      for (int format : {0, 1}) {
        it::PgResult want(PQexecParams(direct->get(), sql.c_str(), 0, nullptr, nullptr, nullptr,
                                       nullptr, format));
        it::PgResult got(PQexecParams(proxied->get(), sql.c_str(), 0, nullptr, nullptr, nullptr,
                                      nullptr, format));
        ASSERT_EQ(PQresultStatus(want.get()), PGRES_TUPLES_OK);
        ASSERT_GT(PQntuples(want.get()), 0);
        // Compared as one string; on a mismatch only the sizes are printed (raw values
        // stay out of the log).
        const std::string w = it::DescribeResult(want.get());
        const std::string g = it::DescribeResult(got.get());
        EXPECT_TRUE(w == g) << login << " " << table << " format " << format << ": " << g.size()
                            << " vs " << w.size() << " bytes";
      }
    }
  }
}

}  // namespace
}  // namespace pgveil::masking
