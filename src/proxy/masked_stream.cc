#include "proxy/masked_stream.h"

#include <algorithm>
#include <utility>

#include "pgveil/audit/audit_log.h"
#include "pgveil/guard/startup.h"
#include "pgveil/policy/scrub.h"
#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::proxy {
namespace {

// Sent to the server in place of a refused request: fails in the parser, before any
// catalog access, with the same transaction effect as any other error.
constexpr std::string_view kFailingSql = "pgveil refused this statement";

constexpr char kUnsafeSettings[] =
    "pgveil checks statements only with client_encoding UTF8 (or SQL_ASCII) and "
    "standard_conforming_strings on";
constexpr char kUnsafeSettingsHint[] =
    "Connect without changing client_encoding or standard_conforming_strings.";

// The server's error for a CopyFail: 57014, "COPY from stdin failed: " (translated with
// lc_messages) and the CopyFail's own message.
bool IsAnswerToCopyFail(std::string_view error, std::string_view copy_fail_message) {
  auto fields = wire::ParseNoticeFields(error);
  return fields.ok() && fields->Get('C') == "57014" &&
         fields->Get('M').ends_with(copy_fail_message);
}

}  // namespace

MaskedStream::MaskedStream(std::shared_ptr<const policy::Policy> policy,
                           std::shared_ptr<const mask::Redactor> scrubber,
                           std::function<void()> on_unknown_relations)
    : policy_(std::move(policy)),
      scrubber_(std::move(scrubber)),
      on_unknown_relations_(std::move(on_unknown_relations)),
      analyzer_(guard::Analyzer::For(policy_)) {}

void MaskedStream::SetAudit(std::shared_ptr<audit::AuditLog> log, AuditIdentity who) {
  audit_ = std::move(log);
  who_ = std::move(who);
}

audit::StatementSummary MaskedStream::Summary(std::string_view sql) {
  std::string key(sql);
  auto it = summaries_.find(key);
  if (it != summaries_.end()) return it->second;
  audit::StatementSummary s = audit::SummarizeStatement(sql);
  if (summaries_.size() >= 128) summaries_.clear();
  summaries_.emplace(std::move(key), s);
  return s;
}

void MaskedStream::AuditRefusal(std::string_view sql, std::string_view sqlstate,
                                std::string_view message) {
  if (!audit_) return;
  audit::AuditRecord r;
  r.login = who_.login;
  r.policy = policy_->name();
  r.client_address = who_.client_address;
  r.database = who_.database;
  r.statement = Summary(sql);
  r.refusal = audit::Refusal{std::string(sqlstate), std::string(message)};
  (void)audit_->Append(r);  // a full disk must not stop the session; the log says why
}

void MaskedStream::AuditStatement(const guard::Verdict& v, size_t index) {
  if (!audit_ || index >= v.statements.size()) return;
  const guard::StatementVerdict& sv = v.statements[index];
  audit::AuditRecord r;
  r.login = who_.login;
  r.policy = policy_->name();
  r.client_address = who_.client_address;
  r.database = who_.database;
  std::string_view text(v.original);
  if (sv.location < text.size()) {
    text = text.substr(sv.location, sv.length == 0 ? std::string_view::npos : sv.length);
  }
  r.statement = Summary(text);
  r.relations = v.relations;
  r.columns = v.columns;
  r.output = std::move(audit_output_);
  if (audit_has_rows_) r.rows = audit_rows_;
  (void)audit_->Append(r);
  audit_output_.clear();
  audit_rows_ = 0;
  audit_has_rows_ = false;
}

void MaskedStream::SetPolicy(std::shared_ptr<const policy::Policy> policy) {
  next_policy_ = std::move(policy);
}

Status MaskedStream::Fatal(std::string_view message, std::string* to_client) {
  wire::AppendError(to_client, {.severity = "FATAL", .sqlstate = "XX000", .message = message});
  return Internal(std::string(message));
}

void MaskedStream::Refuse(char replaced_type, std::string sqlstate, std::string message,
                          std::string hint, std::string* to_server, bool unnamed_parse) {
  Pending p{Kind::kRefused};
  p.refusal = std::move(message);
  p.refusal_sqlstate = std::move(sqlstate);
  p.refusal_hint = std::move(hint);
  p.refusal_extended =
      !(replaced_type == wire::fe::kQuery || replaced_type == wire::fe::kFunctionCall);
  if (auto it = statements_.find("");
      it != statements_.end() && (!p.refusal_extended || unnamed_parse)) {
    p.unnamed_statement = it->second.id;
  }
  wire::Writer w(to_server);
  if (replaced_type == wire::fe::kQuery || replaced_type == wire::fe::kFunctionCall) {
    // Answered by ErrorResponse + ReadyForQuery.
    w.Begin(wire::fe::kQuery).CString(kFailingSql).End();
  } else if (unnamed_parse) {
    // Fails in the parser after dropping the unnamed statement, as the client's would.
    w.Begin(wire::fe::kParse).CString("").CString(kFailingSql).Int16(0).End();
  } else {
    // Extended protocol: a Bind to a statement that cannot exist fails before it touches
    // any statement or portal (a failing Parse would drop the unnamed statement); the
    // server skips to the next Sync after this error.
    w.Begin(wire::fe::kBind).CString("").CString(kFailingSql).Int16(0).Int16(0).Int16(0).End();
  }
  pending_.push_back(std::move(p));
}

void MaskedStream::RefuseVerdict(char replaced_type, const guard::Verdict& v,
                                 std::string* to_server, bool unnamed_parse) {
  if (v.unknown_relation && on_unknown_relations_) on_unknown_relations_();
  Refuse(replaced_type, v.sqlstate, v.message, v.hint, to_server, unnamed_parse);
}

std::shared_ptr<const policy::RowShape> MaskedStream::ShapeOf(const guard::StatementVerdict& sv,
                                                              int depth) const {
  using K = guard::StatementVerdict::Kind;
  switch (sv.kind) {
    case K::kFetch: {
      // A cursor, or a portal made by Bind (FETCH reads either); unknown: no lineage,
      // the rows are masked by their provenance alone.
      if (sv.is_move) return nullptr;
      auto it = portals_.find(sv.name);
      if (it == portals_.end()) return nullptr;
      if (it->second.shape) return it->second.shape;
      const auto& v = it->second.verdict;
      if (!v || v->statements.size() != 1 || depth >= 4) return nullptr;
      return ShapeOf(v->statements[0], depth + 1);
    }
    case K::kExecute: {
      auto it = prepared_.find(sv.name);
      return it == prepared_.end() ? nullptr : it->second.shape;
    }
    case K::kDeclare:
    case K::kPrepare:
    case K::kDeallocate:
    case K::kClose:
      return nullptr;
    case K::kOther:
      break;
  }
  return sv.shape;
}

void MaskedStream::Commit(const guard::StatementVerdict& sv) {
  using K = guard::StatementVerdict::Kind;
  switch (sv.kind) {
    case K::kDeclare:
      portals_[sv.name] = Portal{nullptr, sv.shape, sv.hold, sv.dated_day};
      break;
    case K::kClose:
      if (sv.all) {
        portals_.clear();
      } else {
        portals_.erase(sv.name);
      }
      break;
    case K::kPrepare:
      prepared_[sv.name] = Prepared{sv.shape, sv.params, sv.dated_day};
      break;
    case K::kDeallocate:
      // SQL and protocol-level prepared statements share one name space.
      if (sv.all) {
        prepared_.clear();
        statements_.clear();
      } else {
        prepared_.erase(sv.name);
        statements_.erase(sv.name);
      }
      break;
    default:
      break;
  }
}

bool MaskedStream::CursorsCurrent(const guard::Verdict& v, std::string* why) const {
  for (const auto& sv : v.statements) {
    if (sv.kind != guard::StatementVerdict::Kind::kFetch) continue;
    auto it = portals_.find(sv.name);
    if (it == portals_.end()) continue;
    const int64_t day = it->second.DatedDay();
    if (day >= 0 && day != guard::UtcDay()) {
      // Its literals were on the age bands' boundaries of that day only: a day later the
      // rows it still returns tell birth dates finer than a band.
      *why = "cursor \"" + sv.name +
             "\" was checked against the age bands of an earlier day; declare it again";
      return false;
    }
  }
  return true;
}

bool MaskedStream::TranslateExecuteArgs(const guard::Verdict& v, std::string* sql,
                                        std::string* why) {
  // Spans are replaced back to front so that earlier ones stay valid.
  std::vector<std::pair<std::pair<size_t, size_t>, std::string>> edits;
  std::unordered_map<std::string, Prepared> overlay;  // PREPAREs earlier in this string
  for (const auto& sv : v.statements) {
    if (sv.kind == guard::StatementVerdict::Kind::kPrepare) {
      overlay[sv.name] = Prepared{sv.shape, sv.params, sv.dated_day};
      continue;
    }
    if (sv.kind != guard::StatementVerdict::Kind::kExecute) continue;
    const Prepared* p = nullptr;
    if (auto it = overlay.find(sv.name); it != overlay.end()) {
      p = &it->second;
    } else if (auto jt = prepared_.find(sv.name); jt != prepared_.end()) {
      p = &jt->second;
    }
    if (p == nullptr) {
      if (statements_.count(sv.name) != 0) {
        // Prepared with a Parse message: its parameters are translated at Bind only.
        *why = "prepared statement \"" + sv.name +
               "\" was prepared with the extended protocol; masked sessions run it with Bind";
        return false;
      }
      continue;  // the server reports the unknown statement
    }
    if (p->dated_day >= 0 && p->dated_day != guard::UtcDay()) {
      *why = "prepared statement \"" + sv.name +
             "\" was checked against the age bands of an earlier day; prepare it again";
      return false;
    }
    for (const auto& rev : p->params) {
      const size_t i = static_cast<size_t>(rev.index);
      if (i >= sv.execute_arg_spans.size()) continue;
      if (i < sv.execute_arg_casts.size() && !guard::CastKeepsValue(rev, sv.execute_arg_casts[i])) {
        // '...'::numeric(3,0) fails or not by the size of the real id; '12000'::numeric(5,-4)
        // is no longer on a boundary.
        *why = "an EXECUTE argument compared with " + rev.column +
               " may be cast only to the column's own type";
        return false;
      }
      if (!rev.aligned_op.empty()) {
        // Compared with an aligned column: a literal on its boundaries, passed unchanged.
        if (sv.execute_arg_spans[i].second == 0 ||
            !guard::CheckAlignedParam(rev, 0, mask::Format::kText, sv.execute_arg_text[i]).ok()) {
          *why = "an EXECUTE argument compared with " + rev.column +
                 " must be a constant on its masking boundaries";
          return false;
        }
        continue;
      }
      if (sv.execute_arg_spans[i].second == 0) {
        *why = "an EXECUTE argument for a pseudonym of " + rev.column + " must be a plain literal";
        return false;
      }
      std::string real;
      if (!(rev.array
                ? guard::ReversePseudonymArray(rev, mask::Format::kText, sv.execute_arg_text[i],
                                               &real)
                : guard::ReversePseudonym(rev, mask::Format::kText, sv.execute_arg_text[i], &real))
               .ok()) {
        *why = "an EXECUTE argument is not a pseudonym of the domain of " + rev.column;
        return false;
      }
      edits.push_back({sv.execute_arg_spans[i], "'" + real + "'"});
    }
  }
  std::sort(edits.begin(), edits.end(),
            [](const auto& a, const auto& b) { return a.first.first > b.first.first; });
  for (size_t k = 1; k < edits.size(); ++k) {
    // Two edits of one span would cut the statement text after it.
    if (edits[k].first.first + edits[k].first.second > edits[k - 1].first.first) {
      *why = "pgveil cannot translate an EXECUTE argument used for more than one parameter";
      return false;
    }
  }
  for (const auto& [span, text] : edits) sql->replace(span.first, span.second, text);
  return true;
}

Status MaskedStream::ForwardBind(std::string_view body, std::string* to_server) {
  auto bind = wire::ParseBind(body);
  if (!bind.ok()) {
    // The server answers a malformed message with an error, not by ending the session.
    Refuse(wire::fe::kBind, "08P01", bind.status().message(), "", to_server);
    return Status::Ok();
  }
  auto st = statements_.find(std::string(bind->statement));
  const bool uncertain = st != statements_.end() && UncertainUnnamed(st->first, st->second);
  if (uncertain && bind->param_formats.size() > 1 &&
      bind->param_formats.size() != bind->params.size()) {
    // Whichever unnamed statement the server has, it fails this Bind in its first check.
    Refuse(wire::fe::kBind, "08P01",
           "bind message has " + std::to_string(bind->param_formats.size()) +
               " parameter formats but " + std::to_string(bind->params.size()) + " parameters",
           "", to_server);
    return Status::Ok();
  }
  if (uncertain) {
    Refuse(wire::fe::kBind, "0A000",
           "pgveil cannot tell which statement this Bind runs: the Parse of the unnamed "
           "statement, sent before a Sync, is not answered yet",
           "Send a Parse and its Bind before the same Sync, or wait for the Parse's reply.",
           to_server);
    return Status::Ok();
  }
  if (st != statements_.end() && st->second.verdict && st->second.verdict->dated &&
      st->second.verdict->dated_day != guard::UtcDay()) {
    // Its literals were found on the age bands' boundaries of that day only.
    AuditRefusal(st->second.verdict->original, "0A000", "statement checked on an earlier day");
    Refuse(wire::fe::kBind, "0A000",
           "this statement was checked against the age bands of an earlier day",
           "Prepare it again.", to_server);
    return Status::Ok();
  }
  // Whatever becomes of this Bind, the portal of that name is replaced by one checked
  // now or, with the transaction the failed Bind ends, gone: only a WITH HOLD cursor
  // outlives a failed Bind of its name.
  if (auto it = portals_.find(std::string(bind->portal));
      it != portals_.end() && !it->second.hold) {
    it->second.superseded = true;
  }
  // The portal runs the statement as it is now; recorded when the server confirms it.
  Pending bound{Kind::kBind};
  bound.portal = std::string(bind->portal);
  if (st != statements_.end()) bound.verdict = st->second.verdict;
  // What an Execute of the portal copies in: the client's rows follow that Execute. (A
  // Bind the server skips leaves an Execute it skips too.)
  if (bound.verdict && !bound.verdict->copy_ins.empty()) {
    copy_in_portals_[bound.portal] = bound.verdict;
  } else {
    copy_in_portals_.erase(bound.portal);
  }
  if (st == statements_.end() && prepared_.count(std::string(bind->statement)) != 0) {
    // SQL PREPARE: its parameters are translated in EXECUTE's arguments only.
    Refuse(wire::fe::kBind, "0A000",
           "prepared statement \"" + std::string(bind->statement) +
               "\" was prepared with SQL PREPARE; masked sessions run it with EXECUTE",
           "", to_server);
    return Status::Ok();
  }
  if (st == statements_.end() || !st->second.verdict || st->second.verdict->params.empty()) {
    pending_.push_back(std::move(bound));
    wire::Writer w(to_server);
    w.Begin(wire::fe::kBind).Bytes(body).End();
    return Status::Ok();
  }
  // Parameters compared with aligned columns are checked and sent as they are;
  // parameters compared with pseudonym columns are turned back into real values.
  auto format_of = [&](size_t i) -> mask::Format {
    int16_t f = bind->param_formats.empty()       ? 0
                : bind->param_formats.size() == 1 ? bind->param_formats[0]
                : i < bind->param_formats.size()  ? bind->param_formats[i]
                                                  : 0;
    return f == 1 ? mask::Format::kBinary : mask::Format::kText;
  };
  const auto& types = st->second.param_types;
  auto declared_of = [&](size_t i) -> uint32_t { return i < types.size() ? types[i] : 0; };
  std::vector<std::optional<std::string>> values;  // filled at the first reversal
  for (const auto& rev : st->second.verdict->params) {
    const size_t i = static_cast<size_t>(rev.index);
    if (i >= bind->params.size() || !bind->params[i]) continue;
    if (!rev.aligned_op.empty()) {
      // Checked against today's boundaries: the portal is good for today only.
      if (rev.transform && rev.transform->BoundariesMove()) bound.dated_day = guard::UtcDay();
      if (!guard::CheckAlignedParam(rev, declared_of(i), format_of(i), *bind->params[i]).ok()) {
        AuditRefusal(st->second.verdict->original, "42501",
                     "a parameter is not on a masking boundary of " + rev.column);
        Refuse(wire::fe::kBind, "42501",
               "parameter $" + std::to_string(i + 1) +
                   " may only be a value on the masking boundaries of " + rev.column,
               "Its rule allows only comparisons with the boundaries of its masked groups.",
               to_server);
        return Status::Ok();
      }
      continue;
    }
    if (values.empty()) {
      values.resize(bind->params.size());
      for (size_t k = 0; k < bind->params.size(); ++k) {
        if (bind->params[k]) values[k] = std::string(*bind->params[k]);
      }
    }
    // Pseudonyms are a permutation of the values of the column's own type: declared as
    // another type (int4 for a bigint id) the value would be read in another domain.
    std::string real;
    const uint32_t own_type = rev.array ? guard::ArrayTypeOid(rev.type_oid) : rev.type_oid;
    if ((declared_of(i) != 0 && declared_of(i) != own_type) ||
        !(rev.array ? guard::ReversePseudonymArray(rev, format_of(i), *bind->params[i], &real)
                    : guard::ReversePseudonym(rev, format_of(i), *bind->params[i], &real))
             .ok()) {
      AuditRefusal(st->second.verdict->original, "42501",
                   "a parameter is not a pseudonym of the domain of " + rev.column);
      Refuse(wire::fe::kBind, "42501",
             "parameter $" + std::to_string(i + 1) + " is not a pseudonym of the domain of " +
                 rev.column,
             "Use the identifiers pgveil shows to this login.", to_server);
      return Status::Ok();
    }
    values[i] = std::move(real);
  }
  if (values.empty()) {  // nothing turned back: the Bind as the client sent it
    pending_.push_back(std::move(bound));
    wire::Writer w(to_server);
    w.Begin(wire::fe::kBind).Bytes(body).End();
    return Status::Ok();
  }
  wire::Writer w(to_server);
  w.Begin(wire::fe::kBind).CString(bind->portal).CString(bind->statement);
  w.Int16(static_cast<int16_t>(bind->param_formats.size()));
  for (int16_t f : bind->param_formats) w.Int16(f);
  w.Int16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    if (v) {
      std::string_view sv(*v);
      w.Value(&sv);
    } else {
      w.Value(nullptr);
    }
  }
  w.Int16(static_cast<int16_t>(bind->result_formats.size()));
  for (int16_t f : bind->result_formats) w.Int16(f);
  w.End();
  pending_.push_back(std::move(bound));
  return Status::Ok();
}

Status MaskedStream::OnClient(char type, std::string_view body, std::string* to_server) {
  if (type == wire::fe::kSync && copy_in_open_ && copy_in_of_statement_) {
    // A Sync between the client's CopyData messages is ignored by a COPY that is still
    // reading, and answered once the COPY has failed; which of the two happens depends on
    // how far the server had read when a row failed, which pgveil cannot see. A
    // ReadyForQuery it cannot place would pair every later answer with the wrong
    // statement, so the Sync goes nowhere: the server never answers it.
    return Status::Ok();
  }
  Status st = OnClientMessage(type, body, to_server);
  if (skip_until_sync_) {
    // The server is skipping to Sync after an error that came before this message.
    if (type == wire::fe::kSync) {
      skip_until_sync_ = false;
    } else {
      PopUntilSync();
    }
  }
  return st;
}

Status MaskedStream::OnClientMessage(char type, std::string_view body, std::string* to_server) {
  auto forward = [&] {
    wire::Writer w(to_server);
    w.Begin(type).Bytes(body).End();
  };
  if (type == wire::fe::kCopyData || type == wire::fe::kCopyDone || type == wire::fe::kCopyFail) {
    return OnClientCopy(type, body, to_server);
  }
  if (type != wire::fe::kSync && type != wire::fe::kFlush && (copy_in_open_ || in_copy_in_)) {
    // Any other message ends a COPY FROM STDIN: a COPY still reading fails on it (FATAL),
    // or it comes after the COPY had already failed and is run. Either way no COPY
    // reads the Syncs sent after it.
    ++copy_ends_;
    in_copy_in_ = false;
  }
  switch (type) {
    case wire::fe::kQuery: {
      NextCopyIns(nullptr);
      auto q = wire::ParseQuery(body);
      if (!q.ok()) {
        Refuse(type, "08P01", q.status().message(), "", to_server);
        return Status::Ok();
      }
      AdoptNextPolicy();
      if (!parser_safe_) {
        AuditRefusal(q->sql, "0A000", kUnsafeSettings);
        Refuse(type, "0A000", kUnsafeSettings, kUnsafeSettingsHint, to_server);
        return Status::Ok();
      }
      auto v = analyzer_->Analyze(q->sql);
      if (v->refused) {
        AuditRefusal(q->sql, v->sqlstate, v->message);
        RefuseVerdict(type, *v, to_server);
        return Status::Ok();
      }
      std::string sql = v->sql, why;
      if (!CursorsCurrent(*v, &why)) {
        AuditRefusal(q->sql, "0A000", why);
        Refuse(type, "0A000", why, "Close the cursor and declare it again.", to_server);
        return Status::Ok();
      }
      if (!TranslateExecuteArgs(*v, &sql, &why)) {
        AuditRefusal(q->sql, "42501", why);
        Refuse(type, "42501", why, "Use the identifiers pgveil shows to this login.", to_server);
        return Status::Ok();
      }
      Pending p{Kind::kQuery};
      p.rewritten = sql != q->sql;
      p.copy_ends = copy_ends_;
      p.copies = v->copies;
      NextCopyIns(v);
      p.verdict = v;
      // A simple query the server runs destroys the unnamed statement (StartQuery); one
      // skipped after an error leaves it. (The unnamed portal's entry stays until a Bind
      // replaces it: an Execute of it fails on the server.)
      if (auto it = statements_.find(""); it != statements_.end()) {
        p.unnamed_statement = it->second.id;
      }
      pending_.push_back(std::move(p));
      wire::Writer w(to_server);
      w.Begin(wire::fe::kQuery).CString(sql).End();
      return Status::Ok();
    }
    case wire::fe::kParse: {
      auto parse = wire::ParseParse(body);
      if (!parse.ok()) {
        Refuse(type, "08P01", parse.status().message(), "", to_server);
        return Status::Ok();
      }
      AdoptNextPolicy();
      std::string name(parse->statement);
      if (!name.empty() && (statements_.count(name) != 0 || prepared_.count(name) != 0)) {
        // The server would keep the statement it has under this name: pgveil must not
        // take the new one's parameters and plan for it.
        if (closing_.count(name) != 0) {
          Refuse(type, "55000",
                 "pgveil cannot reuse the name of prepared statement \"" + name +
                     "\" before the server has confirmed its Close",
                 "Wait for the CloseComplete (send Sync and read the results) before parsing "
                 "a statement of the same name.",
                 to_server);
        } else {
          Refuse(type, "42P05", "prepared statement \"" + name + "\" already exists", "",
                 to_server);
        }
        return Status::Ok();
      }
      // Even a failed Parse replaces the unnamed statement (a refused one too, when the
      // server runs its stand-in); a named one that fails leaves no statement
      // (ForgetParse), so no plan or translation can leak into a later Execute.
      const bool unnamed = name.empty();
      if (!parser_safe_) {
        Refuse(type, "0A000", kUnsafeSettings, kUnsafeSettingsHint, to_server, unnamed);
        return Status::Ok();
      }
      auto v = analyzer_->Analyze(parse->sql);
      if (v->refused) {
        AuditRefusal(parse->sql, v->sqlstate, v->message);
        RefuseVerdict(type, *v, to_server, unnamed);
        return Status::Ok();
      }
      for (const auto& sv : v->statements) {
        if (sv.kind == guard::StatementVerdict::Kind::kExecute) {
          // Its arguments would be translated now for whatever statement has the name
          // when it runs.
          AuditRefusal(parse->sql, "0A000", "EXECUTE in the extended protocol");
          Refuse(type, "0A000",
                 "EXECUTE of a prepared statement is available to masked sessions as a simple "
                 "query only",
                 "Send EXECUTE as a simple query, or prepare the statement with a Parse "
                 "message and Bind it.",
                 to_server, unnamed);
          return Status::Ok();
        }
      }
      Statement st;
      st.verdict = v;
      st.param_types = parse->param_types;
      st.id = ++next_id_;
      st.syncs_before = syncs_sent_;
      Pending p{Kind::kParse};
      p.portal = name;
      p.verdict = v;
      p.id = st.id;
      if (auto it = statements_.find(name); it != statements_.end()) {
        p.previous_statement = it->second;
        st.replaced = true;
      }
      statements_[name] = std::move(st);
      pending_.push_back(std::move(p));
      wire::Writer w(to_server);
      w.Begin(wire::fe::kParse).CString(name).CString(v->sql);
      w.Int16(static_cast<int16_t>(parse->param_types.size()));
      for (uint32_t t : parse->param_types) w.Int32(static_cast<int32_t>(t));
      w.End();
      return Status::Ok();
    }
    case wire::fe::kBind:
      return ForwardBind(body, to_server);
    case wire::fe::kDescribe: {
      auto t = wire::ParseTarget(body);
      if (!t.ok()) {
        Refuse(type, "08P01", t.status().message(), "", to_server);
        return Status::Ok();
      }
      Pending p{Kind::kDescribe};
      if (t->kind == 'P') {
        p.portal = std::string(t->name);
        p.of_portal = true;
      } else if (auto st = statements_.find(std::string(t->name)); st != statements_.end()) {
        p.verdict = st->second.verdict;
      }
      pending_.push_back(std::move(p));
      forward();
      return Status::Ok();
    }
    case wire::fe::kExecute: {
      auto e = wire::ParseExecute(body);
      if (!e.ok()) {
        Refuse(type, "08P01", e.status().message(), "", to_server);
        return Status::Ok();
      }
      std::string portal(e->portal);
      if (auto it = portals_.find(portal); it != portals_.end() && !it->second.superseded &&
                                           it->second.DatedDay() >= 0 &&
                                           it->second.DatedDay() != guard::UtcDay()) {
        AuditRefusal(it->second.verdict ? it->second.verdict->original : portal, "0A000",
                     "portal checked on an earlier day");
        Refuse(type, "0A000",
               "this portal's statement was checked against the age bands of an "
               "earlier day",
               "Bind it again.", to_server);
        return Status::Ok();
      }
      auto copying = copy_in_portals_.find(portal);
      NextCopyIns(copying != copy_in_portals_.end() ? copying->second : nullptr);
      // Our own Describe of the portal: its RowDescription carries the real formats.
      // What the portal runs is known when the server answers the Describe: Binds and
      // DECLAREs sent before it may not be confirmed yet.
      Pending d{Kind::kDescribe};
      d.injected = true;
      d.portal = portal;
      d.of_portal = true;
      Pending x{Kind::kExecute};
      x.portal = portal;
      x.copy_ends = copy_ends_;
      pending_.push_back(std::move(d));
      wire::Writer w(to_server);
      w.Begin(wire::fe::kDescribe).Byte('P').CString(portal).End();
      pending_.push_back(std::move(x));
      forward();
      return Status::Ok();
    }
    case wire::fe::kClose: {
      auto t = wire::ParseTarget(body);
      if (!t.ok()) {
        Refuse(type, "08P01", t.status().message(), "", to_server);
        return Status::Ok();
      }
      // Forgotten when the server confirms it: a Close skipped after an error leaves the
      // statement on the server, and pgveil must keep translating for it.
      Pending p{Kind::kClose};
      p.close_kind = t->kind == 'S' ? 'S' : 'P';
      p.portal = std::string(t->name);
      if (p.close_kind == 'S') {
        ++closing_[p.portal];
        if (auto it = statements_.find(p.portal); it != statements_.end()) p.id = it->second.id;
      }
      pending_.push_back(std::move(p));
      forward();
      return Status::Ok();
    }
    case wire::fe::kSync: {
      // During COPY FROM STDIN the server ignores Sync (libpq sends one right after the
      // Execute that starts the copy).
      if (!in_copy_in_) {
        Pending p{Kind::kSync};
        p.copy_ends = copy_ends_;
        pending_.push_back(std::move(p));
        ++syncs_sent_;
      }
      forward();
      return Status::Ok();
    }
    case wire::fe::kFunctionCall:
      // Calls a function by OID with no statement text to analyse: refused.
      AuditRefusal("", "42501", "function call protocol message");
      Refuse(type, "42501",
             "the function call protocol message is not available to masked sessions",
             "Call the function in a SELECT.", to_server);
      return Status::Ok();
    case wire::fe::kFlush:
    case wire::fe::kTerminate:
    case wire::fe::kPassword:
      forward();
      return Status::Ok();
    default:
      return ProtocolError("unknown message type from client");
  }
}

void MaskedStream::NextCopyIns(std::shared_ptr<const guard::Verdict> v) {
  copy_in_verdict_ = v && !v->copy_ins.empty() ? std::move(v) : nullptr;
  copy_in_next_ = 0;
  // A statement sent while a copy is open ends it on the server (with an error).
  copy_in_open_ = false;
  copy_in_failed_ = false;
  translator_.reset();
}

Status MaskedStream::OnClientCopy(char type, std::string_view body, std::string* to_server) {
  // The client's COPY data, in its order: each run of CopyData up to a CopyDone or
  // CopyFail belongs to the next COPY FROM STDIN of the statement sent before it. (The
  // server takes data only while such a COPY runs, and ignores it otherwise.)
  const bool end = type != wire::fe::kCopyData;
  if (!copy_in_open_) {
    copy_in_open_ = true;
    copy_in_failed_ = false;
    translator_.reset();
    copy_in_of_statement_ = copy_in_verdict_ && copy_in_next_ < copy_in_verdict_->copy_ins.size();
    if (copy_in_of_statement_) {
      const guard::CopyIn* in = &copy_in_verdict_->copy_ins[copy_in_next_++];
      if (in->translates) translator_ = std::make_unique<CopyInTranslator>(copy_in_verdict_, in);
    }
  }
  auto finish = [&] {
    copy_in_open_ = false;
    translator_.reset();
  };
  if (copy_in_failed_) {  // pgveil ended this copy with CopyFail: the rest is dropped
    if (end) finish();
    return Status::Ok();
  }
  auto copy_ended = [&] {
    ++copy_ends_;
    in_copy_in_ = false;
  };
  if (!translator_ || type == wire::fe::kCopyFail) {
    if (end) {
      copy_ended();
      finish();
    }
    wire::Writer w(to_server);
    w.Begin(type).Bytes(body).End();
    return Status::Ok();
  }
  std::string payload;
  Status st = type == wire::fe::kCopyData ? translator_->Feed(body, &payload)
                                          : translator_->Finish(&payload);
  if (!st.ok()) {
    // The server ends the copy with an error that quotes this message.
    AuditRefusal(copy_in_verdict_ ? copy_in_verdict_->original : "", "22P02", st.message());
    copy_fail_reason_ = "pgveil: " + std::string(st.message());
    wire::Writer w(to_server);
    w.Begin(wire::fe::kCopyFail).CString(copy_fail_reason_).End();
    copy_ended();
    if (end) {
      finish();
    } else {
      copy_in_failed_ = true;
    }
    return Status::Ok();
  }
  wire::Writer w(to_server);
  if (!payload.empty()) {
    w.Begin(wire::fe::kCopyData).Bytes(payload).End();
  }
  if (end) {
    w.Begin(type).Bytes(body).End();
    copy_ended();
    finish();
  }
  return Status::Ok();
}

void MaskedStream::AdoptNextPolicy() {
  if (!next_policy_) return;
  policy_ = std::move(next_policy_);
  analyzer_ = guard::Analyzer::For(policy_);
  plan_cache_.clear();
}

void MaskedStream::PopUntilSync() {
  // After an error the server ignores everything up to the next Sync: refusals, simple
  // queries and function calls included.
  while (!pending_.empty()) {
    const Pending& p = pending_.front();
    if (p.kind == Kind::kSync) break;
    if (p.kind == Kind::kParse) ForgetParse(p, /*failed=*/false);
    if (p.kind == Kind::kClose && p.close_kind == 'S' && --closing_[p.portal] <= 0) {
      closing_.erase(p.portal);  // skipped: the statement stays
    }
    pending_.pop_front();
  }
  // No Sync sent yet: the client's next messages up to one are skipped as well.
  skip_until_sync_ = pending_.empty();
}

bool MaskedStream::DropSyncsDuringCopyIn() {
  auto head = std::find_if(pending_.begin(), pending_.end(), [](const Pending& p) {
    return p.kind == Kind::kQuery || p.kind == Kind::kExecute;
  });
  if (head == pending_.end()) return true;
  // The n-th COPY FROM STDIN of a simple query takes the client's n-th run of data: a
  // Sync sent after the runs before it ended is read by this COPY too.
  const uint64_t copy = head->copy_ends + head->copies_in_started++;
  pending_.erase(std::remove_if(std::next(head), pending_.end(),
                                [copy](const Pending& p) {
                                  return p.kind == Kind::kSync && p.copy_ends == copy;
                                }),
                 pending_.end());
  return copy_ends_ == copy;
}

void MaskedStream::ResolvePortal() {
  if (pending_.empty() || pending_.front().kind != Kind::kDescribe || !pending_.front().of_portal) {
    return;
  }
  Pending& head = pending_.front();
  head.of_portal = false;
  if (auto it = portals_.find(head.portal); it != portals_.end()) {
    head.verdict = it->second.verdict;
    head.cursor_shape = it->second.shape;
  }
  if (!head.injected || pending_.size() < 2 || pending_[1].kind != Kind::kExecute) return;
  Pending& x = pending_[1];
  x.verdict = head.verdict;
  x.cursor_shape = head.cursor_shape;
  if (x.verdict) x.copies = x.verdict->copies;
}

bool MaskedStream::PositionShown() const {
  if (pending_.empty()) return true;
  const Pending& head = pending_.front();
  return !head.rewritten && !(head.verdict && head.verdict->rewritten);
}

void MaskedStream::Closed(const Pending& p) {
  if (p.close_kind != 'S') {
    portals_.erase(p.portal);  // confirmed in the server's order, like the Binds
    return;
  }
  // Not a statement that a later Parse of the same name made (the unnamed one).
  if (--closing_[p.portal] <= 0) closing_.erase(p.portal);
  if (auto it = statements_.find(p.portal); it != statements_.end() && it->second.id == p.id) {
    statements_.erase(it);
  }
  prepared_.erase(p.portal);  // one name space: a Close drops a PREPAREd statement too
}

void MaskedStream::ForgetParse(const Pending& p, bool failed) {
  auto it = statements_.find(p.portal);
  if (it == statements_.end() || it->second.id != p.id) return;
  if (!failed && p.previous_statement) {
    it->second = *p.previous_statement;
    // Its Parse came before the one skipped now, so the server has answered it.
    it->second.confirmed = true;
  } else {
    statements_.erase(it);
  }
}

bool MaskedStream::UncertainUnnamed(const std::string& name, const Statement& st) const {
  // Skipped after an error before that Sync, the Parse leaves the statement it replaced,
  // which this Bind would then run: with other parameters to turn back and other lineage
  // for its rows.
  return name.empty() && st.replaced && !st.confirmed && syncs_sent_ > st.syncs_before;
}

void MaskedStream::StartQuery(Pending& p) {
  if (p.started) return;
  p.started = true;
  if (auto it = statements_.find("");
      it != statements_.end() && it->second.id == p.unnamed_statement) {
    statements_.erase(it);
  }
}

Status MaskedStream::OnRowDescription(std::string_view body, std::string* to_client) {
  auto desc = wire::ParseRowDescription(body);
  if (!desc.ok()) return Fatal("pgveil could not read a row description", to_client);
  if (pending_.empty()) return Fatal("pgveil lost track of the protocol state", to_client);
  ResolvePortal();
  Pending& head = pending_.front();
  // The guard's lineage of these rows, if it has one.
  std::shared_ptr<const policy::RowShape> shape;
  if ((head.kind == Kind::kQuery || head.kind == Kind::kDescribe) && head.verdict &&
      head.statement < head.verdict->statements.size()) {
    shape = ShapeOf(head.verdict->statements[head.statement]);
  } else if (head.kind == Kind::kDescribe && head.cursor_shape) {
    shape = head.cursor_shape;
  }
  // A RowDescription answers a simple query or a Describe; its plan is cached by bytes
  // (and lineage).
  std::string key(body);
  if (shape) {
    const auto* id = shape.get();
    key.append(reinterpret_cast<const char*>(&id), sizeof(id));
  }
  std::shared_ptr<const policy::RowPlan> plan;
  auto it = plan_cache_.find(key);
  if (it != plan_cache_.end()) {
    plan = it->second.plan;
  } else {
    plan = shape ? policy::RowPlan::Compile(*desc, policy_, nullptr, *shape)
                 : policy::RowPlan::Compile(*desc, policy_, nullptr);
    if (!plan) {
      return Fatal(
          "pgveil's analysis of this statement does not match the server's row description; "
          "closing the session",
          to_client);
    }
    if (!plan->unknown_relations().empty() && on_unknown_relations_) on_unknown_relations_();
    if (plan_cache_.size() > 256) plan_cache_.clear();
    plan_cache_.emplace(std::move(key), CachedPlan{plan, shape});
  }
  if (audit_ && (head.kind == Kind::kQuery || (head.kind == Kind::kDescribe && head.injected))) {
    audit_output_.clear();
    audit_has_rows_ = true;
    for (size_t i = 0; i < desc->fields.size() && i < plan->size(); ++i) {
      const policy::FieldPlan& fp = plan->field(i);
      audit::OutputColumn oc;
      oc.name = std::string(desc->fields[i].name);
      oc.transform = fp.action == policy::Action::kPass   ? "show"
                     : fp.action == policy::Action::kNull ? "null"
                                                          : std::string(fp.transform->Name());
      uint32_t oid = desc->fields[i].table_oid;
      int16_t att = desc->fields[i].attnum;
      if (shape && !shape->open && !shape->all_values && i < shape->fields.size() &&
          (shape->fields[i].kind == policy::FieldLineage::Kind::kColumn ||
           shape->fields[i].kind == policy::FieldLineage::Kind::kCastText)) {
        oid = shape->fields[i].table_oid;
        att = shape->fields[i].attnum;
      }
      if (const auto* rel =
              policy_->snapshot() ? policy_->snapshot()->FindRelation(oid) : nullptr) {
        if (const auto* col = rel->FindColumn(att)) {
          oc.source = rel->schema + "." + rel->name + "." + col->name;
        }
      }
      audit_output_.push_back(std::move(oc));
    }
  }
  if (head.kind == Kind::kQuery) {
    plan_ = plan;
    plan->AppendRowDescription(*desc, to_client);
    return Status::Ok();
  }
  if (head.kind == Kind::kDescribe) {
    bool injected = head.injected;
    pending_.pop_front();
    if (injected) {
      plan_ = plan;  // for the Execute that follows
    } else {
      plan->AppendRowDescription(*desc, to_client);
    }
    return Status::Ok();
  }
  return Fatal("unexpected row description", to_client);
}

Status MaskedStream::OnDataRow(std::string_view body, std::string* to_client) {
  return OnDataRows({&body, 1}, to_client);
}

Status MaskedStream::OnDataRows(std::span<const std::string_view> bodies, std::string* to_client) {
  bool in_result = !pending_.empty() && (pending_.front().kind == Kind::kQuery ||
                                         pending_.front().kind == Kind::kExecute);
  if (!plan_ || !in_result) {
    return Fatal("pgveil received a row it has no masking plan for; closing the session",
                 to_client);
  }
  Status st = plan_->AppendDataRows(bodies, to_client);
  if (!st.ok()) return Fatal("pgveil could not read a data row", to_client);
  audit_rows_ += bodies.size();
  return Status::Ok();
}

Status MaskedStream::OnCopyOut(std::string_view body, std::string* to_client) {
  if (pending_.empty() ||
      (pending_.front().kind != Kind::kQuery && pending_.front().kind != Kind::kExecute) ||
      pending_.front().copies.empty()) {
    return Fatal("pgveil cannot tell which table this COPY reads; closing the session", to_client);
  }
  guard::CopyStatement copy = pending_.front().copies.front();
  pending_.front().copies.erase(pending_.front().copies.begin());
  auto plan = policy::CopyPlan::Create(copy, policy_);
  if (!plan.ok()) return Fatal(plan.status().message(), to_client);
  copy_plan_ = *plan;
  in_copy_out_ = true;
  to_client->push_back(wire::be::kCopyOutResponse);
  char len[4];
  wire::WriteU32(len, static_cast<uint32_t>(body.size() + 4));
  to_client->append(len, 4);
  to_client->append(body);
  return Status::Ok();
}

Status MaskedStream::OnCopyData(std::string_view body, std::string* to_client) {
  if (!in_copy_out_ || !copy_plan_) return Fatal("COPY data outside of a COPY", to_client);
  size_t start = to_client->size();
  wire::Writer w(to_client);
  w.Begin(wire::be::kCopyData);
  Status st = copy_plan_->MaskPayload(body, to_client);
  if (!st.ok()) {
    to_client->resize(start);
    return Fatal("pgveil could not read a COPY row; closing the session", to_client);
  }
  w.End();
  return Status::Ok();
}

Status MaskedStream::OnServer(char type, std::string_view body, std::string* to_client) {
  auto forward = [&] {
    wire::Writer w(to_client);
    w.Begin(type).Bytes(body).End();
  };
  const bool query_at_head =
      !pending_.empty() &&
      (pending_.front().kind == Kind::kQuery ||
       (pending_.front().kind == Kind::kRefused && !pending_.front().refusal_extended));
  if (query_at_head) {
    // Everything before it is answered: the server runs it.
    StartQuery(pending_.front());
    if (type != wire::be::kReadyForQuery && type != wire::be::kNoticeResponse &&
        type != wire::be::kParameterStatus && type != wire::be::kNotificationResponse) {
      pending_.front().answered = true;
    }
  }
  switch (type) {
    case wire::be::kRowDescription:
      return OnRowDescription(body, to_client);
    case wire::be::kDataRow:
      return OnDataRow(body, to_client);
    case wire::be::kParseComplete:
      if (!pending_.empty() && pending_.front().kind == Kind::kParse) {
        const Pending& p = pending_.front();
        if (auto it = statements_.find(p.portal);
            it != statements_.end() && it->second.id == p.id) {
          it->second.confirmed = true;
        }
        pending_.pop_front();
      }
      forward();
      return Status::Ok();
    case wire::be::kBindComplete:
      if (!pending_.empty() && pending_.front().kind == Kind::kBind) {
        portals_[pending_.front().portal] =
            Portal{pending_.front().verdict, nullptr, false, pending_.front().dated_day};
        pending_.pop_front();
      }
      forward();
      return Status::Ok();
    case wire::be::kCloseComplete:
      if (!pending_.empty() && pending_.front().kind == Kind::kClose) {
        Closed(pending_.front());
        pending_.pop_front();
      }
      forward();
      return Status::Ok();
    case wire::be::kParameterDescription:
      forward();  // a NoData or RowDescription follows
      return Status::Ok();
    case wire::be::kNoData: {
      ResolvePortal();
      if (!pending_.empty() && pending_.front().kind == Kind::kDescribe) {
        bool injected = pending_.front().injected;
        pending_.pop_front();
        if (injected) {
          plan_.reset();
          return Status::Ok();
        }
      }
      forward();
      return Status::Ok();
    }
    case wire::be::kCommandComplete:
    case wire::be::kEmptyQueryResponse:
    case wire::be::kPortalSuspended:
      plan_.reset();
      copy_plan_.reset();
      in_copy_out_ = false;
      if (!pending_.empty()) {
        Pending& head = pending_.front();
        if (head.verdict && head.statement < head.verdict->statements.size() &&
            (head.kind == Kind::kQuery || head.kind == Kind::kExecute)) {
          AuditStatement(*head.verdict, head.statement);
          if (type == wire::be::kCommandComplete) {
            Commit(head.verdict->statements[head.statement]);
            if (head.kind == Kind::kQuery) ++head.statement;
          }
        }
        if (head.kind == Kind::kExecute) pending_.pop_front();
      }
      forward();
      return Status::Ok();
    case wire::be::kErrorResponse: {
      plan_.reset();
      copy_plan_.reset();
      in_copy_out_ = false;
      in_copy_in_ = false;
      if (!pending_.empty() && pending_.front().kind == Kind::kRefused) {
        // The server's error for the failing statement pgveil sent in place of the
        // refused one: the client gets pgveil's reason instead.
        Pending& r = pending_.front();
        StartQuery(r);  // the stand-in of an unnamed Parse dropped the unnamed statement
        wire::AppendError(to_client, {.severity = "ERROR",
                                      .sqlstate = r.refusal_sqlstate,
                                      .message = r.refusal,
                                      .hint = r.refusal_hint});
        if (r.refusal_extended) {
          pending_.pop_front();
          PopUntilSync();
        }
        return Status::Ok();
      }
      if (!pending_.empty() && pending_.front().verdict &&
          (pending_.front().kind == Kind::kQuery || pending_.front().kind == Kind::kExecute)) {
        AuditStatement(*pending_.front().verdict, pending_.front().statement);
      }
      ResolvePortal();
      if (const std::string reason = std::exchange(copy_fail_reason_, {});
          !reason.empty() && IsAnswerToCopyFail(body, reason)) {
        // The server's answer to the CopyFail pgveil sent for a value it could not
        // translate says "query canceled" (57014), which drivers take for a timeout or a
        // cancel: the client gets the value error that made pgveil end the copy.
        wire::AppendError(to_client, {.severity = "ERROR",
                                      .sqlstate = "22P02",
                                      .message = std::string_view(reason).substr(8)});
      } else {
        Status st = policy::AppendScrubbedNotice(type, body, scrubber_.get(), to_client,
                                                 PositionShown(), policy_->snapshot());
        if (!st.ok()) return Fatal("pgveil could not read an error message", to_client);
      }
      if (!pending_.empty() && pending_.front().kind != Kind::kQuery) {
        // The error is the head's; the server skips what follows until Sync.
        if (pending_.front().kind == Kind::kParse) {
          ForgetParse(pending_.front(), /*failed=*/true);
          pending_.pop_front();
        } else if (pending_.front().kind == Kind::kBind) {
          pending_.pop_front();  // no portal: none was recorded
        }
        PopUntilSync();
      }
      return Status::Ok();
    }
    case wire::be::kNoticeResponse: {
      Status st = policy::AppendScrubbedNotice(type, body, scrubber_.get(), to_client,
                                               PositionShown(), policy_->snapshot());
      if (!st.ok()) return Fatal("pgveil could not read a notice", to_client);
      return Status::Ok();
    }
    case wire::be::kNotificationResponse: {
      Status st = policy::AppendScrubbedNotification(body, scrubber_.get(), to_client);
      if (!st.ok()) return Fatal("pgveil could not read a notification", to_client);
      return Status::Ok();
    }
    case wire::be::kReadyForQuery:
      plan_.reset();
      if (!body.empty() && body[0] == 'I') {
        // Out of any transaction: only WITH HOLD cursors are left on the server.
        std::erase_if(portals_, [](const auto& e) { return !e.second.hold; });
      }
      if (!pending_.empty()) {
        // It ends a Sync, or a query that has had its answer: anything else means that
        // pgveil's queue no longer matches the server, and the answers that follow
        // would be paired with the wrong statements.
        const Kind kind = pending_.front().kind;
        if (query_at_head ? !pending_.front().answered : kind != Kind::kSync) {
          return Fatal("pgveil lost track of the protocol state", to_client);
        }
        pending_.pop_front();  // the Query, Sync or refusal it ends
      }
      forward();
      return Status::Ok();
    case wire::be::kCopyOutResponse:
      return OnCopyOut(body, to_client);
    case wire::be::kCopyData:
      return OnCopyData(body, to_client);
    case wire::be::kCopyDone:
      in_copy_out_ = false;
      forward();
      return Status::Ok();
    case wire::be::kCopyInResponse:
      // Client messages are in copy mode unless the client has ended the copy already
      // (it need not wait for this reply).
      in_copy_in_ = DropSyncsDuringCopyIn();
      forward();
      return Status::Ok();
    case wire::be::kParameterStatus: {
      auto ps = wire::ParseParameterStatus(body);
      if (!ps.ok()) return Fatal("pgveil could not read a parameter status", to_client);
      if (ps->name == "client_encoding")
        client_encoding_safe_ = guard::ClientEncodingKeepsText(ps->value);
      if (ps->name == "standard_conforming_strings") scs_on_ = ps->value == "on";
      parser_safe_ = client_encoding_safe_ && scs_on_;
      forward();
      return Status::Ok();
    }
    case wire::be::kCopyBothResponse:
      return Fatal("replication is not available to masked sessions", to_client);
    case wire::be::kFunctionCallResponse:
      return Fatal("unexpected function call result", to_client);
    default:
      return Fatal("pgveil received a message it cannot check; closing the session", to_client);
  }
}

}  // namespace pgveil::proxy
