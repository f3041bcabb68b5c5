#include "corpus.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <sstream>

#include "masking_env.h"

namespace pgveil::bypass {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// The date on which someone turns `years` today (UTC): today minus that many years
// (29 February becomes 28 February in a non-leap year).
std::string AgeEdge(int years) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  int y = utc.tm_year + 1900 - years, m = utc.tm_mon + 1, d = utc.tm_mday;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) d = 28;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
  return buf;
}

// Named anchors: SQL (superuser, direct) giving one member id.
const std::vector<std::pair<std::string, std::string>> kMemberAnchors = {
    {"first", "SELECT min(member_id) FROM crm.members"},
    {"last", "SELECT max(member_id) FROM crm.members"},
    {"chatter",
     "SELECT sender_id FROM crm.chat_messages GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"partner",
     "SELECT receiver_id FROM crm.chat_messages WHERE sender_id = (SELECT sender_id FROM "
     "crm.chat_messages GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) "
     "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"viewed",
     "SELECT viewed_id FROM crm.profile_views GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"viewer",
     "SELECT viewer_id FROM crm.profile_views GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"pooled",
     "SELECT member_id FROM crm.resource_claims WHERE pool = 'store' AND status = 'open' "
     "ORDER BY member_id LIMIT 1"},
    {"pooled2",
     "SELECT member_id FROM crm.resource_claims WHERE pool = 'city' AND status = 'open' "
     "ORDER BY member_id LIMIT 1"},
    {"mine",
     "SELECT member_id FROM crm.resource_claims WHERE pool = 'assigned' "
     "ORDER BY staff_id = 3002 DESC, member_id LIMIT 1"},
    {"contacted",
     "SELECT member_id FROM crm.contact_log GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"dnc", "SELECT min(member_id) FROM crm.members WHERE do_not_contact"},
    {"rich", "SELECT min(member_id) FROM crm.members WHERE monthly_income >= 50000"},
};

// Named values, the same for sales and the reference.
const std::vector<std::pair<std::string, std::string>> kValueAnchors = {
    {"city", "SELECT city FROM crm.members GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"city2", "SELECT city FROM crm.members GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 1 LIMIT 1"},
    {"province", "SELECT province FROM crm.members GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"nickname",
     "SELECT nickname FROM crm.members WHERE nickname IS NOT NULL "
     "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"occupation",
     "SELECT occupation FROM crm.members GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
    {"education", "SELECT education FROM crm.members GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"},
};

std::vector<std::string> ExpandSpec(const std::string& columns, const MaskModel& model) {
  std::vector<std::string> out;
  for (const std::string& c : Split(columns, ',')) {
    if (c.size() > 2 && c.substr(c.size() - 2) == ".*") {
      const std::string table = c.substr(0, c.size() - 2);
      for (const auto& col : model.TableColumns(table)) out.push_back(table + "." + col);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void PrintTo(const Entry& e, std::ostream* os) { *os << e.id << " " << e.sql; }

StatusOr<std::vector<Entry>> LoadCorpus(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::vector<Entry> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, '\t');
    if (f.size() < 6 || f.size() > 7) {
      return InvalidArgument(path + ":" + std::to_string(n) + ": expected 6 or 7 fields");
    }
    Entry e{f[0], f[1], f[2], f[3], f[4], f[5], f.size() == 7 ? f[6] : "", n};
    if (e.expect != "refuse" && e.expect != "serve" && e.expect != "either") {
      return InvalidArgument(path + ":" + std::to_string(n) + ": bad expectation " + e.expect);
    }
    if (e.mode != "q" && e.mode != "x" && e.mode != "xb" && e.mode != "p" && e.mode != "w") {
      return InvalidArgument(path + ":" + std::to_string(n) + ": bad mode " + e.mode);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Mode ModeOf(const Entry& e) {
  if (e.mode == "x") return Mode::kExtended;
  if (e.mode == "xb") return Mode::kExtendedBinary;
  if (e.mode == "p") return Mode::kPipeline;
  return Mode::kSimple;
}

StatusOr<Anchors> Anchors::Load(const MaskModel& model) {
  Anchors a;
  for (const auto& [name, sql] : kMemberAnchors) {
    auto rows = masking::Env().Query(sql);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1 || !(*rows)[0][0]) return Internal("no member for anchor " + name);
    const std::string id = *(*rows)[0][0];
    auto p = model.Pseudonym(id);
    if (!p.ok()) return p.status();
    a.real_ids_[name] = id;
    a.pseudonyms_[name] = *p;
  }
  for (const auto& [name, sql] : kValueAnchors) {
    auto rows = masking::Env().Query(sql);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1 || !(*rows)[0][0]) return Internal("no value for anchor " + name);
    a.values_[name] = *(*rows)[0][0];
  }
  return a;
}

StatusOr<std::string> Anchors::Expand(const std::string& text, bool for_sales) const {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t open = text.find('{', pos);
    // '{' also starts array literals ('{1,2}'): only {P:…}, {EDGE:…}, {V:…}, {NL} are ours.
    while (open != std::string::npos && text.compare(open, 3, "{P:") != 0 &&
           text.compare(open, 6, "{EDGE:") != 0 && text.compare(open, 3, "{V:") != 0 &&
           text.compare(open, 4, "{NL}") != 0) {
      open = text.find('{', open + 1);
    }
    if (open == std::string::npos) {
      out += text.substr(pos);
      return out;
    }
    size_t close = text.find('}', open);
    if (close == std::string::npos) return InvalidArgument("unclosed placeholder");
    out += text.substr(pos, open - pos);
    const std::string body = text.substr(open + 1, close - open - 1);
    const size_t colon = body.find(':');
    const std::string kind = body.substr(0, colon), name = body.substr(colon + 1);
    if (kind == "NL") {
      out += '\n';
    } else if (kind == "P") {
      const auto& m = for_sales ? pseudonyms_ : real_ids_;
      auto it = m.find(name);
      if (it == m.end()) return InvalidArgument("unknown member anchor " + name);
      out += it->second;
    } else if (kind == "EDGE") {
      out += AgeEdge(std::stoi(name));
    } else {
      auto it = values_.find(name);
      if (it == values_.end()) return InvalidArgument("unknown value anchor " + name);
      out += it->second;
    }
    pos = close + 1;
  }
}

StatusOr<std::vector<std::vector<std::string>>> Anchors::ExpandParams(const std::string& params,
                                                                      bool for_sales) const {
  std::vector<std::vector<std::string>> sets;
  if (params.empty()) return sets;
  for (const std::string& set : Split(params, '|')) {
    std::vector<std::string> values;
    for (const std::string& v : Split(set, ',')) {
      auto x = Expand(v, for_sales);
      if (!x.ok()) return x.status();
      values.push_back(*x);
    }
    sets.push_back(std::move(values));
  }
  return sets;
}

StatusOr<std::vector<ResultSet>> ExpectedResults(const std::vector<ResultSet>& reference,
                                                 const std::string& columns,
                                                 const MaskModel& model) {
  std::vector<ResultSet> out = reference;
  if (columns == "-") return out;
  const std::vector<std::string> spec = ExpandSpec(columns, model);
  for (ResultSet& rs : out) {
    if (rs.names.empty()) continue;
    if (rs.names.size() != spec.size()) {
      return InvalidArgument("the columns field has " + std::to_string(spec.size()) +
                             " specs for " + std::to_string(rs.names.size()) + " columns");
    }
    for (auto& row : rs.rows) {
      if (row.size() != spec.size()) {
        // E.g. CSV COPY output, which the runner splits as text: compare it with '-'.
        return InvalidArgument("a row has " + std::to_string(row.size()) + " fields for " +
                               std::to_string(spec.size()) + " columns");
      }
      for (size_t c = 0; c < spec.size(); ++c) {
        if (spec[c] == "=" || spec[c] == "~") continue;
        auto m = model.Mask(spec[c], row[c]);
        if (!m.ok()) return m.status();
        row[c] = *m;
      }
    }
  }
  return out;
}

std::string CompareResults(const std::vector<ResultSet>& got, const std::vector<ResultSet>& want,
                           const std::string& columns) {
  if (got.size() != want.size()) {
    return std::to_string(got.size()) + " results instead of " + std::to_string(want.size());
  }
  std::vector<bool> ignored;
  if (columns != "-") {
    for (const std::string& c : Split(columns, ',')) ignored.push_back(c == "~");
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string where = "result " + std::to_string(i) + ": ";
    if (got[i].status != want[i].status) {
      return where + got[i].status + " instead of " + want[i].status;
    }
    if (got[i].tag != want[i].tag)
      return where + "tag " + got[i].tag + " instead of " + want[i].tag;
    if (got[i].names != want[i].names) return where + "column names differ";
    if (columns == "-") continue;
    auto normalise = [&](Rows rows) {
      for (auto& row : rows) {
        for (size_t c = 0; c < row.size() && c < ignored.size(); ++c) {
          if (ignored[c]) row[c] = std::nullopt;
        }
      }
      std::sort(rows.begin(), rows.end());
      return rows;
    };
    Rows g = normalise(got[i].rows), w = normalise(want[i].rows);
    if (g.size() != w.size()) {
      return where + std::to_string(g.size()) + " rows instead of " + std::to_string(w.size());
    }
    size_t differ = 0, first = 0;
    for (size_t r = 0; r < g.size(); ++r) {
      if (g[r] != w[r] && differ++ == 0) first = r;
    }
    if (differ > 0) {
      size_t col = 0;
      while (col < g[first].size() && col < w[first].size() && g[first][col] == w[first][col]) {
        ++col;
      }
      return where + std::to_string(differ) + " rows differ (first: sorted row " +
             std::to_string(first) + ", column " +
             (col < got[i].names.size() ? got[i].names[col] : std::to_string(col)) + ")";
    }
  }
  return "";
}

std::vector<std::string> Literals(const std::string& sql, const std::set<std::string>& names) {
  std::vector<std::string> out;
  auto add_string = [&](const std::string& s) {
    std::string lower = s;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (names.count(lower) > 0) return;
    if (s.size() >= 3) out.push_back(s);
    std::string part;
    for (char ch : s + "%") {
      if (ch == '%') {
        if (part.size() >= 3 && part != s) out.push_back(part);
        part.clear();
      } else {
        part.push_back(ch);
      }
    }
  };
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      i = sql.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string::npos ? n : end + 2;
    } else if (c == '\'') {
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      std::string s;
      size_t j = i + 1;
      for (; j < n; ++j) {
        if (escapes && sql[j] == '\\' && j + 1 < n) {
          s.push_back(sql[++j]);
        } else if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            s.push_back('\'');
            ++j;
          } else {
            break;
          }
        } else {
          s.push_back(sql[j]);
        }
      }
      add_string(s);
      i = j + 1;
    } else if (c == '$' && i + 1 < n && !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      size_t tag_end = sql.find('$', i + 1);
      if (tag_end == std::string::npos) break;
      const std::string tag = sql.substr(i, tag_end - i + 1);
      size_t end = sql.find(tag, tag_end + 1);
      if (end == std::string::npos) break;
      add_string(sql.substr(tag_end + 1, end - tag_end - 1));
      i = end + tag.size();
    } else if (std::isdigit(static_cast<unsigned char>(c)) &&
               (i == 0 || !(std::isalnum(static_cast<unsigned char>(sql[i - 1])) ||
                            sql[i - 1] == '_' || sql[i - 1] == '$'))) {
      size_t j = i;
      while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      if (j - i >= 3) out.push_back(sql.substr(i, j - i));
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i < n &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$')) {
        ++i;
      }
      if (i < n && sql[i] == '\'' && (sql[i - 1] == 'E' || sql[i - 1] == 'e')) continue;
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace pgveil::bypass
