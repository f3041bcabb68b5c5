#include "pgveil/guard/copy_inspect.h"

#include <pg_query.h>

#include <algorithm>
#include <cctype>

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

// An option's value as the server reads it (defGetString): a string, and also a number
// (`QUOTE 3`), `*`, a boolean or a parenthesized list of names joined with dots
// (`QUOTE ('3')`). Read as strings only, `QUOTE 3` left the quote at '"' for pgveil
// while the server quoted with 3 and doubled every 3 inside a value, so redaction saw
// numbers that were not the ones written.
std::string StringArg(const json& def) {
  if (!def.contains("arg")) return "";
  const json& arg = def["arg"];
  if (arg.contains("String")) return arg["String"].value("sval", "");
  if (arg.contains("Integer")) return std::to_string(arg["Integer"].value("ival", int64_t{0}));
  if (arg.contains("Float")) return arg["Float"].value("fval", "");
  if (arg.contains("Boolean")) return arg["Boolean"].value("boolval", false) ? "true" : "false";
  if (arg.contains("A_Star")) return "*";
  if (arg.contains("List")) {
    std::string out;
    bool first = true;
    for (const auto& item : arg["List"]["items"]) {
      if (!first) out += '.';
      first = false;
      if (item.contains("String")) {
        out += item["String"].value("sval", "");
      } else if (item.contains("A_Star")) {
        out += '*';
      }
    }
    return out;
  }
  return "";
}

bool BoolArg(const json& def) {
  if (!def.contains("arg")) return true;  // HEADER alone means true
  const json& arg = def["arg"];
  if (arg.contains("Boolean")) return arg["Boolean"].value("boolval", false);
  if (arg.contains("String")) {
    std::string s = arg["String"].value("sval", "");
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s == "true" || s == "on" || s == "1" || s == "match";
  }
  if (arg.contains("Integer")) return arg["Integer"].value("ival", 0) != 0;
  return true;
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
      if (name == "format") {
        std::string f = StringArg(d);
        if (f == "csv") s.format = CopyFormat::kCsv;
        if (f == "binary") s.format = CopyFormat::kBinary;
      } else if (name == "delimiter") {
        std::string v = StringArg(d);
        if (!v.empty()) s.delimiter = v[0];
        delimiter_set = true;
      } else if (name == "null") {
        s.null_string = StringArg(d);
        null_set = true;
      } else if (name == "quote") {
        std::string v = StringArg(d);
        if (!v.empty()) s.quote = v[0];
      } else if (name == "escape") {
        std::string v = StringArg(d);
        if (!v.empty()) s.escape = v[0];
        escape_set = true;
      } else if (name == "header") {
        s.header = BoolArg(d);
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
