// Statement classes, the verdict cache, and the one boundary where a refusal found
// during the walk becomes a verdict.
#include "pgveil/guard/analyzer.h"

#include <pg_query.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>

#include "guard/copy_read.h"
#include "guard/names.h"
#include "guard/scope.h"
#include "mask/codec.h"
#include "pgveil/guard/startup.h"
#include "pgveil/wire/frame.h"

namespace pgveil::guard {
namespace {

constexpr size_t kCacheEntries = 4096;
constexpr size_t kMaxCachedText = 16 * 1024;
constexpr int64_t kCursorOptHold = 0x0020;  // PostgreSQL's CURSOR_OPT_HOLD

// How PostgreSQL names a statement class in its own messages, roughly.
std::string StatementName(std::string_view node) {
  static const std::map<std::string, std::string, std::less<>> names = {
      {"DoStmt", "DO"},
      {"CallStmt", "CALL"},
      {"LockStmt", "LOCK"},
      {"VacuumStmt", "VACUUM / ANALYZE"},
      {"LoadStmt", "LOAD"},
      {"CreateStmt", "CREATE TABLE"},
      {"CreateTableAsStmt", "CREATE TABLE AS"},
      {"CreateFunctionStmt", "CREATE FUNCTION"},
      {"ViewStmt", "CREATE VIEW"},
      {"DropStmt", "DROP"},
      {"AlterTableStmt", "ALTER TABLE"},
      {"TruncateStmt", "TRUNCATE"},
      {"GrantStmt", "GRANT / REVOKE"},
      {"GrantRoleStmt", "GRANT / REVOKE role"},
      {"CopyStmt", "COPY"},
      {"MergeStmt", "MERGE"},
      {"CheckPointStmt", "CHECKPOINT"},
      {"ReindexStmt", "REINDEX"},
      {"ClusterStmt", "CLUSTER"},
      {"CreateRoleStmt", "CREATE ROLE"},
      {"AlterRoleStmt", "ALTER ROLE"},
      {"CreateExtensionStmt", "CREATE EXTENSION"},
      {"IndexStmt", "CREATE INDEX"},
      {"RuleStmt", "CREATE RULE"},
      {"CreateTrigStmt", "CREATE TRIGGER"},
      {"CommentStmt", "COMMENT"},
      {"SecLabelStmt", "SECURITY LABEL"},
      {"AlterSystemStmt", "ALTER SYSTEM"},
      {"CreateSchemaStmt", "CREATE SCHEMA"},
      {"ReassignOwnedStmt", "REASSIGN OWNED"},
      {"DropOwnedStmt", "DROP OWNED"},
  };
  auto it = names.find(node);
  if (it != names.end()) return it->second;
  std::string s(node);
  if (s.size() > 4 && s.compare(s.size() - 4, 4, "Stmt") == 0) s.resize(s.size() - 4);
  return s;
}

constexpr char kClassHint[] =
    "Masked sessions may run SELECT, INSERT, UPDATE, DELETE, COPY ... TO STDOUT of a table, "
    "COPY ... FROM STDIN, cursors, prepared statements, transaction control, and SET of "
    "session settings.";

class StatementAnalysis {
 public:
  StatementAnalysis(const policy::Policy& policy, std::string_view sql) : walker_(policy, sql) {}

  StatementVerdict Statement(const json& stmt);
  Walker& walker() { return walker_; }
  std::vector<CopyStatement>& copies() { return copies_; }
  std::vector<CopyIn>& copy_ins() { return copy_ins_; }

 private:
  StatementVerdict Rows(const Output& out) {
    StatementVerdict sv;
    if (out.rows) sv.shape = Walker::ShapeOf(out);
    return sv;
  }
  [[noreturn]] void Refuse(std::string sqlstate, std::string message,
                           std::string hint = kClassHint) {
    throw Refusal{std::move(sqlstate), std::move(message), std::move(hint)};
  }
  void Setting(const json& b);
  // The options of a COPY FROM whose rows pgveil reads: only those it reads as the server
  // does, so that it finds the same fields.
  void CheckCopyInOptions(const json& b);

  Walker walker_;
  std::vector<CopyStatement> copies_;  // COPY ... TO STDOUT, in statement order
  std::vector<CopyIn> copy_ins_;       // COPY ... FROM STDIN, in statement order
};

void StatementAnalysis::CheckCopyInOptions(const json& b) {
  static const std::set<std::string> kRead = {"format", "delimiter", "null",     "header",
                                              "quote",  "escape",    "encoding", "freeze"};
  for (const auto& o : Arr(b, "options")) {
    const std::string name = Lower(Str(NodeBody(o), "defname"));
    if (kRead.count(name) == 0) {
      Refuse("0A000",
             "COPY FROM STDIN into a pseudonym column with option " + name +
                 " is not available to masked sessions",
             "Leave the option out, or write such rows with INSERT.");
    }
  }
}

void StatementAnalysis::Setting(const json& b) {
  const std::string kind = Str(b, "kind");
  if (kind == "VAR_RESET_ALL") return;
  const std::string name = Lower(Str(b, "name"));
  if (name == "role" || name == "session_authorization") {
    Refuse("42501",
           std::string("SET ") + (name == "role" ? "ROLE" : "SESSION AUTHORIZATION") +
               " is not available to masked sessions",
           "pgveil masks by the login the server verified; switching roles is not allowed.");
  }
  if (name == "client_encoding") {
    std::string value;
    for (const auto& a : Arr(b, "args")) {
      if (NodeType(a) == "A_Const") value = Lower(Str(At(NodeBody(a), "sval"), "sval"));
    }
    if (kind == "VAR_SET_VALUE" && ClientEncodingKeepsText(value)) return;
    Refuse("42501", "masked sessions must keep client_encoding UTF8",
           "pgveil reads statements as UTF-8; other encodings could be read differently by the "
           "server.");
  }
  if (ValueChecked(name) && kind == "VAR_SET_VALUE") {
    std::string value;  // SET DateStyle = ISO, DMY has two
    for (const auto& a : Arr(b, "args")) {
      if (!value.empty()) value += ",";
      const bool text = NodeType(a) == "A_Const" && Has(NodeBody(a), "sval");
      const std::string item = text ? Str(At(NodeBody(a), "sval"), "sval") : "";
      if (name != "search_path") {
        value += item;
        continue;
      }
      // Each item is one schema name, as the server quotes it; a number is a name too,
      // which this check does not take.
      if (!text) Refuse("42501", "masked sessions may set search_path only to schema names");
      value += '"';
      for (char c : item) value += c == '"' ? std::string("\"\"") : std::string(1, c);
      value += '"';
    }
    if (auto r = CheckSettingValue(name, value)) Refuse("42501", r->message, r->hint);
  }
  if (name == "standard_conforming_strings" || name == "backslash_quote") {
    Refuse("42501", "masked sessions may not change " + name,
           "It changes how the server reads or resolves SQL, which pgveil must read the same "
           "way.");
  }
  if (ClassifySetting(name) != SettingClass::kAllowed) {
    Refuse("42501", "masked sessions may not change setting " + name,
           "Masked sessions may change session settings such as application_name, TimeZone, "
           "DateStyle, statement_timeout and work_mem.");
  }
}

StatementVerdict StatementAnalysis::Statement(const json& stmt) {
  std::string_view t = NodeType(stmt);
  const json& b = NodeBody(stmt);
  if (t == "SelectStmt") return Rows(walker_.TopSelect(stmt));
  if (t == "InsertStmt") return Rows(walker_.Insert(b));
  if (t == "UpdateStmt") return Rows(walker_.Update(b));
  if (t == "DeleteStmt") return Rows(walker_.Delete(b));
  if (t == "DiscardStmt" && Str(b, "target") == "DISCARD_ALL") {
    StatementVerdict sv;  // drops every prepared statement, as DEALLOCATE ALL
    sv.kind = StatementVerdict::Kind::kDeallocate;
    sv.all = true;
    return sv;
  }
  if (t == "TransactionStmt" || t == "DiscardStmt" || t == "ListenStmt" || t == "UnlistenStmt" ||
      t == "NotifyStmt") {
    return {};
  }
  if (t == "ClosePortalStmt") {
    StatementVerdict sv;
    sv.kind = StatementVerdict::Kind::kClose;
    sv.name = Str(b, "portalname");
    sv.all = !Has(b, "portalname");
    return sv;
  }
  if (t == "VariableSetStmt") {
    Setting(b);
    return {};
  }
  if (t == "VariableShowStmt") {
    StatementVerdict sv;
    auto shape = std::make_shared<policy::RowShape>();
    shape->all_values = true;
    sv.shape = shape;
    return sv;
  }
  if (t == "ExplainStmt") {
    for (const auto& o : Arr(b, "options")) {
      const json& d = NodeBody(o);
      const std::string opt = Str(d, "defname");
      if (opt == "analyze") {
        Refuse("42501", "EXPLAIN ANALYZE is not available to masked sessions",
               "Run EXPLAIN without ANALYZE.");
      }
    }
    // A plan shows the constants of its statement: pseudonyms turned back into real
    // values would be read back from it.
    const size_t rewrites = walker_.rewrites.size(), params = walker_.PseudonymParams();
    if (NodeType(At(b, "query")) == "ExecuteStmt") {
      Refuse("0A000", "EXPLAIN EXECUTE is not available to masked sessions",
             "EXPLAIN the statement itself.");
    }
    Statement(At(b, "query"));
    if (walker_.rewrites.size() != rewrites || walker_.PseudonymParams() != params) {
      Refuse("0A000", "EXPLAIN of a statement that compares pseudonyms is not available",
             "A plan would show the real values behind the pseudonyms.");
    }
    StatementVerdict sv;
    auto shape = std::make_shared<policy::RowShape>();
    shape->all_values = true;
    sv.shape = shape;
    return sv;
  }
  if (t == "CopyStmt") {
    if (Has(b, "filename") || b.value("is_program", false)) {
      Refuse("42501", "COPY to or from a file or program is not available to masked sessions",
             "Use COPY ... TO STDOUT or COPY ... FROM STDIN.");
    }
    if (Has(b, "whereClause")) {
      Refuse("0A000", "COPY ... WHERE is not available to masked sessions");
    }
    if (const std::string option = ReadCopyStatement(b).unreadable_option; !option.empty()) {
      // The rows are parsed and written again with the options as pgveil reads them; read
      // otherwise, a field of one column would be taken for another's.
      Refuse("0A000",
             "pgveil cannot read the value of COPY option " + option + " the way the server does",
             "Give the option's value as a quoted string, e.g. DELIMITER '|'.");
    }
    for (const auto& o : Arr(b, "options")) {
      const json& d = NodeBody(o);
      if (Lower(Str(d, "defname")) != "encoding") continue;
      const std::string enc = Lower(Str(At(At(d, "arg"), "String"), "sval"));
      if (enc != "utf8" && enc != "utf-8" && enc != "unicode") {
        // Masking and redaction read UTF-8; other bytes would hide what they look for.
        Refuse("42501", "masked sessions may COPY in UTF8 only",
               "Leave out the ENCODING option, or give UTF8.");
      }
    }
    if (!b.value("is_from", false)) {
      const CopyStatement copy = ReadCopyStatement(b);
      if (copy.format == CopyFormat::kText && copy.null_string != "\\N") {
        // Text format writes a value equal to the NULL string as that string, unescaped:
        // pgveil would take it for a NULL and pass it unmasked, which tells the session
        // which rows hold exactly the value it wrote there.
        Refuse("0A000",
               "COPY ... TO STDOUT in text format with a NULL string of its own is not "
               "available to masked sessions",
               "Leave out the NULL option, or use FORMAT csv (which quotes such values).");
      }
    }
    if (Has(b, "query")) {
      // COPY (query) TO STDOUT: the query is checked like a SELECT; its rows are masked
      // by the lineage of its columns.
      Output out = walker_.TopSelect(At(b, "query"));
      if (out.open) {
        Refuse("0A000", "pgveil cannot COPY * over a system catalog or function",
               "Name the columns you need.");
      }
      CopyStatement copy = ReadCopyStatement(b);
      copy.query_shape = Walker::ShapeOf(out);
      copies_.push_back(std::move(copy));
      return {};
    }
    Scope scope;
    walker_.DmlTarget(At(b, "relation"), &scope);
    if (b.value("is_from", false)) {
      // Pseudonyms in the rows are turned back into real values on their way to the
      // server (proxy/copy_in.h), as a Bind's parameters are: stored as written, a real id
      // chosen by the session would read back as its pseudonym.
      const Entry& target = scope.entries.back();
      std::vector<std::string> cols;
      for (const auto& c : Arr(b, "attlist")) cols.push_back(Str(At(c, "String"), "sval"));
      if (cols.empty()) {
        for (size_t k = 0; k < target.colnames.size(); ++k) {
          const catalog::Column* col = target.cols[k].col;
          if (col == nullptr || !col->generated) cols.push_back(target.colnames[k]);
        }
      }
      CopyIn in;
      in.copy = ReadCopyStatement(b);
      for (size_t k = 0; k < cols.size(); ++k) {
        const Lineage l = target.Column(cols[k]);
        ParamReversal field;
        field.index = static_cast<int>(k);
        if (l.is_protected() && l.mask->filter == policy::FilterUse::kPseudonym) {
          if (l.mask->action != policy::Action::kTransform || !l.mask->transform->Reversible()) {
            Refuse("0A000",
                   "COPY FROM STDIN into column " + cols[k] +
                       " is not available to masked sessions: it holds one-way pseudonyms",
                   "Write such rows with INSERT.");
          }
          field.type_oid = l.type_oid;
          field.transform = l.mask->transform;
          field.column = l.column();
          in.translates = true;
        }
        in.fields.push_back(std::move(field));
      }
      if (in.translates) CheckCopyInOptions(b);
      copy_ins_.push_back(std::move(in));
    } else {
      copies_.push_back(ReadCopyStatement(b));
    }
    return {};
  }
  if (t == "PrepareStmt") {
    // The parameters of a prepared statement are its own, not the message's.
    auto outer = std::move(walker_.params);
    walker_.params.clear();
    StatementVerdict sv = Statement(At(b, "query"));
    walker_.CheckParamUses(stmt);
    // A declared type is what EXECUTE's argument is converted to before the comparison:
    // one that changes the value (int2 for a member id: an error or not by its size)
    // would compare with something pgveil did not check.
    const json& types = Arr(b, "argtypes");
    for (const auto& p : walker_.params) {
      if (p.index < 0 || static_cast<size_t>(p.index) >= types.size()) continue;
      if (!CastKeepsValue(p, CastTypeName(NodeBody(types[p.index])))) {
        Refuse("42501",
               "parameter $" + std::to_string(p.index + 1) + " is compared with " + p.column +
                   " but declared with another type",
               "Declare it with the column's type, or leave its type out.");
      }
    }
    sv.kind = StatementVerdict::Kind::kPrepare;
    if (walker_.dated) sv.dated_day = UtcDay();
    sv.name = Str(b, "name");
    sv.params = std::move(walker_.params);
    walker_.params = std::move(outer);
    return sv;
  }
  if (t == "ExecuteStmt") {
    StatementVerdict sv;
    sv.kind = StatementVerdict::Kind::kExecute;
    sv.name = Str(b, "name");
    for (const auto& p : Arr(b, "params")) {
      walker_.LooseValue(p);
      const json* c = &p;
      sv.execute_arg_casts.emplace_back();
      if (NodeType(*c) == "TypeCast") {
        sv.execute_arg_casts.back() = CastTypeName(At(NodeBody(*c), "typeName"));
        c = &At(NodeBody(*c), "arg");
      }
      if (NodeType(*c) == "A_Const") {
        sv.execute_arg_spans.push_back({NodeBody(*c).value("location", size_t{0}), 0});
      } else {
        sv.execute_arg_spans.push_back({0, 0});
      }
    }
    return sv;
  }
  if (t == "DeallocateStmt") {
    StatementVerdict sv;
    sv.kind = StatementVerdict::Kind::kDeallocate;
    sv.name = Str(b, "name");
    sv.all = !Has(b, "name");
    return sv;
  }
  if (t == "DeclareCursorStmt") {
    const size_t params_before = walker_.params.size();
    StatementVerdict sv = Statement(At(b, "query"));
    for (size_t i = params_before; i < walker_.params.size(); ++i) {
      const ParamReversal& p = walker_.params[i];
      if (!p.aligned_op.empty() && p.transform && p.transform->BoundariesMove()) {
        // The value is checked at Bind against that day's age bands, but the cursor may
        // be read on a later day, when the same value falls inside a band.
        Refuse("0A000",
               "a cursor may not compare a parameter with " + p.column +
                   ", whose boundaries move every day",
               "Write the boundary as a constant in DECLARE, or run the query without a "
               "cursor.");
      }
    }
    sv.kind = StatementVerdict::Kind::kDeclare;
    if (walker_.dated) sv.dated_day = UtcDay();
    sv.name = Str(b, "portalname");
    sv.hold = (b.value("options", int64_t{0}) & kCursorOptHold) != 0;
    return sv;
  }
  if (t == "FetchStmt") {
    StatementVerdict sv;
    sv.kind = StatementVerdict::Kind::kFetch;
    sv.name = Str(b, "portalname");
    sv.is_move = b.value("ismove", false);
    return sv;
  }
  Refuse("42501", StatementName(t) + " is not available to masked sessions");
}

}  // namespace

struct Analyzer::Cache {
  mutable std::shared_mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const Verdict>> verdicts;
};

Analyzer::Analyzer(std::shared_ptr<const policy::Policy> policy)
    : policy_(std::move(policy)), cache_(std::make_unique<Cache>()) {}

Analyzer::~Analyzer() = default;

std::shared_ptr<const Verdict> Analyzer::Analyze(std::string_view sql) const {
  std::string key(sql);
  {
    std::shared_lock lock(cache_->mu);
    auto it = cache_->verdicts.find(key);
    if (it != cache_->verdicts.end()) return it->second;
  }
  auto v = AnalyzeUncached(sql);
  if (key.size() <= kMaxCachedText && !v->dated) {
    std::unique_lock lock(cache_->mu);
    if (cache_->verdicts.size() >= kCacheEntries) cache_->verdicts.clear();
    cache_->verdicts.emplace(std::move(key), v);
  }
  return v;
}

std::shared_ptr<const Verdict> Analyzer::AnalyzeUncached(std::string_view sql) const {
  auto v = std::make_shared<Verdict>();
  v->original = std::string(sql);
  auto refuse = [&](std::string sqlstate, std::string message, std::string hint) {
    v->refused = true;
    v->sqlstate = std::move(sqlstate);
    v->message = std::move(message);
    v->hint = std::move(hint);
    v->statements.clear();
    v->params.clear();
    return v;
  };
  const std::string text(sql);
  PgQueryParseResult r = pg_query_parse(text.c_str());
  std::unique_ptr<PgQueryParseResult, void (*)(PgQueryParseResult*)> free_result(
      &r, [](PgQueryParseResult* p) { pg_query_free_parse_result(*p); });
  if (r.error != nullptr) {
    // The parser's message can quote the statement: not repeated.
    return refuse("42601", "syntax error in a statement checked by pgveil",
                  "pgveil reads every statement of this login with PostgreSQL's parser before "
                  "it is sent; fix the statement's syntax.");
  }
  JsonTree parsed(r.parse_tree);
  const json& tree = parsed.root();
  if (!parsed.ok()) return refuse("0A000", "pgveil cannot analyse this statement", "");
  StatementAnalysis analysis(*policy_, text);
  try {
    for (const auto& raw : Arr(tree, "stmts")) {
      StatementVerdict sv = analysis.Statement(At(raw, "stmt"));
      sv.location = raw.value("stmt_location", size_t{0});
      sv.length = raw.value("stmt_len", size_t{0});
      v->statements.push_back(std::move(sv));
    }
    analysis.walker().CheckParamUses(tree);
  } catch (const Refusal& refusal) {
    v->unknown_relation = analysis.walker().unknown_relation;
    v->dated = analysis.walker().dated;
    if (v->dated) v->dated_day = UtcDay();
    return refuse(refusal.sqlstate, refusal.message, refusal.hint);
  }
  Walker& w = analysis.walker();
  v->dated = w.dated;
  if (v->dated) v->dated_day = UtcDay();
  v->touches_protected = w.touches_protected;
  v->relations.assign(w.relations_read.begin(), w.relations_read.end());
  v->columns.assign(w.columns_read.begin(), w.columns_read.end());
  if (w.touches_protected && w.uses_timing_or_notify) {
    return refuse("42501",
                  "pg_sleep and pg_notify are not available in statements that read protected "
                  "relations",
                  "They can signal protected values through timing or notifications.");
  }
  v->params = std::move(w.params);
  // Literal pseudonyms turned back into real values, back to front.
  v->sql = text;
  auto rewrites = w.rewrites;
  std::sort(rewrites.begin(), rewrites.end(),
            [](const Rewrite& a, const Rewrite& b) { return a.pos > b.pos; });
  for (size_t i = 1; i < rewrites.size(); ++i) {
    // Back to front: each span must end before the one already replaced after it.
    if (rewrites[i].pos + rewrites[i].len > rewrites[i - 1].pos) {
      return refuse("0A000", "pgveil cannot translate the pseudonyms of this statement",
                    "Compare each pseudonym once.");
    }
  }
  for (const auto& rw : rewrites) {
    v->sql.replace(rw.pos, rw.len, rw.text);
    v->rewritten = true;
  }
  // EXECUTE arguments that are plain literals: the session may have to translate them.
  for (auto& sv : v->statements) {
    for (auto& span : sv.execute_arg_spans) {
      size_t len = 0;
      bool quoted = false;
      std::string value;
      if (span.first != 0 && LiteralSpan(text, span.first, &len, &quoted)) {
        value = quoted ? text.substr(span.first + 1, len - 2) : text.substr(span.first, len);
      }
      if (value.empty() || value.find('\'') != std::string::npos) {
        span = {0, 0};
        sv.execute_arg_text.emplace_back();
        continue;
      }
      span.second = len;
      sv.execute_arg_text.push_back(std::move(value));
    }
  }
  if (v->rewritten) {
    for (const auto& sv : v->statements) {
      for (const auto& span : sv.execute_arg_spans) {
        if (span.second != 0) {
          return refuse("0A000",
                        "pgveil cannot translate pseudonyms and EXECUTE arguments in one string",
                        "Send the EXECUTE on its own.");
        }
      }
    }
  }
  v->copies = std::move(analysis.copies());
  v->copy_ins = std::move(analysis.copy_ins());
  return v;
}

std::shared_ptr<const Analyzer> Analyzer::For(const std::shared_ptr<const policy::Policy>& policy) {
  static std::mutex mu;
  static std::map<const policy::Policy*, std::weak_ptr<const Analyzer>> analyzers;
  std::lock_guard lock(mu);
  auto it = analyzers.find(policy.get());
  if (it != analyzers.end()) {
    if (auto a = it->second.lock(); a && a->policy() == policy) return a;
  }
  for (auto i = analyzers.begin(); i != analyzers.end();) {
    i = i->second.expired() ? analyzers.erase(i) : std::next(i);
  }
  auto a = std::make_shared<const Analyzer>(policy);
  analyzers[policy.get()] = a;
  return a;
}

Status CheckAlignedParam(const ParamReversal& p, uint32_t value_type, mask::Format format,
                         std::string_view value) {
  if (!p.transform || p.aligned_op.empty()) return PermissionDenied("not an aligned parameter");
  std::string text;
  if (format == mask::Format::kText) {
    text.assign(value);
  } else if (!mask::codec::Canonical(value_type != 0 ? value_type : p.type_oid, format, value,
                                     &text)
                  .ok()) {
    return PermissionDenied("unreadable parameter");
  }
  if (!p.transform->AlignedComparison(p.type_oid, p.aligned_op, text)) {
    return PermissionDenied("not on a masking boundary");
  }
  return Status::Ok();
}

Status ReversePseudonym(const ParamReversal& p, mask::Format format, std::string_view value,
                        std::string* out) {
  if (!p.transform) return InvalidArgument("no pseudonym transform");
  Status st = p.transform->Reverse(p.type_oid, format, value, out);
  if (!st.ok()) return InvalidArgument("not a pseudonym of the column's domain");
  return Status::Ok();
}

namespace {
std::atomic<int64_t> utc_day_shift{0};
}  // namespace

int64_t UtcDay() {
  using namespace std::chrono;
  return floor<days>(system_clock::now()).time_since_epoch().count() +
         utc_day_shift.load(std::memory_order_relaxed);
}

void ShiftUtcDayForTesting(int64_t days) { utc_day_shift.store(days, std::memory_order_relaxed); }

uint32_t ArrayTypeOid(uint32_t element_oid) {
  switch (element_oid) {
    case 20:
      return 1016;
    case 21:
      return 1005;
    case 23:
      return 1007;
    case 25:
      return 1009;
    case 1043:
      return 1015;
    case 1700:
      return 1231;
    case 2950:
      return 2951;
    default:
      return 0;
  }
}

namespace {

bool IsArraySpace(char c) {
  // array_in skips what scanner_isspace does.
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// A one-dimensional text array as array_in reads it; nullopt elements are NULLs.
Status ReadTextArray(std::string_view v, std::vector<std::optional<std::string>>* out) {
  size_t i = 0;
  while (i < v.size() && IsArraySpace(v[i])) ++i;
  if (i >= v.size() || v[i] != '{') return InvalidArgument("not a one-dimensional array");
  ++i;
  bool expect_element = true;
  bool first = true;
  for (;;) {
    while (i < v.size() && IsArraySpace(v[i])) ++i;
    if (i >= v.size()) return InvalidArgument("unterminated array");
    if (v[i] == '}') {
      if (expect_element && !first) return InvalidArgument("missing array element");
      ++i;
      break;
    }
    if (!expect_element) {
      if (v[i] != ',') return InvalidArgument("unexpected character in array");
      ++i;
      expect_element = true;
      continue;
    }
    if (v[i] == '{') return InvalidArgument("more than one dimension");
    std::string elem;
    bool quoted = false, escaped_tail = false;
    if (v[i] == '"') {
      quoted = true;
      ++i;
      for (;;) {
        if (i >= v.size()) return InvalidArgument("unterminated quoted array element");
        if (v[i] == '\\') {
          if (++i >= v.size()) return InvalidArgument("unterminated quoted array element");
          elem += v[i++];
        } else if (v[i] == '"') {
          ++i;
          break;
        } else {
          elem += v[i++];
        }
      }
    } else {
      size_t trimmed = 0;  // length of elem up to its last character that is not blank
      while (i < v.size() && v[i] != ',' && v[i] != '}') {
        if (v[i] == '"' || v[i] == '{') return InvalidArgument("unexpected character in array");
        if (v[i] == '\\') {
          if (++i >= v.size()) return InvalidArgument("unterminated array");
          elem += v[i++];
          trimmed = elem.size();
          escaped_tail = true;
          continue;
        }
        elem += v[i++];
        if (!IsArraySpace(elem.back())) trimmed = elem.size();
      }
      elem.resize(trimmed);
      if (elem.empty()) return InvalidArgument("missing array element");
    }
    if (!quoted && !escaped_tail && Lower(elem) == "null") {
      out->emplace_back(std::nullopt);
    } else {
      out->emplace_back(std::move(elem));
    }
    expect_element = false;
    first = false;
  }
  while (i < v.size() && IsArraySpace(v[i])) ++i;
  if (i != v.size()) return InvalidArgument("junk after array");
  return Status::Ok();
}

uint32_t ReadU32At(std::string_view v, size_t at) { return wire::ReadU32(v.data() + at); }

void PutU32(std::string* out, uint32_t x) {
  char word[4];
  wire::WriteU32(word, x);
  out->append(word, 4);
}

}  // namespace

Status ReversePseudonymArray(const ParamReversal& p, mask::Format format, std::string_view value,
                             std::string* out) {
  if (!p.transform || !p.array) return InvalidArgument("no pseudonym array");
  out->clear();
  if (format == mask::Format::kText) {
    std::vector<std::optional<std::string>> elems;
    if (Status st = ReadTextArray(value, &elems); !st.ok()) return st;
    *out = "{";
    std::string real;
    for (size_t k = 0; k < elems.size(); ++k) {
      if (k > 0) *out += ',';
      if (!elems[k]) {
        *out += "NULL";
        continue;
      }
      real.clear();
      if (!ReversePseudonym(p, format, *elems[k], &real).ok()) {
        return InvalidArgument("not a pseudonym of the column's domain");
      }
      *out += real;
    }
    *out += '}';
    return Status::Ok();
  }
  // ndim, has-nulls flag, element type; then (size, lower bound) per dimension; then
  // each element as a length (-1: NULL) and its bytes.
  if (value.size() < 12) return InvalidArgument("short binary array");
  const uint32_t ndim = ReadU32At(value, 0);
  const uint32_t flags = ReadU32At(value, 4);
  if (ndim > 1 || flags > 1 || ReadU32At(value, 8) != p.type_oid) {
    return InvalidArgument("not a one-dimensional array of the column's type");
  }
  size_t at = 12;
  uint32_t count = 0;
  if (ndim == 1) {
    if (value.size() < 20) return InvalidArgument("short binary array");
    count = ReadU32At(value, 12);
    if (count > value.size()) return InvalidArgument("bad array size");
    at = 20;
  }
  out->assign(value.substr(0, at));
  std::string real;
  for (uint32_t k = 0; k < count; ++k) {
    if (value.size() - at < 4) return InvalidArgument("short binary array");
    const uint32_t len = ReadU32At(value, at);
    at += 4;
    if (len == 0xFFFFFFFFu) {
      PutU32(out, len);
      continue;
    }
    if (len > value.size() - at) return InvalidArgument("short binary array");
    real.clear();
    if (!ReversePseudonym(p, format, value.substr(at, len), &real).ok()) {
      return InvalidArgument("not a pseudonym of the column's domain");
    }
    at += len;
    PutU32(out, static_cast<uint32_t>(real.size()));
    *out += real;
  }
  if (at != value.size()) return InvalidArgument("junk after array");
  return Status::Ok();
}

}  // namespace pgveil::guard
