// pgveil diff: the checks. Findings describe where (query, row, column) and what, never
// a value: the JSON report goes to CI logs.
#include <algorithm>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "pgveil/mask/redact.h"
#include "tools/diff_model.h"

namespace pgveil::tools {
namespace {

constexpr size_t kMaxFindingsPerKind = 20;  // per query; counts stay complete

// Transforms that never hand back their input: an unchanged value under one of them is
// a leak. (truncate, round, redact and map may legitimately return a value unchanged.)
bool NeverIdentity(const std::string& t) {
  static const std::set<std::string> kSet = {"null",   "partial",  "hash",    "pseudonym",
                                             "bucket", "age_band", "constant"};
  return kSet.count(t) > 0;
}

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string DigitsOnly(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (IsDigit(c)) d.push_back(c);
  }
  return d;
}

// Digit runs of `s`, single separators (space, '-', '.') between digits ignored.
std::vector<std::string> DigitRuns(std::string_view s) {
  std::vector<std::string> runs;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsDigit(s[i])) {
      cur.push_back(s[i]);
    } else if ((s[i] == ' ' || s[i] == '-' || s[i] == '.') && !cur.empty() && i + 1 < s.size() &&
               IsDigit(s[i + 1])) {
      continue;
    } else if (!cur.empty()) {
      runs.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) runs.push_back(std::move(cur));
  return runs;
}

// Words of a masked cell: split at ASCII whitespace and punctuation.
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t start = 0;
  auto is_sep = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == ':' ||
           c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '<' ||
           c == '>' || c == '"' || c == '\'' || c == '/' || c == '|';
  };
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || is_sep(s[i])) {
      if (i > start) words.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return words;
}

// Whether a raw value is distinctive enough to search for in other cells.
bool Searchable(const std::string& v, std::string* key) {
  const std::string digits = DigitsOnly(v);
  const bool numeric = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return IsDigit(c) || c == ' ' || c == '-' || c == '.' || c == '+';
  });
  if (numeric) {
    *key = digits;
    return digits.size() >= 7;
  }
  *key = v;
  return CodePoints(v) >= 4;
}

const mask::Redactor* Detectors() {
  static const std::shared_ptr<const mask::Redactor> redactor = [] {
    auto r = mask::Redactor::Create({.detectors = mask::AllDetectors()});
    return r.ok() ? *r : nullptr;
  }();
  return redactor.get();
}

void Add(QueryDiff* q, Finding f) {
  const auto n = std::count_if(q->findings.begin(), q->findings.end(),
                               [&](const Finding& x) { return x.kind == f.kind; });
  if (static_cast<size_t>(n) < kMaxFindingsPerKind) {
    q->findings.push_back(std::move(f));
  } else if (static_cast<size_t>(n) == kMaxFindingsPerKind) {
    q->findings.push_back({f.kind, -1, -1, "more findings of this kind not listed"});
  }
}

void Leak(QueryDiff* q, int row, int col, std::string detail) {
  q->columns[col].leaks++;
  q->leak_cells[{row, col}] = true;
  Add(q, {"leak", row, col, std::move(detail)});
}

// Positional pairing, accepted only if every shown column agrees in every pair.
void Pair(QueryDiff* q) {
  if (q->raw.size() != q->masked.size()) {
    Add(q, {"rows", -1, -1,
            "raw " + std::to_string(q->raw.size()) + " rows, masked " +
                std::to_string(q->masked.size())});
    return;
  }
  for (size_t r = 0; r < q->raw.size(); ++r) {
    if (q->masked[r].size() != q->columns.size()) {
      Add(q, {"unpaired", -1, -1, "masked result has a different number of columns"});
      return;
    }
    for (size_t c = 0; c < q->columns.size(); ++c) {
      if (q->columns[c].transform == "show" && q->raw[r][c] != q->masked[r][c]) {
        Add(q, {"unpaired", static_cast<int>(r), static_cast<int>(c),
                "a column shown as stored differs: rows are not in the same order (add an "
                "ORDER BY on unprotected columns); pairwise checks skipped"});
        return;
      }
    }
  }
  q->paired = true;
}

void CheckPairs(QueryDiff* q, bool have_keys) {
  const mask::Redactor* detectors = Detectors();
  for (size_t c = 0; c < q->columns.size(); ++c) {
    DiffColumn& col = q->columns[c];
    for (size_t r = 0; r < q->raw.size(); ++r) {
      const Cell& raw = q->raw[r][c];
      const Cell& masked = q->masked[r][c];
      const int ri = static_cast<int>(r), ci = static_cast<int>(c);
      if (raw) {
        if (!masked) {
          ++col.nulled;
        } else if (*masked == *raw) {
          ++col.kept;
        } else {
          ++col.transformed;
        }
      }
      if (!col.rule) continue;
      if (col.is_protected && NeverIdentity(col.transform) && raw && masked && !raw->empty() &&
          *raw == *masked) {
        Leak(q, ri, ci, "protected value kept as stored (" + col.transform + ")");
      }
      if (col.transform == "redact" && raw && masked && detectors != nullptr) {
        for (const auto& hit : detectors->Find(*raw)) {
          std::string_view frag = std::string_view(*raw).substr(hit.begin, hit.end - hit.begin);
          if (frag.size() >= 5 && masked->find(frag) != std::string::npos) {
            Leak(q, ri, ci,
                 std::string(mask::DetectorName(hit.detector)) + " kept in redacted text");
          }
        }
      }
      // Shape: the rule applied to the raw value must give the masked value. Pseudonyms
      // and hashes need the real keys.
      const bool keyed = col.transform == "pseudonym" || col.transform == "hash";
      if (keyed && !have_keys) continue;
      std::string expected;
      bool expected_null = false;
      std::optional<std::string_view> in;
      if (raw) in = *raw;
      Status st = col.rule->transform->Apply(col.raw_type, mask::Format::kText, in, &expected,
                                             &expected_null);
      if (!st.ok()) expected_null = true;  // the proxy fails closed to NULL
      const bool ok = expected_null ? !masked.has_value() : (masked && *masked == expected);
      if (!ok) {
        ++col.shape_errors;
        Add(q, {"shape", ri, ci, "masked value is not " + col.rule->spec + " of the raw value"});
      }
    }
  }
}

}  // namespace

std::string DiffColumn::Verdict() const {
  const int kinds = (kept > 0) + (transformed > 0) + (nulled > 0);
  if (kinds == 0) return "-";
  if (kinds > 1) return "mixed";
  return kept ? "kept" : transformed ? "transformed" : "nulled";
}

bool QueryDiff::Failed() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.kind != "unpaired"; });
}

int DiffRun::Count(const std::string& kind) const {
  int n = 0;
  for (const auto& q : queries) {
    for (const auto& c : q.columns) {
      if (kind == "leak") n += c.leaks;
      if (kind == "shape") n += c.shape_errors;
    }
    if (kind != "leak" && kind != "shape") {
      n += static_cast<int>(std::count_if(q.findings.begin(), q.findings.end(),
                                          [&](const Finding& f) { return f.kind == kind; }));
    }
  }
  return n;
}

bool DiffRun::Failed() const {
  return std::any_of(queries.begin(), queries.end(), [](const auto& q) { return q.Failed(); });
}

void CheckRun(DiffRun* run, bool have_keys) {
  // Raw values of protected columns, searchable across every masked cell of the run.
  std::unordered_map<std::string, std::string> secrets;  // key -> column source
  for (QueryDiff& q : run->queries) {
    for (size_t c = 0; c < q.columns.size(); ++c) {
      const DiffColumn& col = q.columns[c];
      if (!col.is_protected || !NeverIdentity(col.transform)) continue;
      for (const Row& row : q.raw) {
        std::string key;
        if (row[c] && Searchable(*row[c], &key)) secrets.emplace(key, col.source);
      }
    }
  }
  // Consistency per keyed rule: raw -> masked and masked -> raw.
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> forward, backward;
  for (QueryDiff& q : run->queries) {
    if (std::none_of(q.findings.begin(), q.findings.end(),
                     [](const Finding& f) { return f.kind == "error"; })) {
      Pair(&q);
    }
    if (q.paired) CheckPairs(&q, have_keys);
    for (size_t r = 0; r < q.masked.size(); ++r) {
      for (size_t c = 0; c < q.masked[r].size(); ++c) {
        const Cell& m = q.masked[r][c];
        if (!m || q.leak_cells.count({static_cast<int>(r), static_cast<int>(c)})) continue;
        std::vector<std::string> candidates = {*m};
        for (std::string_view w : Words(*m)) candidates.emplace_back(w);
        for (std::string& d : DigitRuns(*m)) candidates.push_back(std::move(d));
        for (const std::string& cand : candidates) {
          auto it = secrets.find(cand);
          if (it == secrets.end()) continue;
          if (c < q.columns.size()) {
            Leak(&q, static_cast<int>(r), static_cast<int>(c),
                 "a raw value of " + it->second + " appears in this masked cell");
          }
          break;
        }
      }
    }
    if (!q.paired) continue;
    for (size_t c = 0; c < q.columns.size(); ++c) {
      const DiffColumn& col = q.columns[c];
      if (col.transform != "pseudonym" && col.transform != "hash") continue;
      auto& fwd = forward[col.rule->spec];
      auto& bwd = backward[col.rule->spec];
      for (size_t r = 0; r < q.raw.size(); ++r) {
        const Cell& raw = q.raw[r][c];
        const Cell& m = q.masked[r][c];
        if (!raw || !m) continue;
        auto [f, f_new] = fwd.emplace(*raw, *m);
        auto [b, b_new] = bwd.emplace(*m, *raw);
        if (!f_new && f->second != *m) {
          Add(&q, {"inconsistent", static_cast<int>(r), static_cast<int>(c),
                   "one raw value has two masked values under " + col.rule->spec});
        } else if (!b_new && b->second != *raw) {
          Add(&q, {"inconsistent", static_cast<int>(r), static_cast<int>(c),
                   "two raw values share one masked value under " + col.rule->spec});
        }
      }
    }
  }
}

}  // namespace pgveil::tools
