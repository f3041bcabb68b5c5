// pgveil diff: terminal, JSON and HTML reports.
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "tools/diff_model.h"
#include "tools/text_width.h"

namespace pgveil::tools {
namespace {

using nlohmann::json;

std::string OneLine(const std::string& sql) {
  std::string s;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !s.empty();
    } else {
      if (space) s.push_back(' ');
      space = false;
      s.push_back(c);
    }
  }
  return s;
}

// The mark of a masked cell: ' ' kept, '*' transformed, '∅' nulled, '!' leak.
std::string Mark(const QueryDiff& q, size_t r, size_t c) {
  if (q.leak_cells.count({static_cast<int>(r), static_cast<int>(c)})) return "!";
  if (!q.paired || r >= q.raw.size()) return " ";
  const Cell& raw = q.raw[r][c];
  const Cell& m = q.masked[r][c];
  if (raw && !m) return "\xE2\x88\x85";  // ∅
  if (raw != m) return "*";
  return " ";
}

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Where(const QueryDiff& q, const Finding& f) {
  std::string w;
  if (f.row >= 0) w += "row " + std::to_string(f.row + 1);
  if (f.column >= 0 && f.column < static_cast<int>(q.columns.size())) {
    w += (w.empty() ? "" : ", ") + std::string("column ") + q.columns[f.column].name;
  }
  return w;
}

}  // namespace

void PrintDiffText(const DiffRun& run, const DiffOptions& options, std::ostream& out) {
  const int w = std::max(4, options.cell_width);
  out << "pgveil diff: policy " << run.policy << ", " << run.queries.size() << " queries\n";
  for (size_t i = 0; i < run.queries.size(); ++i) {
    const QueryDiff& q = run.queries[i];
    out << "\n== query " << i + 1 << ": " << OneLine(q.sql) << "\n";
    out << "rows: raw " << q.raw.size() << ", masked " << q.masked.size()
        << (q.paired ? ", paired by position" : ", not paired") << "\n";
    int nw = 6, sw = 6, tw = 9;
    for (const auto& c : q.columns) {
      nw = std::max(nw, DisplayWidth(c.name));
      sw = std::max(sw, DisplayWidth(c.source));
      tw = std::max(tw, DisplayWidth(c.transform));
    }
    out << "  " << FitWidth("column", nw) << "  " << FitWidth("source", sw) << "  "
        << FitWidth("transform", tw) << "  result\n";
    for (const auto& c : q.columns) {
      out << "  " << FitWidth(c.name, nw) << "  " << FitWidth(c.source, sw) << "  "
          << FitWidth(c.transform, tw) << "  " << c.Verdict();
      if (c.leaks) out << ", " << c.leaks << " LEAKS";
      if (c.shape_errors) out << ", " << c.shape_errors << " shape errors";
      out << "\n";
    }
    const size_t shown = std::min(static_cast<size_t>(std::max(0, options.max_rows)),
                                  std::max(q.raw.size(), q.masked.size()));
    if (shown > 0 && !q.columns.empty()) {
      std::string header = "     ";
      for (const auto& c : q.columns) header += FitWidth(c.name, w) + "  ";
      out << "\n  raw" << std::string(static_cast<size_t>(DisplayWidth(header)) - 3, ' ')
          << "\xE2\x94\x82 masked\n";
      out << header << "\xE2\x94\x82 " << header << "\n";
      for (size_t r = 0; r < shown; ++r) {
        std::string line = FitWidth(std::to_string(r + 1), 4) + " ";
        for (size_t c = 0; c < q.columns.size(); ++c) {
          const Cell* v = r < q.raw.size() ? &q.raw[r][c] : nullptr;
          line += FitWidth(v ? (*v ? **v : "NULL") : "", w) + "  ";
        }
        line += "\xE2\x94\x82 " + FitWidth(std::to_string(r + 1), 4) + " ";
        for (size_t c = 0; c < q.columns.size(); ++c) {
          const Cell* v = r < q.masked.size() && c < q.masked[r].size() ? &q.masked[r][c] : nullptr;
          line += Mark(q, r, c) + FitWidth(v ? (*v ? **v : "NULL") : "", w - 1) + "  ";
        }
        out << line << "\n";
      }
    }
    for (const auto& f : q.findings) {
      std::string where = Where(q, f);
      out << "  " << f.kind << (where.empty() ? "" : " (" + where + ")") << ": " << f.detail
          << "\n";
    }
    out << "result: " << (q.Failed() ? "FAIL" : "ok") << "\n";
  }
  out << "\nsummary: " << run.Count("leak") << " leaks, " << run.Count("inconsistent")
      << " inconsistencies, " << run.Count("shape") << " shape errors, " << run.Count("rows")
      << " row-count mismatches, " << run.Count("error") << " failed queries, "
      << run.Count("unpaired") << " unpaired -> " << (run.Failed() ? "FAIL" : "PASS") << "\n";
}

void PrintDiffJson(const DiffRun& run, std::ostream& out) {
  json queries = json::array();
  for (const QueryDiff& q : run.queries) {
    json cols = json::array();
    for (const auto& c : q.columns) {
      cols.push_back({{"name", c.name},
                      {"source", c.source},
                      {"transform", c.transform},
                      {"rule", c.rule ? c.rule->spec : ""},
                      {"protected", c.is_protected},
                      {"result", c.Verdict()},
                      {"kept", c.kept},
                      {"transformed", c.transformed},
                      {"nulled", c.nulled},
                      {"leaks", c.leaks},
                      {"shape_errors", c.shape_errors}});
    }
    json findings = json::array();
    for (const auto& f : q.findings) {
      json jf = {{"kind", f.kind}, {"detail", f.detail}};
      if (f.row >= 0) jf["row"] = f.row + 1;
      if (f.column >= 0 && f.column < static_cast<int>(q.columns.size())) {
        jf["column"] = q.columns[f.column].name;
      }
      findings.push_back(std::move(jf));
    }
    queries.push_back({{"sql", q.sql},
                       {"raw_rows", q.raw.size()},
                       {"masked_rows", q.masked.size()},
                       {"paired", q.paired},
                       {"passed", !q.Failed()},
                       {"columns", std::move(cols)},
                       {"findings", std::move(findings)}});
  }
  json j = {{"policy", run.policy},
            {"passed", !run.Failed()},
            {"leaks", run.Count("leak")},
            {"inconsistencies", run.Count("inconsistent")},
            {"shape_errors", run.Count("shape")},
            {"row_count_mismatches", run.Count("rows")},
            {"failed_queries", run.Count("error")},
            {"unpaired_queries", run.Count("unpaired")},
            {"queries", std::move(queries)}};
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

std::string DiffHtml(const DiffRun& run, const DiffOptions& options) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       "<title>pgveil diff</title>\n<style>\n"
       "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n"
       "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
       "td,th{border:1px solid #ccc;padding:.2em .45em;vertical-align:top;font-size:13px}\n"
       "th{background:#f3f3f3}.raw{color:#555}.m{font-weight:600}\n"
       ".pass{color:#176f2c}.fail{color:#b00020;font-weight:700}\n"
       ".t-show{}.t-null{background:#e0e0e0}.t-partial{background:#fff2c2}\n"
       ".t-pseudonym{background:#d7ecff}.t-hash{background:#d7ecff}.t-redact{background:#ffe0cc}\n"
       ".t-bucket,.t-round,.t-age_band{background:#dff5e1}.t-truncate{background:#efe2ff}\n"
       ".t-map,.t-constant{background:#f5e6d6}.leak{background:#b00020!important;color:#fff}\n"
       "code{white-space:pre-wrap}</style></head><body>\n";
  h << "<h1>pgveil diff</h1>\n<p>Policy <b>" << Html(run.policy) << "</b>. Result: <span class=\""
    << (run.Failed() ? "fail\">FAIL" : "pass\">PASS") << "</span></p>\n";
  h << "<table><tr><th>leaks</th><th>inconsistencies</th><th>shape errors</th><th>row-count "
       "mismatches</th><th>failed queries</th><th>unpaired</th></tr><tr><td>"
    << run.Count("leak") << "</td><td>" << run.Count("inconsistent") << "</td><td>"
    << run.Count("shape") << "</td><td>" << run.Count("rows") << "</td><td>" << run.Count("error")
    << "</td><td>" << run.Count("unpaired") << "</td></tr></table>\n";
  h << "<p>Each cell shows the raw value (grey) above the masked value, coloured by "
       "transform: <span class=\"t-partial\">partial</span> <span class=\"t-pseudonym\">"
       "pseudonym/hash</span> <span class=\"t-redact\">redact</span> <span class=\"t-bucket\">"
       "bucket/round/age_band</span> <span class=\"t-truncate\">truncate</span> <span "
       "class=\"t-null\">null</span> <span class=\"leak\">leak</span>.</p>\n";
  for (size_t i = 0; i < run.queries.size(); ++i) {
    const QueryDiff& q = run.queries[i];
    h << "<h2>Query " << i + 1 << " <span class=\"" << (q.Failed() ? "fail\">FAIL" : "pass\">ok")
      << "</span></h2>\n<p><code>" << Html(q.sql) << "</code></p>\n<p>rows: raw " << q.raw.size()
      << ", masked " << q.masked.size() << (q.paired ? ", paired by position" : ", not paired")
      << "</p>\n";
    if (!q.findings.empty()) {
      h << "<ul>\n";
      for (const auto& f : q.findings) {
        std::string where = Where(q, f);
        h << "<li><b>" << Html(f.kind) << "</b>" << (where.empty() ? "" : " (" + Html(where) + ")")
          << ": " << Html(f.detail) << "</li>\n";
      }
      h << "</ul>\n";
    }
    h << "<table><tr><th>#</th>";
    for (const auto& c : q.columns) {
      h << "<th class=\"t-" << Html(c.transform) << "\">" << Html(c.name) << "<br><small>"
        << Html(c.transform) << " &middot; " << Html(c.Verdict()) << "</small></th>";
    }
    h << "</tr>\n";
    const size_t shown = std::min(static_cast<size_t>(std::max(0, options.max_rows)),
                                  std::max(q.raw.size(), q.masked.size()));
    for (size_t r = 0; r < shown; ++r) {
      h << "<tr><td>" << r + 1 << "</td>";
      for (size_t c = 0; c < q.columns.size(); ++c) {
        const bool leak = q.leak_cells.count({static_cast<int>(r), static_cast<int>(c)}) > 0;
        const Cell* raw = r < q.raw.size() ? &q.raw[r][c] : nullptr;
        const Cell* m = r < q.masked.size() && c < q.masked[r].size() ? &q.masked[r][c] : nullptr;
        const bool changed = !raw || !m || *raw != *m;
        h << "<td class=\""
          << (leak      ? "leak"
              : changed ? "t-" + Html(q.columns[c].transform)
                        : "")
          << "\"><div class=\"raw\">" << (raw ? (*raw ? Html(**raw) : "<i>NULL</i>") : "")
          << "</div><div class=\"m\">" << (m ? (*m ? Html(**m) : "<i>NULL</i>") : "")
          << "</div></td>";
      }
      h << "</tr>\n";
    }
    h << "</table>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace pgveil::tools
