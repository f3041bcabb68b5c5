// The guard's walk over one statement's parse tree (libpg_query's JSON form): scopes,
// lineage of every value, and the use of every protected column. Internal to the guard.
//
// A statement that must be refused ends the walk with a Refusal exception; it is caught
// at one boundary, Analyzer::Analyze, and becomes the verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "guard/json_tree.h"
#include "pgveil/guard/analyzer.h"
#include "pgveil/policy/policy.h"

namespace pgveil::guard {

struct Refusal {
  std::string sqlstate;
  std::string message;
  std::string hint;
};

// The lineage of one value.
struct Lineage {
  enum class Kind : uint8_t {
    kValue,     // depends on no protected column
    kColumn,    // exactly the value of one base column (protected or not)
    kCastText,  // a base column cast to text
    kTainted,   // computed from a protected column (only ever one whose filter is allow)
  };
  Kind kind = Kind::kValue;
  uint32_t oid = 0;
  int16_t attnum = 0;
  uint32_t type_oid = 0;                     // the column's (base) type
  const policy::ColumnMask* mask = nullptr;  // kColumn, kCastText, kTainted
  const catalog::Relation* rel = nullptr;    // the base column, for messages
  const catalog::Column* col = nullptr;

  // "schema.table.column", for messages.
  std::string column() const {
    if (rel == nullptr || col == nullptr) return "(a computed value)";
    return rel->schema + "." + rel->name + "." + col->name;
  }

  bool is_protected() const {
    return kind == Kind::kTainted || (mask != nullptr && mask->is_protected());
  }
};

// A query's result columns.
struct Output {
  std::vector<std::string> names;
  std::vector<Lineage> cols;
  bool open = false;  // a `*` over a system catalog or a function: more columns at open_at
  size_t open_at = 0;
  Lineage open_lineage;  // what the open columns carry
  bool rows = true;      // false: a statement without RETURNING
};

// The name of a result column pgveil cannot work out (the first column of `*` in a
// scalar subquery): references that could mean it are refused.
inline constexpr char kUnknownColumnName[] = "\x01?column?";

// PostgreSQL's name for an unnamed result column (FigureColname): 2 for a name of the
// expression's own, 1 for the type name of a cast, 0 for none ("?column?").
int FigureColname(const json& node, std::string* name);

// A literal to replace in the statement text.
struct Rewrite {
  size_t pos = 0;
  size_t len = 0;
  std::string text;
};

struct Scope;
struct CteScope;
struct StarItem;
struct Entry;

class Walker {
 public:
  Walker(const policy::Policy& policy, std::string_view sql) : policy_(policy), sql_(sql) {}

  // A whole SELECT (or VALUES), top level: its result columns, checked as outputs.
  Output TopSelect(const json& select);
  // `ctes`: the WITH queries visible to a data-modifying statement inside a WITH clause
  // (those of the clause itself), nullptr for a statement of its own.
  Output Insert(const json& insert, const CteScope* ctes = nullptr);
  Output Update(const json& update, const CteScope* ctes = nullptr);
  Output Delete(const json& del, const CteScope* ctes = nullptr);
  // The written relation, added to `scope` (last entry); refused unless a table.
  void DmlTarget(const json& rv, Scope* scope);
  // An expression outside any query (an EXECUTE argument): checked as a value.
  void LooseValue(const json& node);
  // The SET list of UPDATE or of INSERT ... ON CONFLICT DO UPDATE.
  void SetList(const json& targets, const Entry& target, const Scope* scope, const CteScope* ctes);

  // What the walk found.
  std::vector<Rewrite> rewrites;
  std::vector<ParamReversal> params;
  size_t PseudonymParams() const {
    size_t n = 0;
    for (const auto& p : params) n += p.aligned_op.empty();
    return n;
  }
  bool touches_protected = false;
  bool uses_timing_or_notify = false;    // pg_sleep, pg_notify: refused with protected reads
  bool unknown_relation = false;         // set before a refusal for an unknown relation
  bool dated = false;                    // a literal checked against boundaries that move
  std::set<std::string> relations_read;  // "schema.table", for the audit log
  std::set<std::string> columns_read;    // "schema.table.column"

  // Refuses when a parameter that stands for a pseudonym or a masking boundary (in
  // `params`) is used anywhere in `tree` other than in the comparison that made it one:
  // it would be bound to the real value there too. PREPARE's own statements are skipped
  // unless `tree` is one.
  void CheckParamUses(const json& tree);

  // The RowShape of a checked top-level output.
  static std::shared_ptr<const policy::RowShape> ShapeOf(const Output& out);

 private:
  friend struct ExprWalk;
  // A query node ({"SelectStmt": ...}), or the SelectStmt's fields themselves.
  Output Query(const json& select, const Scope* outer, const CteScope* ctes, int depth);
  Output Select(const json& fields, const Scope* outer, const CteScope* ctes, int depth);
  Output SetOperation(const json& s, const Scope* outer, const CteScope* ctes, int depth);
  Output Values(const json& lists, const Scope* outer, const CteScope* ctes, int depth);
  Output TargetList(const json& list, const Scope* scope, const CteScope* ctes, int depth);
  void CheckOutputs(const Output& out);
  const CteScope* With(const json& with, const Scope* outer, const CteScope* ctes, int depth,
                       CteScope* storage);
  // The SEARCH and CYCLE clauses of WITH query `cte`: their uses of its columns, and
  // the columns they add to its result `out`.
  void SearchCycle(const json& cte, Output* out, const Scope* outer, const CteScope* ctes,
                   int depth);
  // Adds FROM (or USING) items to `scope`, their columns to its `*` list.
  void FromList(const json& items, Scope* scope, const CteScope* ctes, int depth);
  // A data-modifying statement's WITH queries, kept in *storage, over `outer` (the WITH
  // queries around it); `outer` if it has none.
  const CteScope* DmlWith(const json& stmt, const CteScope* outer, CteScope* storage);
  // A data-modifying statement's RETURNING list, checked as a result (or no rows).
  Output Returning(const json& stmt, const Scope* scope, const CteScope* ctes);
  // Adds the FROM item's entries to `scope`; returns its columns in `*` order.
  std::vector<StarItem> FromItem(const json& item, Scope* scope, const CteScope* ctes, int depth);
  void Relation(const json& rv, Scope* scope, const CteScope* ctes, int depth);
  Output View(const catalog::Relation& rel, int depth);

  Lineage Expr(const json& node, const Scope* scope, const CteScope* ctes, int depth);
  Lineage FuncCall(const json& f, const Scope* scope, const CteScope* ctes, int depth);
  Lineage AExpr(const json& e, const Scope* scope, const CteScope* ctes, int depth);
  Lineage SubLink(const json& s, const Scope* scope, const CteScope* ctes, int depth);
  Lineage ColumnRef(const json& c, const Scope* scope);
  Lineage ColumnRefNames(const std::vector<std::string>& fields, const Scope* scope);
  // Records a base column as read (audit); returns it.
  const Lineage& Touch(const Lineage& l) {
    if (l.col != nullptr) columns_read.insert(l.column());
    return l;
  }
  // `[schema.]entry.*` (schema "" when not written).
  Lineage WholeRow(const std::string& schema, const std::string& entry, const Scope* scope);
  // True when the nearest FROM item called `[schema.]name` is one whose whole row is a
  // row: a known item that is not a function (whose whole row may be its single value).
  static bool NamesRows(const std::string& schema, const std::string& name, const Scope* scope);
  // `t.f` or `(expression).f` where f may be no column or field: PostgreSQL's attribute
  // notation calls f(t). Refused unless f is an allowed function or a field name of an
  // allowed function's composite result.
  void AttributeNotation(const std::string& name);
  // Column aliases of `e` that pgveil cannot place (see RenameColumns).
  [[noreturn]] void RefuseRename(const std::string& what);
  // `name` is no column of `e` (which has protected columns) that pgveil knows.
  [[noreturn]] void RefuseUnknownColumn(const std::string& name, const Entry& e);

  // Calls `use` with the lineage of result column `n` (1-based, ORDER BY 2) of `out`, or
  // with every lineage it could be when a `*` of unknown width comes before it; false if
  // `out` has no such column.
  bool ForOrdinal(const Output& out, int n, const std::function<void(const Lineage&)>& use);
  // A value consumed by an operator, function, clause...: the column's filter decides.
  Lineage Use(const Lineage& l, std::string_view construct);
  // Compared for equality only (GROUP BY, DISTINCT, PARTITION BY, UNION).
  Lineage UseEquality(const Lineage& l, std::string_view construct);
  // `value` written into `target` (INSERT, UPDATE).
  void Assign(const Lineage& value, const Lineage& target);
  // A constant or parameter compared with (or written into) a pseudonym column.
  bool TranslatePseudonym(const json& node, const Lineage& column);
  // The same for an array of pseudonyms (`= ANY($1)`, `= ANY('{...}')`).
  bool TranslatePseudonymArray(const json& node, const Lineage& column);
  bool TranslatePseudonymValue(const json& node, const Lineage& column, bool array);
  // The items compared with pseudonym column `col` (IN (...), ANY(ARRAY[...])): each a
  // pseudonym turned back, or a column of the same domain; refused otherwise.
  void PseudonymItems(const json& items, const Lineage& col, std::string_view construct,
                      const Scope* scope, const CteScope* ctes, int depth);
  // A constant's text as written (a plain literal), else as the parse tree has it.
  std::string LiteralText(const json& constant);
  // `col <op> constant` for an aligned column.
  bool Aligned(const Lineage& col, std::string_view op, const json& constant);
  // A bare name that is no column of `scope`'s FROM items but a result column's name:
  // that column's lineage, else nullptr.
  const Lineage* OutputAlias(const json& node, const Output& out, const Scope& scope);
  // ORDER BY (or, with `bare`, a DISTINCT ON list of plain expressions): a result
  // column's position or name first, then an expression over the FROM items; every item
  // is a filter use of what it sorts by.
  void Sort(const json& sort_clause, const Output& out, const Scope* scope, const CteScope* ctes,
            int depth, std::string_view construct = "ORDER BY", bool bare = false);
  // A value written into `target`: a pseudonym literal or parameter, or any expression.
  void WriteValue(const json& node, const Lineage& target, const Scope* scope,
                  const CteScope* ctes);

  [[noreturn]] void Refuse(std::string sqlstate, std::string message, std::string hint = "");

  // Records the parameter under `node` (a ParamRef, possibly under casts) as consumed
  // by a pseudonym or boundary comparison.
  void ConsumeParam(const json& node);

  const policy::Policy& policy_;
  std::string_view sql_;
  std::set<size_t> consumed_params_;  // locations of ParamRefs consumed as above
  bool lenient_ = false;              // inside a view's definition
};

}  // namespace pgveil::guard
