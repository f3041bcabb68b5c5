// The query guard: every statement of a masked session is read with the real PostgreSQL
// parser (libpg_query) and checked against the session's Policy before it reaches the
// server. See docs/guard.md for what is served and what is refused, and why.
//
// An Analyzer belongs to one Policy (and so to one rules version and catalog snapshot).
// It is shared by every session under that policy: Analyze() is thread-safe and caches
// verdicts by statement text. It never throws and never puts a literal of the statement
// into a message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pgveil/guard/copy_inspect.h"
#include "pgveil/policy/policy.h"
#include "pgveil/policy/row_plan.h"

namespace pgveil::guard {

// A `$n` parameter pgveil acts on before the statement runs: a pseudonym to turn back
// into the real value, or (aligned_op set) a value compared with an `aligned` column,
// which must lie on that column's masking boundaries and is passed on unchanged.
struct ParamReversal {
  int index = 0;          // 0-based: $1 is 0
  uint32_t type_oid = 0;  // the column's type: how the real value is written
  std::shared_ptr<const mask::Transform> transform;
  std::string column;      // for messages, e.g. "crm.members.member_id"
  std::string aligned_op;  // ">=", ">", "<", "<=" as the column sees it; empty: a pseudonym
  bool array = false;      // an array of pseudonyms (`= ANY($1)`, `<> ALL($1)`)
};

// One `COPY table [(columns)] FROM STDIN` of a statement, in the client's order: its
// format and, per field of a row, how the field is turned back before the server stores
// it (`fields[k].transform` set for a pseudonym column; null: passed as written).
struct CopyIn {
  CopyStatement copy;
  std::vector<ParamReversal> fields;
  bool translates = false;  // some field is a pseudonym column
};

// What one statement of a query string does, as far as the session must know.
struct StatementVerdict {
  enum class Kind : uint8_t {
    kOther,    // no rows, or rows described by `shape`
    kDeclare,  // DECLARE `name` CURSOR: `shape` is the cursor's
    kFetch,    // FETCH / MOVE from cursor `name`: the cursor's shape
    kPrepare,  // PREPARE `name`: `shape` and `params` are the prepared statement's
    kExecute,  // EXECUTE `name`: the prepared statement's shape; `execute_args` below
    kDeallocate,
    kClose,  // CLOSE `name` (or CLOSE ALL: `all`)
  };
  Kind kind = Kind::kOther;
  // The statement's bytes in the query string (length 0: to the end).
  size_t location = 0;
  size_t length = 0;
  std::string name;
  bool is_move = false;
  bool all = false;   // DEALLOCATE ALL, CLOSE ALL
  bool hold = false;  // DECLARE ... WITH HOLD: the cursor outlives its transaction
  // Rows the statement returns: one lineage per field. nullptr when it returns none.
  std::shared_ptr<const policy::RowShape> shape;
  std::vector<ParamReversal> params;  // kPrepare
  // kPrepare and kDeclare of a statement decided on today's masking boundaries
  // (Verdict::dated): the UTC day it was decided on, as UtcDay() counts; -1 otherwise.
  int64_t dated_day = -1;
  // kExecute: the byte span of each argument in the statement text, when it is a plain
  // literal (unquoted text in `execute_arg_text`); {0, 0} when it is not. A literal
  // written with a cast has the cast's type in `execute_arg_casts` (as CastKeepsValue
  // takes it; "" for none).
  std::vector<std::pair<size_t, size_t>> execute_arg_spans;
  std::vector<std::string> execute_arg_text;
  std::vector<std::string> execute_arg_casts;
};

struct Verdict {
  bool refused = false;
  std::string sqlstate;  // 42501 or 0A000 when refused
  std::string message;   // names the construct and the column, never a literal
  std::string hint;
  // The text to send to the server: the statement itself, or with pseudonym literals
  // turned back into real values.
  std::string sql;
  bool rewritten = false;
  std::vector<StatementVerdict> statements;
  std::vector<ParamReversal> params;  // for the extended protocol's Bind
  std::vector<CopyStatement> copies;  // COPY ... TO STDOUT of a table, in order
  std::vector<CopyIn> copy_ins;       // COPY ... FROM STDIN, in order
  bool touches_protected = false;     // reads a relation with protected columns
  bool unknown_relation = false;      // refused: names a relation the snapshot lacks
  // Decided on today's masking boundaries (a literal compared with an age band): not
  // cached, since the same text may be off the boundaries tomorrow.
  bool dated = false;
  int64_t dated_day = -1;  // when `dated`: the UTC day it was decided on (UtcDay())
  // For the audit log: the text as the client sent it, and what the statement reads.
  std::string original;
  std::vector<std::string> relations;  // "schema.table"
  std::vector<std::string> columns;    // "schema.table.column"
};

class Analyzer {
 public:
  explicit Analyzer(std::shared_ptr<const policy::Policy> policy);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // The verdict for one Query or Parse text. Cached by text.
  std::shared_ptr<const Verdict> Analyze(std::string_view sql) const;

  // Same, bypassing the cache (for benchmarks).
  std::shared_ptr<const Verdict> AnalyzeUncached(std::string_view sql) const;

  const std::shared_ptr<const policy::Policy>& policy() const { return policy_; }

  // The analyzer of a policy, shared: created on first use, kept while sessions hold it.
  static std::shared_ptr<const Analyzer> For(const std::shared_ptr<const policy::Policy>& policy);

 private:
  struct Cache;
  std::shared_ptr<const policy::Policy> policy_;
  std::unique_ptr<Cache> cache_;
};

// Today's date in UTC, as days since 1970-01-01: the day masking boundaries that move
// (age bands) are computed for.
int64_t UtcDay();
// Tests only: days added to what UtcDay() returns, to see a session cross midnight.
void ShiftUtcDayForTesting(int64_t days);

// Whether a constant written with a cast to type `type_name` (the parser's name, e.g.
// "int8"; "" for no cast) still has the value pgveil checks for `p` when the server
// reads it: for a pseudonym, the column's own type; for a masking boundary, the
// column's type or, for integer and numeric columns, another of those. Any other type,
// a length or array bounds could change the value after the check (`'12000'::varchar(4)`,
// `'...'::numeric(3,0)`, which also fails or not by the size of the real value).
bool CastKeepsValue(const ParamReversal& p, std::string_view type_name);

// Turns a pseudonym (a literal's text, or a Bind parameter in `format`) back into the
// real value, written in the same format. An error (kInvalidArgument) when the value is
// not a pseudonym of the column's domain.
Status ReversePseudonym(const ParamReversal& p, mask::Format format, std::string_view value,
                        std::string* out);

// The same for an array of pseudonyms (`p.array`): a one-dimensional array of the
// column's type, as text (`{1,"2",NULL}`) or in the binary array format; every element is
// turned back and the array written again in the same format (text without quotes).
// kInvalidArgument for anything else: more dimensions, explicit bounds, another element
// type, an element that is not a pseudonym.
Status ReversePseudonymArray(const ParamReversal& p, mask::Format format, std::string_view value,
                             std::string* out);

// The OID of the array type of `element_oid` for the types pseudonym columns have, else 0.
uint32_t ArrayTypeOid(uint32_t element_oid);

// For a parameter with aligned_op: OK when `value` (of type `value_type`, 0 for the
// column's own type, in `format`) lies on the column's masking boundaries for that
// comparison; kPermissionDenied otherwise (also for values pgveil cannot read).
Status CheckAlignedParam(const ParamReversal& p, uint32_t value_type, mask::Format format,
                         std::string_view value);

}  // namespace pgveil::guard
