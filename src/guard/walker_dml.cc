// INSERT, UPDATE and DELETE: what they read (WHERE, FROM/USING, sources), what they
// write (a protected value only into a column with the same rule; pseudonyms turned back
// into real values), and what RETURNING shows (checked like a SELECT's result).
#include <algorithm>

#include "guard/scope.h"

namespace pgveil::guard {
namespace {

const json* ConstOrParam(const json& node) {
  std::string_view t = NodeType(node);
  if (t == "A_Const" || t == "ParamRef") return &node;
  if (t == "TypeCast") return ConstOrParam(At(NodeBody(node), "arg"));
  return nullptr;
}

}  // namespace

const CteScope* Walker::DmlWith(const json& stmt, const CteScope* outer, CteScope* storage) {
  if (!Has(stmt, "withClause")) return outer;
  return With(At(stmt, "withClause"), nullptr, outer, 0, storage);
}

Output Walker::Returning(const json& b, const Scope* scope, const CteScope* ctes) {
  if (!Has(b, "returningList")) return Output{.rows = false};
  Output out = TargetList(At(b, "returningList"), scope, ctes, 0);
  CheckOutputs(out);
  return out;
}

void Walker::DmlTarget(const json& rv, Scope* scope) {
  Relation(rv, scope, nullptr, 0);
  const Entry& e = scope->entries.back();
  for (size_t i = 0; i < e.cols.size(); ++i) scope->star.push_back({e.colnames[i], e.cols[i]});
  if (e.open) Refuse("42501", "masked sessions may not write system catalogs");
  if (e.relkind == 'v' || e.relkind == 'm') {
    Refuse("0A000", "pgveil cannot check writes through view " + e.what, "Write the table itself.");
  }
}

void Walker::WriteValue(const json& node, const Lineage& target, const Scope* scope,
                        const CteScope* ctes) {
  if (NodeType(node) == "SetToDefault") return;
  if (target.is_protected() && target.mask->filter == policy::FilterUse::kPseudonym &&
      ConstOrParam(node) != nullptr) {
    const json& c = *ConstOrParam(node);
    if (NodeType(c) == "A_Const" && NodeBody(c).value("isnull", false)) return;
    if (TranslatePseudonym(node, target)) return;
  }
  Assign(Expr(node, scope, ctes, 0), target);
}

Output Walker::Insert(const json& b, const CteScope* outer_ctes) {
  CteScope storage;
  const CteScope* ctes = DmlWith(b, outer_ctes, &storage);
  Scope scope;
  DmlTarget(At(b, "relation"), &scope);
  const Entry target = scope.entries.back();
  std::vector<Lineage> targets;
  if (Has(b, "cols")) {
    for (const auto& c : At(b, "cols")) {
      const json& rt = NodeBody(c);
      if (Has(rt, "indirection")) Refuse("0A000", "pgveil cannot analyse INSERT into a subfield");
      targets.push_back(target.Column(Str(rt, "name")));
    }
  } else {
    targets = target.cols;
  }
  if (Has(b, "selectStmt")) {
    const json& sel = NodeBody(At(b, "selectStmt"));
    const bool plain_values = Has(sel, "valuesLists") && !Has(sel, "withClause") &&
                              !Has(sel, "sortClause") && !Has(sel, "limitCount") &&
                              !Has(sel, "limitOffset");
    Scope empty;
    if (plain_values) {
      for (const auto& row : At(sel, "valuesLists")) {
        size_t i = 0;
        for (const auto& item : Arr(NodeBody(row), "items")) {
          if (IsStarItem(item)) {
            Refuse("0A000", "pgveil cannot analyse x.* in VALUES", "Name the columns.");
          }
          if (i < targets.size()) {
            WriteValue(item, targets[i], &empty, ctes);
          } else {
            Use(Expr(item, &empty, ctes, 0), "INSERT");
          }
          ++i;
        }
      }
    } else {
      // INSERT ... SELECT staff_id, <pseudonym> FROM ...: a constant or parameter in the
      // select list of a plain SELECT, written into a pseudonym column, is turned back as
      // in VALUES (up to the first `*`, after which positions are not known).
      std::vector<bool> translated(targets.size(), false);
      if (!Has(sel, "valuesLists") && !Has(sel, "larg")) {
        const json& list = Arr(sel, "targetList");
        for (size_t i = 0; i < list.size() && i < targets.size(); ++i) {
          const json& val = At(NodeBody(list[i]), "val");
          if (IsStarItem(val)) break;
          const Lineage& t = targets[i];
          const json* c = ConstOrParam(val);
          if (c == nullptr || !t.is_protected() ||
              t.mask->filter != policy::FilterUse::kPseudonym) {
            continue;
          }
          translated[i] = (NodeType(*c) == "A_Const" && NodeBody(*c).value("isnull", false)) ||
                          TranslatePseudonym(val, t);
        }
      }
      Output src = Query(At(b, "selectStmt"), nullptr, ctes, 1);
      // Each target gets the source column at its position; after a `*` over a system
      // catalog or function (of unknown width) any of the later ones or the open ones.
      for (size_t i = 0; i < targets.size(); ++i) {
        if (translated[i]) continue;
        ForOrdinal(src, static_cast<int>(i + 1), [&](const Lineage& l) { Assign(l, targets[i]); });
      }
      for (size_t i = targets.size(); i < src.cols.size(); ++i) Assign(src.cols[i], Lineage{});
      if (src.open && src.open_lineage.is_protected()) Assign(src.open_lineage, Lineage{});
    }
  }
  if (Has(b, "onConflictClause")) {
    const json& oc = At(b, "onConflictClause");
    const std::string action = Str(oc, "action");
    if (action != "ONCONFLICT_NOTHING" && action != "ONCONFLICT_UPDATE") {
      Refuse("0A000", "pgveil cannot check this ON CONFLICT action");
    }
    if (Has(oc, "infer") && Has(At(oc, "infer"), "whereClause")) {
      Use(Expr(At(At(oc, "infer"), "whereClause"), &scope, ctes, 0), "ON CONFLICT");
    }
    if (action == "ONCONFLICT_UPDATE") {
      // DO UPDATE SET ... [WHERE ...]: the existing row under the target's name, the row
      // proposed for insertion as EXCLUDED; both carry the target's column lineage.
      Scope conflict = scope;
      Entry excluded = target;
      excluded.name = "excluded";
      excluded.schema.clear();
      excluded.unaliased_relation = false;
      excluded.what = "EXCLUDED";
      conflict.entries.push_back(std::move(excluded));
      SetList(Arr(oc, "targetList"), target, &conflict, ctes);
      if (Has(oc, "whereClause")) Use(Expr(At(oc, "whereClause"), &conflict, ctes, 0), "WHERE");
    }
  }
  return Returning(b, &scope, ctes);
}

Output Walker::Update(const json& b, const CteScope* outer_ctes) {
  CteScope storage;
  const CteScope* ctes = DmlWith(b, outer_ctes, &storage);
  Scope scope;
  DmlTarget(At(b, "relation"), &scope);
  const Entry target = scope.entries.back();
  FromList(Arr(b, "fromClause"), &scope, ctes, 0);
  if (Has(b, "whereClause")) Use(Expr(At(b, "whereClause"), &scope, ctes, 0), "WHERE");
  SetList(Arr(b, "targetList"), target, &scope, ctes);
  return Returning(b, &scope, ctes);
}

void Walker::SetList(const json& targets, const Entry& target, const Scope* scope,
                     const CteScope* ctes) {
  Output multi;  // the columns of the current SET (a, b) = (SELECT ...)
  for (const auto& t : targets) {
    const json& rt = NodeBody(t);
    if (Has(rt, "indirection")) Refuse("0A000", "pgveil cannot analyse UPDATE of a subfield");
    const json& val = At(rt, "val");
    const Lineage column = target.Column(Str(rt, "name"));
    if (NodeType(val) != "MultiAssignRef") {
      WriteValue(val, column, scope, ctes);
      continue;
    }
    // SET (a, b) = (x, y) or = (SELECT x, y ...): the parser repeats the source for each
    // column with its position; a subquery is analysed once, at its first column.
    const json& m = NodeBody(val);
    const int colno = m.value("colno", 0);
    const json& source = At(m, "source");
    const json& sb = NodeBody(source);
    if (NodeType(source) == "RowExpr") {
      // One value per column, counted as the server counts them: `x.*` stands for as
      // many values as x has columns (none for `(SELECT) x`), which would pair the
      // values after it with other columns than the walk did.
      const json& args = Arr(sb, "args");
      const bool star = std::any_of(args.begin(), args.end(), IsStarItem);
      if (star || colno < 1 || static_cast<size_t>(colno) > args.size() ||
          m.value("ncolumns", 0) != static_cast<int>(args.size())) {
        Refuse("0A000", "pgveil cannot analyse this SET (columns) = (...)",
               "Give one value per column, without x.*.");
      }
      WriteValue(args[colno - 1], column, scope, ctes);
    } else if (NodeType(source) == "SubLink" && (Str(sb, "subLinkType") == "EXPR_SUBLINK" ||
                                                 Str(sb, "subLinkType") == "MULTIEXPR_SUBLINK")) {
      if (colno == 1) multi = Query(At(sb, "subselect"), scope, ctes, 1);
      if (colno < 1 || !ForOrdinal(multi, colno, [&](const Lineage& l) { Assign(l, column); })) {
        if (!multi.open) Refuse("0A000", "pgveil cannot analyse this SET (columns) = (...)");
        Assign(multi.open_lineage, column);
      }
    } else {
      Refuse("0A000", "pgveil cannot analyse this SET (columns) = (...)",
             "Assign each column on its own.");
    }
  }
}

Output Walker::Delete(const json& b, const CteScope* outer_ctes) {
  CteScope storage;
  const CteScope* ctes = DmlWith(b, outer_ctes, &storage);
  Scope scope;
  DmlTarget(At(b, "relation"), &scope);
  FromList(Arr(b, "usingClause"), &scope, ctes, 0);
  if (Has(b, "whereClause")) Use(Expr(At(b, "whereClause"), &scope, ctes, 0), "WHERE");
  return Returning(b, &scope, ctes);
}

void Walker::LooseValue(const json& node) {
  Scope empty;
  Lineage l = Expr(node, &empty, nullptr, 0);
  if (l.is_protected())
    Refuse("42501", "an argument is computed from protected column " + l.column());
}

}  // namespace pgveil::guard
