#include "pgveil/guard/copy_inspect.h"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "guard/copy_read.h"

namespace pgveil::guard {
namespace {

// RAII for libpg_query's parse result.
class ParseResult {
 public:
  explicit ParseResult(const std::string& sql) : r_(pg_query_parse(sql.c_str())) {}
  ~ParseResult() { pg_query_free_parse_result(r_); }
  ParseResult(const ParseResult&) = delete;
  ParseResult& operator=(const ParseResult&) = delete;
  bool ok() const { return r_.error == nullptr; }
  const char* tree() const { return r_.parse_tree; }

 private:
  PgQueryParseResult r_;
};

bool MentionsCopy(std::string_view sql) {
  for (size_t i = 0; i + 4 <= sql.size(); ++i) {
    if ((sql[i] | 0x20) == 'c' && (sql[i + 1] | 0x20) == 'o' && (sql[i + 2] | 0x20) == 'p' &&
        (sql[i + 3] | 0x20) == 'y') {
      return true;
    }
  }
  return false;
}

// An option's argument as the server reads it (defGetString): a number is its decimal
// text, so `DELIMITER 9` is the delimiter "9" and `NULL 0` the NULL string "0". Nothing
// (nullopt) for an argument pgveil does not read the way the server does: a list
// (`FORMAT (csv)` is read as "csv"), `*`, or a node it does not know.
std::optional<std::string> ArgText(const json& def) {
  if (!def.contains("arg")) return std::nullopt;
  const json& arg = def["arg"];
  if (arg.contains("String")) return arg["String"].value("sval", "");
  // libpg_query leaves out fields that hold their type's zero value: {"Integer": {}} is 0.
  if (arg.contains("Integer")) return std::to_string(arg["Integer"].value("ival", int64_t{0}));
  if (arg.contains("Float")) return arg["Float"].value("fval", "");
  if (arg.contains("Boolean")) return arg["Boolean"].value("boolval", false) ? "true" : "false";
  return std::nullopt;
}

// HEADER's argument as the server reads it for COPY TO (defGetCopyHeaderChoice): absent,
// true/on/1 mean a header line; false/off/0 none. Nothing for anything else (the server
// refuses it, or reads it in a way pgveil does not follow).
std::optional<bool> HeaderArg(const json& def) {
  if (!def.contains("arg")) return true;
  const json& arg = def["arg"];
  if (arg.contains("Integer")) {
    const int64_t v = arg["Integer"].value("ival", int64_t{0});
    if (v == 0 || v == 1) return v == 1;
    return std::nullopt;
  }
  auto text = ArgText(def);
  if (!text) return std::nullopt;
  std::string s = *text;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "on" || s == "match") return true;
  if (s == "false" || s == "off") return false;
  return std::nullopt;
}

}  // namespace

CopyStatement ReadCopyStatement(const json& c) {
  CopyStatement s;
  s.is_from = c.value("is_from", false);
  s.is_query = c.contains("query");
  s.uses_file = c.value("is_program", false) || c.contains("filename");
  if (c.contains("relation")) {
    s.schema = c["relation"].value("schemaname", "");
    s.table = c["relation"].value("relname", "");
  }
  if (c.contains("attlist")) {
    for (const auto& a : c["attlist"]) {
      if (a.contains("String")) s.columns.push_back(a["String"].value("sval", ""));
    }
  }
  bool null_set = false, escape_set = false, delimiter_set = false;
  if (c.contains("options")) {
    for (const auto& o : c["options"]) {
      if (!o.contains("DefElem")) continue;
      const json& d = o["DefElem"];
      std::string name = d.value("defname", "");
      if (name == "header") {
        auto h = HeaderArg(d);
        if (h) {
          s.header = *h;
        } else {
          s.unreadable_option = name;
        }
        continue;
      }
      if (name != "format" && name != "delimiter" && name != "null" && name != "quote" &&
          name != "escape" && name != "encoding") {
        continue;
      }
      // The parts of the rows' syntax: read exactly as the server reads them, or not at
      // all (rows split with another delimiter put values into other columns).
      const std::optional<std::string> v = ArgText(d);
      if (!v) {
        s.unreadable_option = name;
        continue;
      }
      if (name == "format") {
        if (*v == "csv") s.format = CopyFormat::kCsv;
        if (*v == "binary") s.format = CopyFormat::kBinary;
      } else if (name == "delimiter") {
        if (!v->empty()) s.delimiter = (*v)[0];
        delimiter_set = true;
      } else if (name == "null") {
        s.null_string = *v;
        null_set = true;
      } else if (name == "quote") {
        if (!v->empty()) s.quote = (*v)[0];
      } else if (name == "escape") {
        if (!v->empty()) s.escape = (*v)[0];
        escape_set = true;
      }
    }
  }
  if (s.format == CopyFormat::kCsv) {
    if (!delimiter_set) s.delimiter = ',';
    if (!null_set) s.null_string = "";
    if (!escape_set) s.escape = s.quote;
  } else if (!null_set) {
    s.null_string = "\\N";
  }
  return s;
}

StatusOr<StatementSummary> InspectStatements(std::string_view sql) {
  StatementSummary summary;
  if (!MentionsCopy(sql)) {
    summary.statement_count = 1;
    return summary;
  }
  ParseResult r{std::string(sql)};
  if (!r.ok()) return InvalidArgument("syntax error");
  JsonTree parsed(r.tree());
  const json& tree = parsed.root();
  if (!parsed.ok() || !tree.contains("stmts")) {
    summary.statement_count = 0;
    return summary;
  }
  for (const auto& st : tree["stmts"]) {
    ++summary.statement_count;
    if (st.contains("stmt") && st["stmt"].contains("CopyStmt")) {
      summary.copies.push_back(ReadCopyStatement(st["stmt"]["CopyStmt"]));
    }
  }
  return summary;
}

}  // namespace pgveil::guard
