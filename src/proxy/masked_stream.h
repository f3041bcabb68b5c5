// MaskedStream: the protocol state of one masked session, sans I/O.
//
// The session feeds it every whole client message (OnClient) and every whole server
// message (OnServer), in order; it says what to send on. It keeps an exact shadow of
// what the server will answer (a queue of pending requests), so that every DataRow and
// CopyData is masked by the plan of the RowDescription (or COPY statement) it belongs
// to:
//   * simple Query: each RowDescription sets the plan for the rows that follow;
//   * extended protocol: before every Execute, pgveil injects a Describe of the portal
//     and consumes the reply itself, so rows of a portal the client never Described are
//     masked with the portal's real result formats;
//   * a row for which there is no plan is never forwarded: the session is ended.
// Every Query and Parse is checked by the query guard (guard::Analyzer) first; its
// verdict gives the lineage of each result column (bound to the RowDescription with the
// provenance as a cross-check) and turns pseudonyms in literals and Bind parameters back
// into real values. Refused requests (and FunctionCall) are replaced on the wire by a
// statement that fails at the server, so the server's transaction state stays exactly
// what PostgreSQL would have made it; the server's error is then swapped for pgveil's.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgveil/audit/audit_record.h"
#include "pgveil/guard/analyzer.h"
#include "pgveil/guard/copy_inspect.h"
#include "pgveil/mask/redact.h"
#include "pgveil/policy/copy_plan.h"
#include "pgveil/policy/policy.h"
#include "pgveil/policy/row_plan.h"
#include "pgveil/status.h"
#include "proxy/copy_in.h"

namespace pgveil::audit {
class AuditLog;
}

namespace pgveil::proxy {

// Who a masked session is, for its audit records.
struct AuditIdentity {
  std::string login;
  std::string client_address;
  std::string database;
};

class MaskedStream {
 public:
  // `on_unknown_relations` is called (rarely) when a RowDescription names relations the
  // policy's snapshot does not know, so that the owner can refresh the catalog.
  MaskedStream(std::shared_ptr<const policy::Policy> policy,
               std::shared_ptr<const mask::Redactor> scrubber,
               std::function<void()> on_unknown_relations = nullptr);

  // Swaps in a new policy (rules or catalog reloaded); takes effect for the next
  // statement, never in the middle of a result.
  void SetPolicy(std::shared_ptr<const policy::Policy> policy);

  // One whole client message. Appends what to send to the server to *to_server.
  // An error means the session must end (a message that cannot be parsed).
  Status OnClient(char type, std::string_view body, std::string* to_server);

  // One whole server message. Appends what to send to the client to *to_client.
  // An error means the session must end; *to_client then holds a FATAL ErrorResponse
  // for the client as its last message.
  Status OnServer(char type, std::string_view body, std::string* to_client);
  // Consecutive DataRows ('D' bodies, in order): what OnServer would send for them one
  // by one, masked together.
  Status OnDataRows(std::span<const std::string_view> bodies, std::string* to_client);

  // Writes one record per statement (served or refused) to `log` from now on.
  void SetAudit(std::shared_ptr<audit::AuditLog> log, AuditIdentity who);

  // Bookkeeping, for tests.
  size_t pending() const { return pending_.size(); }
  size_t portals() const { return portals_.size(); }

 private:
  enum class Kind { kQuery, kParse, kBind, kDescribe, kExecute, kClose, kSync, kRefused };
  struct Statement {
    std::shared_ptr<const guard::Verdict> verdict;
    std::vector<uint32_t> param_types;
    uint64_t id = 0;            // of the Parse that made it (verdicts are shared by statement text)
    bool confirmed = false;     // the server answered that Parse (ParseComplete)
    bool replaced = false;      // that Parse replaced a statement of the same name
    uint64_t syncs_before = 0;  // Syncs sent before that Parse
  };
  struct Pending {
    Kind kind;
    bool injected = false;  // a Describe pgveil added: its reply is not forwarded
    // kExecute / kDescribe of a portal, kBind: the portal; kParse: the statement.
    std::string portal;
    // kDescribe of a portal and kExecute: the portal is looked up in `portals_` when the
    // server answers (ResolvePortal), after every Bind and DECLARE before it completed.
    bool of_portal = false;
    // A portal made by DECLARE: the lineage of its rows (instead of `verdict`).
    std::shared_ptr<const policy::RowShape> cursor_shape;
    std::vector<guard::CopyStatement> copies;  // COPY TO statements, in order (kQuery, kExecute)
    // The guard's verdict of the statement(s) whose results arrive (kQuery, kExecute,
    // kDescribe) or that a portal is bound to (kBind) and, for a simple query, which of
    // its statements is running.
    std::shared_ptr<const guard::Verdict> verdict;
    size_t statement = 0;
    std::string refusal;  // kRefused: the message the client gets
    std::string refusal_sqlstate;
    std::string refusal_hint;
    bool refusal_extended = false;  // replaced an extended-protocol message
    // kQuery, kExecute, kSync: the client's CopyDone/CopyFail messages sent before this
    // one. A COPY FROM STDIN started by a Query or Execute lasts until the next of them;
    // the server ignores the Syncs sent meanwhile.
    uint64_t copy_ends = 0;
    uint64_t copies_in_started = 0;  // kQuery, kExecute: CopyInResponses so far
    char close_kind = 0;             // kClose: 'S' (statement `portal`) or 'P' (portal `portal`)
    // kQuery: the text sent differs from the client's (pseudonyms and EXECUTE arguments
    // turned back into real values).
    bool rewritten = false;
    // kParse: the Statement it made, and the one it replaced (back if the server skips
    // the message). kClose of a statement: the one it closes.
    uint64_t id = 0;
    std::optional<Statement> previous_statement;
    // kQuery and the stand-ins of refused queries, function calls and unnamed Parses: the
    // unnamed statement the server drops when it runs them (StartQuery); it skips them
    // after an extended-protocol error until Sync. 0: none.
    uint64_t unnamed_statement = 0;
    bool started = false;
    // kQuery and those stand-ins: the server has sent an answer of its own (more than
    // notices, settings and notifications) before the ReadyForQuery that ends it.
    bool answered = false;
  };
  // A statement prepared with SQL PREPARE (committed when the server completed it).
  struct Prepared {
    std::shared_ptr<const policy::RowShape> shape;
    std::vector<guard::ParamReversal> params;
    int64_t dated_day = -1;  // StatementVerdict::dated_day
  };

  Status OnClientMessage(char type, std::string_view body, std::string* to_server);
  Status Fatal(std::string_view message, std::string* to_client);
  void AdoptNextPolicy();
  // `unnamed_parse`: a refused Parse of the unnamed statement, which the server drops as
  // it would for a Parse that fails.
  void Refuse(char replaced_type, std::string sqlstate, std::string message, std::string hint,
              std::string* to_server, bool unnamed_parse = false);
  void RefuseVerdict(char replaced_type, const guard::Verdict& v, std::string* to_server,
                     bool unnamed_parse = false);
  // The lineage of the rows of one statement (cursors and SQL prepared statements are
  // looked up now, when their rows arrive), or nullptr. `depth` counts FETCHes from
  // portals bound to FETCH statements.
  std::shared_ptr<const policy::RowShape> ShapeOf(const guard::StatementVerdict& sv,
                                                  int depth = 0) const;
  // The head of `pending_`, a Describe of a portal (pgveil's own before an Execute, or the
  // client's), is being answered: what the portal runs, from `portals_`, for it and for
  // the Execute after it.
  void ResolvePortal();
  // False when the request being answered runs a statement whose literals pgveil
  // rewrote: a cursor position in it would tell the length of the real values.
  bool PositionShown() const;
  // What a completed statement changes: cursors and SQL prepared statements.
  void Commit(const guard::StatementVerdict& sv);
  // EXECUTE arguments that are pseudonyms, turned back; false if one is not a pseudonym.
  bool TranslateExecuteArgs(const guard::Verdict& v, std::string* sql, std::string* why);
  // False, with the reason, when a FETCH or MOVE of `v` reads a cursor or portal whose
  // query was checked against the age bands of an earlier day.
  bool CursorsCurrent(const guard::Verdict& v, std::string* why) const;
  Status ForwardBind(std::string_view body, std::string* to_server);
  // Audit records: a refused statement; a statement the server finished (or failed).
  void AuditRefusal(std::string_view sql, std::string_view sqlstate, std::string_view message);
  void AuditStatement(const guard::Verdict& v, size_t index);
  audit::StatementSummary Summary(std::string_view sql);
  Status OnRowDescription(std::string_view body, std::string* to_client);
  Status OnDataRow(std::string_view body, std::string* to_client);
  Status OnCopyOut(std::string_view body, std::string* to_client);
  Status OnCopyData(std::string_view body, std::string* to_client);
  void PopUntilSync();
  // The server entered COPY FROM STDIN: it ignores the Syncs the client sent after the
  // Query or Execute that started it, until the client ends the copy. True when the
  // client has not ended it yet.
  bool DropSyncsDuringCopyIn();
  // A Parse the server failed (the statement is gone) or skipped (the one it replaced
  // is back), unless a later Parse replaced it already. (Portals need no such care: they
  // are recorded when the server confirms them.)
  void ForgetParse(const Pending& p, bool failed);
  // True when `st` is the unnamed statement made by a Parse that is not answered yet and
  // lies before a Sync sent since: the server may skip that Parse and keep the previous
  // unnamed statement for a Bind sent now.
  bool UncertainUnnamed(const std::string& name, const Statement& st) const;
  // A Query (or stand-in) the server is about to run: it ends the unnamed statement
  // (unless a later Parse replaced it already).
  void StartQuery(Pending& p);
  // A Close the server confirmed: the statement (of either kind) or portal is gone.
  void Closed(const Pending& p);

  std::shared_ptr<const policy::Policy> policy_;
  std::shared_ptr<const policy::Policy> next_policy_;
  std::shared_ptr<const mask::Redactor> scrubber_;
  std::function<void()> on_unknown_relations_;
  std::shared_ptr<const guard::Analyzer> analyzer_;
  std::shared_ptr<audit::AuditLog> audit_;
  AuditIdentity who_;
  int64_t audit_rows_ = 0;  // rows sent for the running statement
  bool audit_has_rows_ = false;
  std::vector<audit::OutputColumn> audit_output_;  // its result columns
  std::unordered_map<std::string, audit::StatementSummary> summaries_;
  // False when the session's settings would make the server read SQL differently from
  // pgveil's parser (client_encoding not UTF8, standard_conforming_strings off).
  bool parser_safe_ = true;
  bool client_encoding_safe_ = true;
  bool scs_on_ = true;
  std::unordered_map<std::string, Prepared> prepared_;

  std::deque<Pending> pending_;
  std::unordered_map<std::string, Statement> statements_;
  // Portals made by Bind and cursors made by DECLARE share one name space on the server
  // (FETCH reads a portal, Execute runs a cursor). An entry is written when the server
  // confirms the creation (BindComplete, DECLARE's CommandComplete) and holds what the
  // portal runs: the verdict of the statement it was bound to, as it was then (a later
  // Parse of the same name does not change the portal), or the cursor's lineage. A
  // failed Bind or DECLARE leaves the entry of the portal that keeps the name. Entries
  // go when the session is idle again (ReadyForQuery 'I'; WITH HOLD cursors stay), at
  // Close and at CLOSE, so that a client using a new cursor name per query does not
  // grow the table. Other portals the server drops (a simple query drops the unnamed
  // one) keep their entry until the name is used again: running them fails there.
  struct Portal {
    std::shared_ptr<const guard::Verdict> verdict;
    std::shared_ptr<const policy::RowShape> shape;
    bool hold = false;        // a WITH HOLD cursor: outlives its transaction
    int64_t dated_day = -1;   // a cursor declared on that day's age bands (UtcDay())
    bool superseded = false;  // a later Bind of its name was sent (it replaces or ends it)
    // The UTC day the portal's query was checked on when it compares with age bands; -1
    // when it does not.
    int64_t DatedDay() const { return verdict && verdict->dated ? verdict->dated_day : dated_day; }
  };
  std::unordered_map<std::string, Portal> portals_;
  uint64_t next_id_ = 0;     // for Statement::id
  uint64_t syncs_sent_ = 0;  // Syncs the server will answer, sent so far

  std::shared_ptr<const policy::RowPlan> plan_;  // for the DataRows now arriving
  // Plans by RowDescription bytes and lineage; the entry keeps its lineage alive.
  struct CachedPlan {
    std::shared_ptr<const policy::RowPlan> plan;
    std::shared_ptr<const policy::RowShape> shape;
  };
  std::unordered_map<std::string, CachedPlan> plan_cache_;
  std::shared_ptr<policy::CopyPlan> copy_plan_;  // for the CopyData now arriving
  bool in_copy_out_ = false;
  bool in_copy_in_ = false;
  // The server is skipping messages after an extended-protocol error, and the client has
  // not sent the Sync that ends it yet.
  bool skip_until_sync_ = false;
  uint64_t copy_ends_ = 0;  // CopyDone and CopyFail messages the client sent
  // COPY FROM STDIN, on the client's side (OnClientCopy): the COPY statements of the
  // last Query or Execute, the next one to take data, and the run of data now open.
  Status OnClientCopy(char type, std::string_view body, std::string* to_server);
  void NextCopyIns(std::shared_ptr<const guard::Verdict> v);
  std::shared_ptr<const guard::Verdict> copy_in_verdict_;
  size_t copy_in_next_ = 0;
  bool copy_in_open_ = false;
  bool copy_in_of_statement_ = false;  // the open run is data of a COPY FROM STDIN
  bool copy_in_failed_ = false;
  // The message of the CopyFail pgveil sent in the client's place, until the server's
  // next error (its answer, or an error that came first).
  std::string copy_fail_reason_;
  std::unique_ptr<CopyInTranslator> translator_;
  // Portals whose statement copies in, by the client's last Bind of them.
  std::unordered_map<std::string, std::shared_ptr<const guard::Verdict>> copy_in_portals_;
  // Statement names with a Close the server has not answered yet.
  std::unordered_map<std::string, int> closing_;
};

}  // namespace pgveil::proxy
