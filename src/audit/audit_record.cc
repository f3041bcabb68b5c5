#include "pgveil/audit/audit_record.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "pgveil/audit/statement_summary.h"
#include "pgveil/mask/redact.h"

namespace pgveil::audit {
namespace {

using nlohmann::json;

// Refusal messages are pgveil's own text, but a message that quoted a value (an
// identifier echoed back, a future message that forgets the rule) must not carry it into
// the log: quoted spans are cut and detector hits replaced by their labels. Some messages
// name what the client wrote without quotes (`function 王芳 is not available`, `may not
// change setting x23456`): a word that a statement summary would not keep as an
// identifier (non-ASCII, or a run of four digits) becomes `?`, as it does there.
std::string ScrubMessage(std::string_view message) {
  std::string cut;
  bool in_quote = false;
  for (char c : message) {
    if (c == '\'' || c == '"') {
      if (!in_quote) cut += "\"…\"";
      in_quote = !in_quote;
    } else if (!in_quote) {
      cut.push_back(c);
    }
  }
  std::string words;
  for (size_t i = 0; i < cut.size();) {
    if (cut[i] == ' ') {
      words.push_back(cut[i++]);
      continue;
    }
    const size_t end = std::min(cut.find(' ', i), cut.size());
    const std::string_view word = std::string_view(cut).substr(i, end - i);
    // The marks put in for quoted spans are the only non-ASCII text of pgveil's own; the
    // rest of the word must pass as a statement summary's identifier (SafeName).
    static constexpr std::string_view kMark = "\"…\"";
    std::string rest;
    for (size_t k = 0; k < word.size();) {
      if (word.substr(k, kMark.size()) == kMark) {
        rest.push_back(' ');  // keeps digits on either side of a mark apart
        k += kMark.size();
      } else {
        rest.push_back(word[k++]);
      }
    }
    bool plain = true;
    for (size_t a = 0; a < rest.size() && plain;) {
      const size_t b = std::min(rest.find(' ', a), rest.size());
      if (b > a && SafeName(std::string_view(rest).substr(a, b - a)) == "?") plain = false;
      a = b + 1;
    }
    if (plain) {
      words.append(word);
    } else {
      words.push_back('?');
    }
    i = end;
  }
  cut = std::move(words);
  static const std::shared_ptr<const mask::Redactor> redactor = [] {
    auto r = mask::Redactor::Create({.detectors = mask::AllDetectors()});
    return r.ok() ? *r : nullptr;
  }();
  if (redactor == nullptr) return "(message withheld)";
  std::string out;
  redactor->Redact(cut, &out);
  return out;
}

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point t) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, frac);
  return out;
}

std::string ToJson(const AuditRecord& r) {
  json j = json::object();
  j["time"] = FormatTime(r.time);
  j["login"] = r.login;
  j["policy"] = r.policy;
  j["client"] = r.client_address;
  j["database"] = r.database;
  j["fingerprint"] = r.statement.fingerprint;
  if (r.statement.text.empty()) {
    j["statement_withheld"] = r.statement.withheld.empty() ? "empty" : r.statement.withheld;
  } else {
    j["statement"] = r.statement.text;
  }
  j["relations"] = r.relations;
  j["columns"] = r.columns;
  json output = json::array();
  for (const OutputColumn& c : r.output) {
    // Result column names are the client's aliases: text of the statement, kept out of
    // the log like its literals (`SELECT nickname AS "13800138000"`).
    output.push_back(
        {{"name", SafeName(c.name)}, {"source", c.source}, {"transform", c.transform}});
  }
  j["output"] = std::move(output);
  if (r.rows) j["rows"] = *r.rows;
  if (r.refusal) {
    j["refused"] = {{"sqlstate", r.refusal->sqlstate},
                    {"message", ScrubMessage(r.refusal->message)}};
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pgveil::audit
