#include "proxy/masked_stream.h"

#include "pgveil/policy/scrub.h"
#include "pgveil/wire/messages.h"
#include "pgveil/wire/writer.h"

namespace pgveil::proxy {
namespace {

// Sent to the server in place of a refused request: fails in the parser, before any
// catalog access, with the same transaction effect as any other error.
constexpr std::string_view kFailingSql = "pgveil refused this statement";

// COPY statements of `sql` that send rows to the client.
std::vector<guard::CopyStatement> CopiesOut(const guard::StatementSummary& s) {
  std::vector<guard::CopyStatement> out;
  for (const auto& c : s.copies) {
    if (!c.is_from && !c.uses_file) out.push_back(c);
  }
  return out;
}

// A reason to refuse `sql` for a masked session, or empty.
std::string CopyRefusal(const guard::StatementSummary& s) {
  for (const auto& c : s.copies) {
    if (c.is_query && !c.is_from) {
      return "COPY (query) TO is not available to masked sessions; COPY a table instead";
    }
  }
  return {};
}

}  // namespace

MaskedStream::MaskedStream(std::shared_ptr<const policy::Policy> policy,
                           std::shared_ptr<const mask::Redactor> scrubber,
                           std::function<void()> on_unknown_relations)
    : policy_(std::move(policy)),
      scrubber_(std::move(scrubber)),
      on_unknown_relations_(std::move(on_unknown_relations)) {}

void MaskedStream::SetPolicy(std::shared_ptr<const policy::Policy> policy) {
  next_policy_ = std::move(policy);
}

Status MaskedStream::Fatal(std::string_view message, std::string* to_client) {
  wire::AppendError(to_client, {.severity = "FATAL", .sqlstate = "XX000", .message = message});
  return Internal(std::string(message));
}

void MaskedStream::Refuse(char replaced_type, std::string sqlstate, std::string message,
                          std::string* to_server) {
  Pending p{Kind::kRefused};
  p.refusal = std::move(message);
  p.refusal_sqlstate = std::move(sqlstate);
  p.refusal_extended =
      !(replaced_type == wire::fe::kQuery || replaced_type == wire::fe::kFunctionCall);
  wire::Writer w(to_server);
  if (replaced_type == wire::fe::kQuery || replaced_type == wire::fe::kFunctionCall) {
    // Answered by ErrorResponse + ReadyForQuery.
    w.Begin(wire::fe::kQuery).CString(kFailingSql).End();
  } else {
    // Extended protocol: the server skips to the next Sync after this error.
    w.Begin(wire::fe::kParse).CString("").CString(kFailingSql).Int16(0).End();
  }
  pending_.push_back(std::move(p));
}

Status MaskedStream::OnClient(char type, std::string_view body, std::string* to_server) {
  auto forward = [&] {
    wire::Writer w(to_server);
    w.Begin(type).Bytes(body).End();
  };
  if (in_copy_in_ &&
      (type == wire::fe::kCopyData || type == wire::fe::kCopyDone || type == wire::fe::kCopyFail)) {
    if (type != wire::fe::kCopyData) in_copy_in_ = false;
    forward();
    return Status::Ok();
  }
  switch (type) {
    case wire::fe::kQuery: {
      auto q = wire::ParseQuery(body);
      if (!q.ok()) return q.status();
      AdoptNextPolicy();
      auto summary = guard::InspectStatements(q->sql);
      if (summary.ok()) {
        std::string refusal = CopyRefusal(*summary);
        if (!refusal.empty()) {
          Refuse(type, "0A000", refusal, to_server);
          return Status::Ok();
        }
      }
      Pending p{Kind::kQuery};
      if (summary.ok()) p.copies = CopiesOut(*summary);
      pending_.push_back(std::move(p));
      // A simple query destroys the unnamed statement and portal.
      statements_.erase("");
      portal_statement_.erase("");
      forward();
      return Status::Ok();
    }
    case wire::fe::kParse: {
      auto parse = wire::ParseParse(body);
      if (!parse.ok()) return parse.status();
      AdoptNextPolicy();
      auto summary = guard::InspectStatements(parse->sql);
      if (summary.ok()) {
        std::string refusal = CopyRefusal(*summary);
        if (!refusal.empty()) {
          statements_.erase(std::string(parse->statement));
          Refuse(type, "0A000", refusal, to_server);
          return Status::Ok();
        }
      }
      Statement st;
      if (summary.ok()) st.copies = CopiesOut(*summary);
      // Even a failed Parse replaces the unnamed statement; a named one that fails
      // leaves no statement, so no COPY plan can leak into a later Execute.
      statements_[std::string(parse->statement)] = std::move(st);
      pending_.push_back({Kind::kParse});
      forward();
      return Status::Ok();
    }
    case wire::fe::kBind: {
      auto bind = wire::ParseBind(body);
      if (!bind.ok()) return bind.status();
      portal_statement_[std::string(bind->portal)] = std::string(bind->statement);
      pending_.push_back({Kind::kBind});
      forward();
      return Status::Ok();
    }
    case wire::fe::kDescribe: {
      auto t = wire::ParseTarget(body);
      if (!t.ok()) return t.status();
      Pending p{Kind::kDescribe};
      p.portal = t->kind == 'P' ? std::string(t->name) : std::string();
      pending_.push_back(std::move(p));
      forward();
      return Status::Ok();
    }
    case wire::fe::kExecute: {
      auto e = wire::ParseExecute(body);
      if (!e.ok()) return e.status();
      std::string portal(e->portal);
      // Our own Describe of the portal: its RowDescription carries the real formats.
      Pending d{Kind::kDescribe};
      d.injected = true;
      d.portal = portal;
      pending_.push_back(std::move(d));
      wire::Writer w(to_server);
      w.Begin(wire::fe::kDescribe).Byte('P').CString(portal).End();
      Pending x{Kind::kExecute};
      x.portal = portal;
      auto ps = portal_statement_.find(portal);
      if (ps != portal_statement_.end()) {
        auto st = statements_.find(ps->second);
        if (st != statements_.end()) x.copies = st->second.copies;
      }
      pending_.push_back(std::move(x));
      forward();
      return Status::Ok();
    }
    case wire::fe::kClose: {
      auto t = wire::ParseTarget(body);
      if (!t.ok()) return t.status();
      if (t->kind == 'S') {
        statements_.erase(std::string(t->name));
      } else {
        portal_statement_.erase(std::string(t->name));
      }
      pending_.push_back({Kind::kClose});
      forward();
      return Status::Ok();
    }
    case wire::fe::kSync:
      pending_.push_back({Kind::kSync});
      forward();
      return Status::Ok();
    case wire::fe::kFunctionCall:
      // Calls a function by OID with no statement text to analyse: refused.
      Refuse(type, "42501",
             "the function call protocol message is not available to masked sessions", to_server);
      return Status::Ok();
    case wire::fe::kFlush:
    case wire::fe::kTerminate:
    case wire::fe::kCopyData:
    case wire::fe::kCopyDone:
    case wire::fe::kCopyFail:
    case wire::fe::kPassword:
      forward();
      return Status::Ok();
    default:
      return ProtocolError("unknown message type from client");
  }
}

void MaskedStream::AdoptNextPolicy() {
  if (!next_policy_) return;
  policy_ = std::move(next_policy_);
  plan_cache_.clear();
}

void MaskedStream::PopUntilSync() {
  // After an error the server ignores everything up to the next Sync, refusals that
  // replaced extended-protocol messages included.
  while (!pending_.empty()) {
    const Pending& p = pending_.front();
    if (p.kind == Kind::kSync || p.kind == Kind::kQuery ||
        (p.kind == Kind::kRefused && !p.refusal_extended)) {
      break;
    }
    pending_.pop_front();
  }
}

Status MaskedStream::OnRowDescription(std::string_view body, std::string* to_client) {
  auto desc = wire::ParseRowDescription(body);
  if (!desc.ok()) return Fatal("pgveil could not read a row description", to_client);
  if (pending_.empty()) return Fatal("pgveil lost track of the protocol state", to_client);
  Pending& head = pending_.front();
  // A RowDescription answers a simple query or a Describe; its plan is cached by bytes.
  std::string key(body);
  std::shared_ptr<const policy::RowPlan> plan;
  auto it = plan_cache_.find(key);
  if (it != plan_cache_.end()) {
    plan = it->second;
  } else {
    plan = policy::RowPlan::Compile(*desc, policy_, nullptr);
    if (!plan->unknown_relations().empty() && on_unknown_relations_) on_unknown_relations_();
    if (plan_cache_.size() > 256) plan_cache_.clear();
    plan_cache_.emplace(std::move(key), plan);
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
  bool in_result = !pending_.empty() && (pending_.front().kind == Kind::kQuery ||
                                         pending_.front().kind == Kind::kExecute);
  if (!plan_ || !in_result) {
    return Fatal("pgveil received a row it has no masking plan for; closing the session",
                 to_client);
  }
  Status st = plan_->AppendDataRow(body, to_client);
  if (!st.ok()) return Fatal("pgveil could not read a data row", to_client);
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
  auto pop_if = [&](Kind k) {
    if (!pending_.empty() && pending_.front().kind == k) pending_.pop_front();
  };
  switch (type) {
    case wire::be::kRowDescription:
      return OnRowDescription(body, to_client);
    case wire::be::kDataRow:
      return OnDataRow(body, to_client);
    case wire::be::kParseComplete:
      pop_if(Kind::kParse);
      forward();
      return Status::Ok();
    case wire::be::kBindComplete:
      pop_if(Kind::kBind);
      forward();
      return Status::Ok();
    case wire::be::kCloseComplete:
      pop_if(Kind::kClose);
      forward();
      return Status::Ok();
    case wire::be::kParameterDescription:
      forward();  // a NoData or RowDescription follows
      return Status::Ok();
    case wire::be::kNoData: {
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
      if (!pending_.empty() && pending_.front().kind == Kind::kExecute) pending_.pop_front();
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
        wire::AppendError(to_client, {.severity = "ERROR",
                                      .sqlstate = r.refusal_sqlstate,
                                      .message = r.refusal,
                                      .hint = "pgveil masks the results of this login; the "
                                              "statement was not sent to the server"});
        if (r.refusal_extended) {
          pending_.pop_front();
          PopUntilSync();
        }
        return Status::Ok();
      }
      Status st = policy::AppendScrubbedNotice(type, body, scrubber_.get(), to_client);
      if (!st.ok()) return Fatal("pgveil could not read an error message", to_client);
      if (!pending_.empty() && pending_.front().kind != Kind::kQuery) PopUntilSync();
      return Status::Ok();
    }
    case wire::be::kNoticeResponse: {
      Status st = policy::AppendScrubbedNotice(type, body, scrubber_.get(), to_client);
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
      if (!pending_.empty()) pending_.pop_front();  // the Query, Sync or refusal it ends
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
      in_copy_in_ = true;
      forward();
      return Status::Ok();
    case wire::be::kParameterStatus:
      forward();
      return Status::Ok();
    case wire::be::kCopyBothResponse:
      return Fatal("replication is not available to masked sessions", to_client);
    case wire::be::kFunctionCallResponse:
      return Fatal("unexpected function call result", to_client);
    default:
      return Fatal("pgveil received a message it cannot check; closing the session", to_client);
  }
}

}  // namespace pgveil::proxy
