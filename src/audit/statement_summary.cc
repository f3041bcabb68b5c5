// Why two passes: pg_query_normalize replaces the constants it sees in the parse tree,
// but it copies everything else of the input verbatim — comments, and constants in
// places its walker does not visit. The second pass is a small lexer over the
// normalised text that keeps only keywords, plain identifiers, parameters, operators and
// punctuation; anything that still looks like a value becomes `?`, and anything it cannot
// lex withholds the text. A last detector run is the net under both.
#include "pgveil/audit/statement_summary.h"

#include <pg_query.h>

#include <memory>

#include "pgveil/mask/redact.h"

namespace pgveil::audit {
namespace {

// RAII for the two libpg_query results used here.
class Fingerprint {
 public:
  explicit Fingerprint(const std::string& sql) : r_(pg_query_fingerprint(sql.c_str())) {}
  ~Fingerprint() { pg_query_free_fingerprint_result(r_); }
  Fingerprint(const Fingerprint&) = delete;
  Fingerprint& operator=(const Fingerprint&) = delete;
  bool ok() const { return r_.error == nullptr && r_.fingerprint_str != nullptr; }
  std::string hex() const { return r_.fingerprint_str; }

 private:
  PgQueryFingerprintResult r_;
};

class Normalized {
 public:
  explicit Normalized(const std::string& sql) : r_(pg_query_normalize(sql.c_str())) {}
  ~Normalized() { pg_query_free_normalize_result(r_); }
  Normalized(const Normalized&) = delete;
  Normalized& operator=(const Normalized&) = delete;
  bool ok() const { return r_.error == nullptr && r_.normalized_query != nullptr; }
  std::string_view text() const { return r_.normalized_query; }

 private:
  PgQueryNormalizeResult r_;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }

// An identifier may stay if it is plain ASCII without a run of 4 or more digits (names
// of tables and columns; a phone number or a person's name written as an alias does not
// pass).
bool SafeIdentifier(std::string_view id) {
  int digits = 0;
  for (char c : id) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    digits = IsDigit(c) ? digits + 1 : 0;
    if (digits >= 4) return false;
  }
  return !id.empty();
}

// Skips a quoted string starting at s[i] == '\''. `backslash`: E'' rules. Returns the
// index after the closing quote, or npos if unterminated.
size_t SkipString(std::string_view s, size_t i, bool backslash) {
  for (++i; i < s.size(); ++i) {
    if (backslash && s[i] == '\\') {
      ++i;
    } else if (s[i] == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

void Emit(std::string* out, std::string_view token, bool* space) {
  if (*space && !out->empty()) out->push_back(' ');
  *space = false;
  out->append(token);
}

bool DetectorsFire(std::string_view text) {
  static const std::shared_ptr<const mask::Redactor> redactor = [] {
    auto r = mask::Redactor::Create({.detectors = mask::AllDetectors()});
    return r.ok() ? *r : nullptr;
  }();
  if (redactor == nullptr) return true;  // cannot check: withhold
  return !redactor->Find(text).empty();
}

}  // namespace

std::string SafeName(std::string_view name) {
  if (!SafeIdentifier(name) || DetectorsFire(name)) return "?";
  return std::string(name);
}

bool ScrubNormalized(std::string_view s, std::string* out) {
  out->clear();
  bool space = false;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\0') return false;
    if (IsSpace(c)) {
      space = true;
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      space = true;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 1;  // PostgreSQL comments nest
      for (i += 2; i < s.size() && depth > 0;) {
        if (s.substr(i, 2) == "/*") {
          ++depth;
          i += 2;
        } else if (s.substr(i, 2) == "*/") {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      }
      if (depth > 0) return false;
      space = true;
    } else if (c == '\'') {
      // A plain string: with standard_conforming_strings off a backslash would escape
      // the quote and the string would end elsewhere; refuse to guess.
      size_t end = SkipString(s, i, false);
      if (end == std::string_view::npos) return false;
      if (s.substr(i, end - i).find('\\') != std::string_view::npos) return false;
      Emit(out, "?", &space);
      i = end;
    } else if (c == '"') {
      size_t end = i + 1;
      for (; end < s.size(); ++end) {
        if (s[end] == '"') {
          if (end + 1 < s.size() && s[end + 1] == '"') {
            ++end;
          } else {
            break;
          }
        }
      }
      if (end >= s.size()) return false;
      std::string_view inner = s.substr(i + 1, end - i - 1);
      bool plain = SafeIdentifier(inner) && inner.find('"') == std::string_view::npos;
      Emit(out, plain ? s.substr(i, end + 1 - i) : std::string_view("\"?\""), &space);
      i = end + 1;
    } else if (c == '$' && i + 1 < s.size() && IsDigit(s[i + 1])) {
      size_t end = i + 1;
      while (end < s.size() && IsDigit(s[end])) ++end;
      Emit(out, s.substr(i, end - i), &space);
      i = end;
    } else if (c == '$') {
      // Dollar quote: $tag$ ... $tag$ (tag empty or an identifier without '$').
      size_t tag_end = i + 1;
      while (tag_end < s.size() && s[tag_end] != '$' && IsIdentChar(s[tag_end])) ++tag_end;
      if (tag_end >= s.size() || s[tag_end] != '$') return false;
      std::string_view tag = s.substr(i, tag_end + 1 - i);
      size_t close = s.find(tag, tag_end + 1);
      if (close == std::string_view::npos) return false;
      Emit(out, "?", &space);
      i = close + tag.size();
    } else if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      // A number (with fraction, exponent, hex/octal/binary prefixes, underscores).
      size_t end = i;
      while (end < s.size() && (IsIdentChar(s[end]) || s[end] == '.')) {
        if ((s[end] == 'e' || s[end] == 'E') && end + 1 < s.size() &&
            (s[end + 1] == '+' || s[end + 1] == '-')) {
          ++end;
        }
        ++end;
      }
      Emit(out, "?", &space);
      i = end;
    } else if (IsIdentStart(c)) {
      size_t end = i;
      while (end < s.size() && IsIdentChar(s[end])) ++end;
      std::string_view id = s.substr(i, end - i);
      if (end < s.size() && s[end] == '\'') {
        // Prefixed strings: E'..', B'..', X'..', N'..'; U&'..' is handled below.
        bool backslash = id == "E" || id == "e";
        size_t close = SkipString(s, end, backslash);
        if (close == std::string_view::npos) return false;
        if (!backslash && s.substr(end, close - end).find('\\') != std::string_view::npos) {
          return false;
        }
        Emit(out, "?", &space);
        i = close;
        continue;
      }
      if ((id == "U" || id == "u") && end + 1 < s.size() && s[end] == '&') {
        return false;  // U&'..' / U&".." escapes: not worth a lexer of their own
      }
      Emit(out, SafeIdentifier(id) ? id : std::string_view("?"), &space);
      i = end;
    } else {
      // Operators and punctuation: ASCII only.
      if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return false;
      Emit(out, s.substr(i, 1), &space);
      ++i;
    }
  }
  return true;
}

StatementSummary SummarizeStatement(std::string_view sql) {
  StatementSummary summary;
  if (sql.find('\0') != std::string_view::npos) {
    summary.withheld = "unparsed";
    return summary;
  }
  const std::string text(sql);
  Fingerprint fp(text);
  Normalized norm(text);
  if (!fp.ok() || !norm.ok()) {
    summary.withheld = "unparsed";
    return summary;
  }
  summary.parsed = true;
  summary.fingerprint = fp.hex();
  std::string clean;
  if (!ScrubNormalized(norm.text(), &clean)) {
    summary.withheld = "unsafe";
  } else if (DetectorsFire(clean)) {
    summary.withheld = "detector";
  } else {
    summary.text = std::move(clean);
  }
  return summary;
}

}  // namespace pgveil::audit
