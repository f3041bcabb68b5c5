#include "suite.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <sstream>
#include <thread>

#include "harness/pq_util.h"
#include "harness/subprocess.h"
#include "masking_env.h"

namespace pgveil::bypass {
namespace {

using masking::Env;

// Objects the corpora refer to, created by the superuser. log_statement for sales_li
// puts every statement that reaches the server into the server log: the proof that a
// refused statement never did.
constexpr char kSetupSql[] = R"sql(
ALTER ROLE sales_li SET log_statement = 'all';
ANALYZE crm.members;
CREATE OR REPLACE VIEW public.bypass_contacts AS
  SELECT member_id, nickname, city, phone, monthly_income, height_cm FROM crm.members;
CREATE OR REPLACE VIEW public.bypass_phone_prefix AS
  SELECT member_id, nickname, left(phone, 3) AS prefix FROM crm.members;
CREATE OR REPLACE VIEW public.bypass_stats AS
  SELECT tablename, attname, histogram_bounds::text AS bounds FROM pg_stats;
GRANT SELECT ON public.bypass_contacts, public.bypass_phone_prefix, public.bypass_stats
  TO sales, matcher;
CREATE OR REPLACE FUNCTION public.bypass_echo(n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r record; acc text := '';
BEGIN
  FOR r IN SELECT phone FROM crm.members ORDER BY member_id LIMIT n LOOP
    acc := acc || r.phone || ' ';
  END LOOP;
  RETURN acc;
END $$;
CREATE OR REPLACE FUNCTION public.bypass_identity(t text) RETURNS text
  LANGUAGE sql IMMUTABLE AS 'SELECT t';
CREATE OR REPLACE PROCEDURE public.bypass_proc() LANGUAGE sql AS 'SELECT 1';
GRANT EXECUTE ON FUNCTION public.bypass_echo(int), public.bypass_identity(text) TO PUBLIC;
GRANT EXECUTE ON PROCEDURE public.bypass_proc() TO PUBLIC;
)sql";

BypassSuite* g_suite = nullptr;

std::string Marker(const Entry& e) { return "/* bypass " + e.id + " */ "; }

// Writes run inside BEGIN … ROLLBACK, for sales and for the reference alike, so that
// both start from the same data; the reference for a write is the superuser.
bool IsWrite(const Entry& e) {
  if (e.mode == "w") return true;
  std::string head = e.sql.substr(0, 7);
  for (char& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return head.rfind("INSERT", 0) == 0 || head.rfind("UPDATE", 0) == 0 ||
         head.rfind("DELETE", 0) == 0;
}

}  // namespace

StatusOr<std::unique_ptr<BypassSuite>> BypassSuite::Create() {
  if (Status st = Env().Exec(kSetupSql); !st.ok()) return st;
  auto model = MaskModel::Load();
  if (!model.ok()) return model.status();
  auto anchors = Anchors::Load(*model);
  if (!anchors.ok()) return anchors.status();
  auto scanner = masking::LeakScanner::Load();
  if (!scanner.ok()) return scanner.status();
  std::unique_ptr<BypassSuite> s(
      new BypassSuite(std::move(*model), std::move(*anchors), std::move(*scanner)));
  auto tap = WireTap::Start(Env().proxy_port());
  if (!tap.ok()) return tap.status();
  s->tap_ = std::move(*tap);
  // Names a refusal message may repeat even when the statement spells them as strings.
  auto names = Env().Query(
      "SELECT lower(name) FROM pg_settings UNION SELECT relname::text FROM pg_class "
      "WHERE relnamespace IN ('crm'::regnamespace, 'pg_catalog'::regnamespace, "
      "'public'::regnamespace) UNION SELECT 'crm.' || relname FROM pg_class "
      "WHERE relnamespace = 'crm'::regnamespace UNION SELECT attname::text FROM pg_attribute "
      "WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'crm'::regnamespace) "
      "UNION SELECT rolname::text FROM pg_roles UNION SELECT nspname::text FROM pg_namespace "
      "UNION VALUES ('session_authorization'), ('role')");  // settings pg_settings hides
  if (!names.ok()) return names.status();
  for (const auto& row : *names) s->names_.insert(*row[0]);
  auto staff = Env().Query("SELECT display_name FROM crm.staff");
  if (!staff.ok()) return staff.status();
  for (const auto& row : *staff) s->staff_names_.push_back(*row[0]);
  s->NewServerLog();
  return s;
}

BypassSuite* Suite() {
  if (g_suite == nullptr) {
    auto s = BypassSuite::Create();
    if (!s.ok()) {
      ADD_FAILURE() << "bypass suite setup: " << s.status().ToString();
      return nullptr;
    }
    g_suite = s->release();  // lives until the process exits, like the environment
  }
  return g_suite;
}

std::string CorpusPath(const std::string& name) {
  return masking::MaskingEnv::SourceDir() + "/tests/bypass/data/" + name;
}

std::vector<Entry> CorpusForRegistration(const std::string& name) {
  auto c = LoadCorpus(CorpusPath(name));
  if (!c.ok()) {
    // Registered as an entry whose SQL cannot be judged: the test fails and says why.
    return {Entry{"LOAD", "corpus", "serve", "q", "-", "", c.status().ToString(), 0}};
  }
  return *c;
}

std::string EntryName(const Entry& e) {
  std::string n = e.id + "_" + e.klass;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

std::string BypassSuite::TapConnInfo(const std::string& user) const {
  return "host=127.0.0.1 port=" + std::to_string(tap_->port()) + " dbname=" + it::kDatabase +
         " user=" + user + " password=" + masking::kPassword +
         " sslmode=disable gssencmode=disable connect_timeout=10";
}

std::string BypassSuite::NewServerLog() {
  const std::string all = it::ReadFileOrEmpty(Env().dir() + "/server.log");
  if (all.size() < log_offset_) log_offset_ = 0;
  std::string fresh = all.substr(log_offset_);
  log_offset_ = all.size();
  return fresh;
}

// The scanner's real_name needles include every member's name; staff display names
// (shown to every policy) can be the same string. A real_name report at an offset where
// a staff display name starts is not a leak. (The scanner could leave those names out
// itself, as it does for innocent numbers.)
bool BypassSuite::IsStaffName(const std::string& bytes, const std::string& report) const {
  static const std::string kTag = ": real_name at byte ";
  const size_t at = report.rfind(kTag);
  if (at == std::string::npos) return false;
  const size_t offset = std::stoul(report.substr(at + kTag.size()));
  for (const std::string& name : staff_names_) {
    if (bytes.compare(offset, name.size(), name) == 0) return true;
  }
  return false;
}

// The scanner matches incomes and QQ numbers as whole digit runs; catalog OIDs (which
// sqlsmith's catalog load and psql read) can be the same numbers. A digit match inside a
// DataRow field of an OID-like type (oid, xid, reg*, oidvector) is not a leak: no
// protected column has such a type, and a cast to one is refused by the guard.
bool BypassSuite::IsCatalogOid(const std::string& bytes, const std::string& report) const {
  if (report.find(": monthly_income at byte ") == std::string::npos &&
      report.find(": qq at byte ") == std::string::npos) {
    return false;
  }
  const size_t offset = std::stoul(report.substr(report.rfind(' ') + 1));
  static const std::set<uint32_t> kOidTypes = {24,   26,   28,   30,   2202, 2203, 2204,
                                               2205, 2206, 3734, 3769, 4089, 4096};
  auto u32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  std::vector<uint32_t> types;  // of the last RowDescription
  size_t pos = 0;
  while (pos + 5 <= bytes.size()) {
    const char type = bytes[pos];
    const size_t len = u32(pos + 1);
    if (len < 4 || pos + 1 + len > bytes.size()) return false;
    const size_t body = pos + 5, end = pos + 1 + len;
    if (type == 'T') {
      types.clear();
      size_t p = body + 2;
      const size_t n = (static_cast<unsigned char>(bytes[body]) << 8) |
                       static_cast<unsigned char>(bytes[body + 1]);
      for (size_t f = 0; f < n && p < end; ++f) {
        p = bytes.find('\0', p) + 1;  // name
        types.push_back(u32(p + 6));  // table oid (4), attnum (2), type oid
        p += 18;
      }
    } else if (type == 'D' && offset >= body && offset < end) {
      size_t p = body + 2;
      for (size_t f = 0; p + 4 <= end; ++f) {
        const uint32_t flen = u32(p);
        p += 4;
        if (flen == 0xFFFFFFFF) continue;
        if (offset >= p && offset < p + flen) return f < types.size() && kOidTypes.count(types[f]);
        p += flen;
      }
      return false;
    }
    pos = end;
  }
  return false;
}

std::vector<std::string> BypassSuite::ScanConnection(size_t i, const std::string& where) const {
  // The relay may still be copying the last bytes: wait for it to see the close.
  for (int k = 0; k < 200 && !tap_->Connection(i).closed; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  TapConnection c = tap_->Connection(i);
  // Authentication messages carry SCRAM nonces and proofs: random base64 whose digit runs
  // can equal an income or QQ needle by chance. They are blanked (offsets kept).
  for (size_t pos = 0; pos + 5 <= c.to_client.size();) {
    const auto* b = reinterpret_cast<const unsigned char*>(c.to_client.data()) + pos;
    const size_t len = (size_t{b[1]} << 24) | (size_t{b[2]} << 16) | (size_t{b[3]} << 8) | b[4];
    if (len < 4 || pos + 1 + len > c.to_client.size()) break;
    if (b[0] == 'R') c.to_client.replace(pos + 5, len - 4, len - 4, ' ');
    pos += 1 + len;
  }
  std::vector<std::string> found;
  for (std::string& f : scanner_.Scan(c.to_client, where)) {
    if (!IsStaffName(c.to_client, f) && !IsCatalogOid(c.to_client, f))
      found.push_back(std::move(f));
  }
  if (!c.closed) found.push_back(where + ": the tap connection did not close");
  return found;
}

void BypassSuite::CheckRefusal(const Entry& e, PGconn* conn, const Outcome& got,
                               const std::string& marker, std::vector<std::string>* failures) {
  if (got.sqlstate != "42501" && got.sqlstate != "0A000") {
    failures->push_back("SQLSTATE " + got.sqlstate + " instead of 42501/0A000");
  }
  if (!got.results.empty()) {
    failures->push_back("part of the string was executed (" + std::to_string(got.results.size()) +
                        " results before the refusal)");
  }
  if (got.hint.empty()) failures->push_back("no HINT saying what is allowed");
  auto sales_sql = anchors_.Expand(e.sql, true);
  std::string literal_params;
  auto params = anchors_.ExpandParams(e.params, true);
  if (params.ok()) {
    for (const auto& set : *params) {
      for (const auto& p : set) literal_params += "'" + p + "' ";
    }
  }
  const std::string text = got.message + "\n" + got.detail + "\n" + got.hint;
  for (const std::string& lit : Literals(*sales_sql + " " + literal_params, names_)) {
    if (text.find(lit) != std::string::npos) {
      // The corpus's own literals hold no protected value: safe to print.
      failures->push_back("the error repeats the literal '" + lit + "' of the statement");
      break;
    }
  }
  if (!StillUsable(conn)) failures->push_back("the session is unusable after the refusal");
  if (NewServerLog().find(marker) != std::string::npos) {
    failures->push_back("the statement reached the server");
  }
}

std::string BypassSuite::CheckServed(const Entry& e, const Outcome& got) {
  auto sql = anchors_.Expand(e.sql, false);
  auto params = anchors_.ExpandParams(e.params, false);
  if (!sql.ok() || !params.ok()) return "bad placeholders";
  const bool write = IsWrite(e);
  auto conn = it::Connect(Env().DirectConnInfo(write ? "postgres" : kMatcherLogin));
  if (!conn.ok()) return "reference connection: " + conn.status().ToString();
  if (write) it::Exec(conn->get(), "BEGIN");
  Outcome ref = RunStatement(conn->get(), ModeOf(e), *sql, *params);
  if (write) it::Exec(conn->get(), "ROLLBACK");
  if (ref.error) {
    return "the reference itself failed (" + ref.sqlstate + " " + ref.message +
           "): fix the corpus entry";
  }
  auto want = ExpectedResults(ref.results, e.columns, model_);
  if (!want.ok()) return "corpus entry: " + want.status().ToString();
  return CompareResults(got.results, *want, e.columns);
}

Verdict BypassSuite::Judge(const Entry& e) {
  Verdict v;
  if (e.line == 0) {
    v.failures.push_back("corpus did not load: " + e.params);
    return v;
  }
  auto sql = anchors_.Expand(e.sql, true);
  auto params = anchors_.ExpandParams(e.params, true);
  if (!sql.ok() || !params.ok()) {
    v.failures.push_back("bad placeholders in line " + std::to_string(e.line));
    return v;
  }
  const std::string marker = Marker(e);
  const size_t index = tap_->connection_count();
  Outcome got;
  {
    auto conn = it::Connect(TapConnInfo(kSalesLogin));
    if (!conn.ok()) {
      v.failures.push_back("connect as sales_li: " + conn.status().ToString());
      return v;
    }
    NewServerLog();
    const bool write = IsWrite(e);
    if (write) it::Exec(conn->get(), "BEGIN");
    got = RunStatement(conn->get(), ModeOf(e), marker + *sql, *params);
    if (!got.transport.empty()) v.failures.push_back("transport: " + got.transport);
    const bool refused = got.error && (got.sqlstate == "42501" || got.sqlstate == "0A000");
    v.outcome = refused ? "refused" : got.error ? "error" : "served";
    if (e.expect == "refuse" || (e.expect == "either" && got.error)) {
      if (write) it::Exec(conn->get(), "ROLLBACK");
      CheckRefusal(e, conn->get(), got, marker, &v.failures);
    } else {
      if (write) it::Exec(conn->get(), "ROLLBACK");
      if (got.error) {
        v.failures.push_back("not served: " + got.sqlstate + " " + got.message);
      } else if (std::string diff = CheckServed(e, got); !diff.empty()) {
        v.failures.push_back("wrong result: " + diff);
      }
      if (!StillUsable(conn->get())) v.failures.push_back("the session is unusable afterwards");
    }
  }
  for (const std::string& leak : ScanConnection(index, e.id)) {
    v.failures.push_back("LEAK " + leak);
  }
  return v;
}

void BypassSuite::Tally(const std::string& corpus, const Entry& e, const Verdict& v) {
  ClassTally& t = tally_[corpus][e.klass];
  ++t.entries;
  t.refused += v.outcome == "refused";
  t.served += v.outcome == "served";
  if (v.failures.empty()) {
    ++t.as_expected;
  } else {
    t.failed.push_back(e.id + " (expected " + e.expect + ", " +
                       (v.outcome.empty() ? "not run" : v.outcome) + "): " + v.failures[0]);
  }
}

std::string BypassSuite::Summary(const std::string& corpus) const {
  std::ostringstream out;
  int entries = 0, ok = 0;
  out << "==== " << corpus << ": per class (entries / as expected / refused / served) ====\n";
  auto found = tally_.find(corpus);
  if (found == tally_.end()) return out.str() + "  (nothing ran)\n";
  for (const auto& [klass, t] : found->second) {
    entries += t.entries;
    ok += t.as_expected;
    out << "  " << klass << ": " << t.entries << " / " << t.as_expected << " / " << t.refused
        << " / " << t.served << "\n";
    for (const auto& f : t.failed) out << "      " << f << "\n";
  }
  out << "  total: " << entries << " entries, " << ok << " as expected\n";
  return out.str();
}

}  // namespace pgveil::bypass
