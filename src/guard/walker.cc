// Queries: WITH, FROM, the clauses of a SELECT, set operations, VALUES, views, and the
// data-modifying statements. Expressions are in walker_expr.cc.
#include <pg_query.h>

#include <algorithm>
#include <memory>

#include "guard/names.h"
#include "guard/scope.h"

namespace pgveil::guard {
namespace {

constexpr int kMaxDepth = 32;

std::string Qualified(const catalog::Relation& rel) { return rel.schema + "." + rel.name; }

// Renames the columns of `e` by position (`AS s(a, b)`). False when a name falls at or
// after columns of unknown number (a `*` over a system catalog or function) and one of
// the columns it could name is protected.
bool RenameByPosition(const std::vector<std::string>& names, std::vector<std::string>* colnames,
                      const std::vector<Lineage>& cols, bool open, size_t open_at,
                      const Lineage& open_lineage) {
  const size_t known = open ? std::min(open_at, colnames->size()) : colnames->size();
  for (size_t i = 0; i < names.size() && i < known; ++i) (*colnames)[i] = names[i];
  if (!open || names.size() <= known) return true;
  // A later name may be any column from open_at on: unknown names resolve to the open
  // columns' lineage, which is right only when none of those columns is protected.
  if (open_lineage.is_protected()) return false;
  for (size_t i = known; i < cols.size(); ++i) {
    if (cols[i].is_protected()) return false;
  }
  return true;
}

bool RenameColumns(const json& alias, Entry* e) {
  if (!Has(alias, "colnames")) return true;
  return RenameByPosition(Names(At(alias, "colnames")), &e->colnames, e->cols, e->open, e->open_at,
                          e->open_lineage);
}

// WITH w(a, b) AS (...): the same for a WITH query's result.
bool RenameOutput(const json& cte, Output* out) {
  if (!Has(cte, "aliascolnames")) return true;
  return RenameByPosition(Names(At(cte, "aliascolnames")), &out->names, out->cols, out->open,
                          out->open_at, out->open_lineage);
}

Entry EntryOf(const Output& out, std::string name, std::string what) {
  Entry e;
  e.name = std::move(name);
  e.colnames = out.names;
  e.cols = out.cols;
  e.open = out.open;
  e.open_at = out.open_at;
  e.open_lineage = out.open_lineage;
  e.what = std::move(what);
  for (const auto& c : e.cols) e.has_protected |= c.is_protected();
  e.has_protected |= e.open && e.open_lineage.is_protected();
  return e;
}

bool SameLineage(const Lineage& a, const Lineage& b) {
  return a.kind == b.kind && a.oid == b.oid && a.attnum == b.attnum && a.mask == b.mask;
}

bool SameLineage(const Output& a, const Output& b) {
  if (a.cols.size() != b.cols.size() || a.open != b.open ||
      !SameLineage(a.open_lineage, b.open_lineage)) {
    return false;
  }
  for (size_t i = 0; i < a.cols.size(); ++i) {
    if (!SameLineage(a.cols[i], b.cols[i])) return false;
  }
  return true;
}

// The columns of `e` in PostgreSQL's order: the open ones (of unknown number) where
// they are, not after the listed ones.
std::vector<StarItem> StarOf(const Entry& e) {
  std::vector<StarItem> items;
  for (size_t i = 0; i < e.cols.size(); ++i) {
    if (e.open && i == e.open_at) items.push_back({"", e.open_lineage, true});
    items.push_back({e.colnames[i], e.cols[i], false});
  }
  if (e.open && e.open_at >= e.cols.size()) items.push_back({"", e.open_lineage, true});
  return items;
}

}  // namespace

std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& n : list) {
    std::string_view t = NodeType(n);
    if (t == "String") {
      out.push_back(Str(NodeBody(n), "sval"));
    } else if (t == "A_Star") {
      out.push_back("*");
    } else {
      out.push_back("");
    }
  }
  return out;
}

bool IsStarItem(const json& node) {
  std::string_view t = NodeType(node);
  const json& b = NodeBody(node);
  const json* list = t == "ColumnRef"       ? &Arr(b, "fields")
                     : t == "A_Indirection" ? &Arr(b, "indirection")
                                            : nullptr;
  return list != nullptr && list->is_array() && !list->empty() &&
         NodeType((*list)[list->size() - 1]) == "A_Star";
}

void Walker::Refuse(std::string sqlstate, std::string message, std::string hint) {
  if (hint.empty()) {
    hint = sqlstate == "0A000"
               ? "pgveil checks every statement of this login and cannot check this construct; "
                 "see docs/guard.md for what masked sessions may run."
               : "This login's results are masked; see docs/guard.md for what masked sessions "
                 "may run.";
  }
  throw Refusal{std::move(sqlstate), std::move(message), std::move(hint)};
}

std::shared_ptr<const policy::RowShape> Walker::ShapeOf(const Output& out) {
  auto shape = std::make_shared<policy::RowShape>();
  for (const auto& c : out.cols) {
    policy::FieldLineage f;
    switch (c.kind) {
      case Lineage::Kind::kColumn:
        f.kind = policy::FieldLineage::Kind::kColumn;
        break;
      case Lineage::Kind::kCastText:
        f.kind = policy::FieldLineage::Kind::kCastText;
        break;
      case Lineage::Kind::kValue:
        f.kind = policy::FieldLineage::Kind::kValue;
        break;
      case Lineage::Kind::kTainted:
        f.kind = policy::FieldLineage::Kind::kNull;  // never reached: refused as an output
        break;
    }
    f.table_oid = c.oid;
    f.attnum = c.attnum;
    f.type_oid = c.type_oid;
    shape->fields.push_back(f);
  }
  shape->open = out.open;
  shape->open_at = out.open_at;
  return shape;
}

void Walker::CheckOutputs(const Output& out) {
  for (size_t i = 0; i < out.cols.size(); ++i) {
    if (out.cols[i].kind == Lineage::Kind::kTainted) {
      Refuse("42501",
             "result column \"" + out.names[i] + "\" is computed from protected column " +
                 out.cols[i].column(),
             "Select the column itself to see its masked value.");
    }
  }
  if (out.open && out.open_lineage.kind == Lineage::Kind::kTainted) {
    Refuse("42501",
           "a result column is computed from protected column " + out.open_lineage.column(),
           "Select the column itself to see its masked value.");
  }
}

Output Walker::TopSelect(const json& select) {
  Output out = Query(select, nullptr, nullptr, 0);
  CheckOutputs(out);
  return out;
}

const CteScope* Walker::With(const json& with, const Scope* outer, const CteScope* ctes, int depth,
                             CteScope* storage) {
  storage->parent = ctes;
  const bool recursive = with.value("recursive", false);
  if (!Has(with, "ctes")) return storage;
  if (recursive) {
    for (const auto& c : At(with, "ctes")) storage->pending.insert(Str(NodeBody(c), "ctename"));
  }
  for (const auto& c : At(with, "ctes")) {
    if (NodeType(c) != "CommonTableExpr") Refuse("0A000", "pgveil cannot analyse this WITH clause");
    const json& cte = NodeBody(c);
    std::string name = Str(cte, "ctename");
    const json& q = At(cte, "ctequery");
    std::string_view qt = NodeType(q);
    Output out;
    if (qt == "SelectStmt") {
      const json& s = NodeBody(q);
      if (recursive && Str(s, "op") == "SETOP_UNION" && Has(s, "larg")) {
        // The non-recursive arm names the columns; then the whole, with itself visible.
        Output seed = Select(At(s, "larg"), outer, storage, depth + 1);
        if (!RenameOutput(cte, &seed)) RefuseRename("WITH query " + name);
        storage->ctes[name] = seed;
        storage->pending.erase(name);
        // Until the lineage settles: a value moves one column further in each round of
        // the recursion (t(a, b, c) ... SELECT '', a, b FROM t takes a's value to c in
        // the second), and a column changes at most twice (value, column, tainted).
        bool settled = false;
        for (size_t round = 0; round < 2 * seed.cols.size() + 3 && !settled; ++round) {
          Output full = SetOperation(s, outer, storage, depth + 1);
          for (size_t i = 0; i < full.names.size() && i < seed.names.size(); ++i) {
            full.names[i] = seed.names[i];
          }
          settled = SameLineage(full, storage->ctes[name]);
          storage->ctes[name] = std::move(full);
        }
        if (!settled) {
          Refuse("0A000", "pgveil cannot follow the lineage of recursive WITH query " + name);
        }
        SearchCycle(cte, &storage->ctes[name], outer, storage, depth);
        continue;
      }
      out = Query(q, outer, storage, depth + 1);
    } else if (qt == "InsertStmt") {
      // A data-modifying WITH query sees the clause's other queries as a SELECT does:
      // a name there is theirs before any table's.
      out = Insert(NodeBody(q), storage);
    } else if (qt == "UpdateStmt") {
      out = Update(NodeBody(q), storage);
    } else if (qt == "DeleteStmt") {
      out = Delete(NodeBody(q), storage);
    } else {
      Refuse("0A000", "pgveil cannot analyse this WITH query");
    }
    if (!RenameOutput(cte, &out)) RefuseRename("WITH query " + name);
    SearchCycle(cte, &out, outer, storage, depth);
    storage->ctes[name] = std::move(out);
    storage->pending.erase(name);
  }
  return storage;
}

void Walker::SearchCycle(const json& cte, Output* out, const Scope* outer, const CteScope* ctes,
                         int depth) {
  // SEARCH ... SET seq and CYCLE ... SET mark USING path add columns built from the
  // listed ones (the path is an array of their values, unmasked), and CYCLE compares
  // them: every listed column is a filter use, and the new columns carry what they carry.
  auto listed = [&](const json& cols, std::string_view construct) {
    Lineage r;
    for (const auto& col : Names(cols)) {
      for (size_t i = 0; i < out->names.size(); ++i) {
        if (out->names[i] != col) continue;
        Lineage l = Use(out->cols[i], construct);
        if (l.kind == Lineage::Kind::kTainted) r = l;
        break;
      }
    }
    if (out->open) {
      Lineage l = Use(out->open_lineage, construct);
      if (l.kind == Lineage::Kind::kTainted) r = l;
    }
    return r;
  };
  if (Has(cte, "search_clause")) {
    const json& sc = At(cte, "search_clause");
    Lineage l = listed(Arr(sc, "search_col_list"), "SEARCH");
    out->names.push_back(Str(sc, "search_seq_column"));
    out->cols.push_back(l);
  }
  if (Has(cte, "cycle_clause")) {
    const json& cc = At(cte, "cycle_clause");
    Lineage l = listed(Arr(cc, "cycle_col_list"), "CYCLE");
    Scope empty{outer, {}};
    for (const char* v : {"cycle_mark_value", "cycle_mark_default"}) {
      if (Has(cc, v)) Use(Expr(At(cc, v), &empty, ctes, depth + 1), "CYCLE");
    }
    out->names.push_back(Str(cc, "cycle_mark_column"));
    out->cols.push_back(l);
    out->names.push_back(Str(cc, "cycle_path_column"));
    out->cols.push_back(l);
  }
}

Output Walker::Query(const json& node, const Scope* outer, const CteScope* ctes, int depth) {
  if (NodeType(node) != "SelectStmt") Refuse("0A000", "pgveil cannot analyse this query");
  return Select(NodeBody(node), outer, ctes, depth);
}

Output Walker::Select(const json& s, const Scope* outer, const CteScope* ctes, int depth) {
  if (depth > kMaxDepth) Refuse("0A000", "the statement nests too deeply for pgveil to analyse");
  CteScope with_storage;
  if (Has(s, "withClause")) ctes = With(At(s, "withClause"), outer, ctes, depth, &with_storage);
  if (Has(s, "intoClause")) {
    Refuse("42501", "SELECT INTO creates a table, which masked sessions may not do");
  }
  if (Str(s, "op") != "" && Str(s, "op") != "SETOP_NONE") {
    Output out = SetOperation(s, outer, ctes, depth);
    Scope empty{outer, {}};
    Sort(Arr(s, "sortClause"), out, &empty, ctes, depth);
    if (Has(s, "limitCount")) Use(Expr(At(s, "limitCount"), &empty, ctes, depth), "LIMIT");
    if (Has(s, "limitOffset")) Use(Expr(At(s, "limitOffset"), &empty, ctes, depth), "OFFSET");
    return out;
  }
  if (Has(s, "valuesLists")) {
    Output out = Values(At(s, "valuesLists"), outer, ctes, depth);
    Scope empty{outer, {}};
    Sort(Arr(s, "sortClause"), out, &empty, ctes, depth);
    if (Has(s, "limitCount")) Use(Expr(At(s, "limitCount"), &empty, ctes, depth), "LIMIT");
    if (Has(s, "limitOffset")) Use(Expr(At(s, "limitOffset"), &empty, ctes, depth), "OFFSET");
    return out;
  }

  Scope scope{outer, {}};
  FromList(Arr(s, "fromClause"), &scope, ctes, depth);
  if (Has(s, "whereClause")) Use(Expr(At(s, "whereClause"), &scope, ctes, depth), "WHERE");

  Output out = TargetList(Arr(s, "targetList"), &scope, ctes, depth);
  // An item of ROLLUP, CUBE or GROUPING SETS (nested sets, `(a, b)` lists, a result
  // column's position or name, or an expression): a filter use of any protected column,
  // pseudonyms included, since subtotal rows are sorted and compared by it.
  std::function<void(const json&)> grouping_item = [&](const json& item) {
    const std::string_view it = NodeType(item);
    if (it == "GroupingSet" || it == "RowExpr") {
      for (const auto& c : Arr(NodeBody(item), it == "GroupingSet" ? "content" : "args")) {
        grouping_item(c);
      }
      return;
    }
    if (it == "A_Const" && Has(NodeBody(item), "ival")) {
      const int n = At(NodeBody(item), "ival").value("ival", 0);
      if (n >= 1 && ForOrdinal(out, n, [&](const Lineage& l) { Use(l, "GROUPING SETS"); })) {
        return;
      }
    }
    if (const Lineage* o = OutputAlias(item, out, scope)) {
      Use(*o, "GROUPING SETS");
      return;
    }
    Use(Expr(item, &scope, ctes, depth), "GROUPING SETS");
  };
  if (Has(s, "groupClause")) {
    for (const auto& g : At(s, "groupClause")) {
      // GROUP BY <ordinal> refers to a result column.
      if (NodeType(g) == "A_Const" && Has(NodeBody(g), "ival")) {
        int n = At(NodeBody(g), "ival").value("ival", 0);
        if (n >= 1 && ForOrdinal(out, n, [&](const Lineage& l) { UseEquality(l, "GROUP BY"); })) {
          continue;
        }
      }
      std::string_view gt = NodeType(g);
      if (gt == "GroupingSet") {
        grouping_item(g);
        continue;
      }
      if (const Lineage* o = OutputAlias(g, out, scope)) {
        UseEquality(*o, "GROUP BY");
        continue;
      }
      UseEquality(Expr(g, &scope, ctes, depth), "GROUP BY");
    }
  }
  if (Has(s, "havingClause")) Use(Expr(At(s, "havingClause"), &scope, ctes, depth), "HAVING");
  if (Has(s, "windowClause")) {
    for (const auto& w : At(s, "windowClause")) {
      const json& wd = NodeBody(w);
      if (Has(wd, "partitionClause")) {
        for (const auto& p : At(wd, "partitionClause")) {
          // Not even a pseudonym: the partitions are sorted by the real values.
          Use(Expr(p, &scope, ctes, depth), "PARTITION BY");
        }
      }
      if (Has(wd, "orderClause")) Sort(At(wd, "orderClause"), Output{}, &scope, ctes, depth);
      if (Has(wd, "startOffset")) {
        Use(Expr(At(wd, "startOffset"), &scope, ctes, depth), "a window frame");
      }
      if (Has(wd, "endOffset")) {
        Use(Expr(At(wd, "endOffset"), &scope, ctes, depth), "a window frame");
      }
    }
  }
  if (Has(s, "distinctClause")) {
    bool plain_distinct = true;
    for (const auto& d : At(s, "distinctClause")) {
      if (!d.empty()) {
        plain_distinct = false;
        // DISTINCT ON resolves like ORDER BY (a result column's position or name first)
        // and sorts by the real values: not even a pseudonym may be used.
        Sort(At(s, "distinctClause"), out, &scope, ctes, depth, "DISTINCT ON", /*bare=*/true);
        break;
      }
    }
    if (plain_distinct) {
      for (const auto& c : out.cols) UseEquality(c, "DISTINCT");
    }
  }
  Sort(Arr(s, "sortClause"), out, &scope, ctes, depth);
  if (Has(s, "limitCount")) Use(Expr(At(s, "limitCount"), &scope, ctes, depth), "LIMIT");
  if (Has(s, "limitOffset")) Use(Expr(At(s, "limitOffset"), &scope, ctes, depth), "OFFSET");
  return out;
}

namespace {

// The name of a query's first result column (a SelectStmt's fields), as PostgreSQL
// gives it.
std::string FirstColumnName(const json& s) {
  if (Str(s, "op") != "" && Str(s, "op") != "SETOP_NONE") return FirstColumnName(At(s, "larg"));
  if (Has(s, "valuesLists")) return "column1";
  const json& targets = Arr(s, "targetList");
  if (targets.empty()) return kUnknownColumnName;
  const json& rt = NodeBody(targets[0]);
  std::string name = Str(rt, "name");
  if (!name.empty()) return name;
  const json& val = At(rt, "val");
  if (NodeType(val) == "ColumnRef") {
    auto f = Names(At(NodeBody(val), "fields"));
    if (!f.empty() && f.back() == "*") return kUnknownColumnName;  // an expanded column
  }
  return FigureColname(val, &name) == 0 ? "?column?" : name;
}

}  // namespace

int FigureColname(const json& node, std::string* name) {
  // PostgreSQL's FigureColnameInternal: 2 for a name of the expression's own, 1 for a
  // type name of a cast, 0 for none ("?column?").
  std::string_view t = NodeType(node);
  const json& b = NodeBody(node);
  if (t == "ColumnRef") {
    auto f = Names(At(b, "fields"));
    for (auto it = f.rbegin(); it != f.rend(); ++it) {
      if (*it != "*") {
        *name = *it;
        return 2;
      }
    }
    return 0;
  }
  if (t == "A_Indirection") {
    const json& ind = Arr(b, "indirection");
    for (size_t i = ind.size(); i-- > 0;) {
      if (NodeType(ind[i]) == "String") {
        *name = Str(NodeBody(ind[i]), "sval");
        return 2;
      }
    }
    return FigureColname(At(b, "arg"), name);
  }
  if (t == "FuncCall") {
    auto f = Names(At(b, "funcname"));
    if (f.empty()) return 0;
    *name = f.back();
    return 2;
  }
  if (t == "A_Expr") {
    if (Str(b, "kind") != "AEXPR_NULLIF") return 0;
    *name = "nullif";
    return 2;
  }
  if (t == "TypeCast") {
    int strength = FigureColname(At(b, "arg"), name);
    if (strength <= 1) {
      auto n = Names(Arr(At(b, "typeName"), "names"));
      if (!n.empty()) {
        *name = n.back();
        return 1;
      }
    }
    return strength;
  }
  if (t == "CollateClause") return FigureColname(At(b, "arg"), name);
  if (t == "GroupingFunc") {
    *name = "grouping";
    return 2;
  }
  if (t == "SubLink") {
    const std::string kind = Str(b, "subLinkType");
    if (kind == "EXISTS_SUBLINK") *name = "exists";
    if (kind == "ARRAY_SUBLINK") *name = "array";
    if (kind == "EXPR_SUBLINK") {
      const json& sub = At(b, "subselect");
      *name = NodeType(sub) == "SelectStmt" ? FirstColumnName(NodeBody(sub)) : kUnknownColumnName;
    }
    return kind == "EXISTS_SUBLINK" || kind == "ARRAY_SUBLINK" || kind == "EXPR_SUBLINK" ? 2 : 0;
  }
  if (t == "CaseExpr") {
    int strength = Has(b, "defresult") ? FigureColname(At(b, "defresult"), name) : 0;
    if (strength <= 1) {
      *name = "case";
      return 1;
    }
    return strength;
  }
  static const std::pair<std::string_view, std::string_view> kFixed[] = {
      {"A_ArrayExpr", "array"},
      {"RowExpr", "row"},
      {"CoalesceExpr", "coalesce"},
      {"XmlSerialize", "xmlserialize"}};
  for (const auto& [type, fixed] : kFixed) {
    if (t == type) {
      *name = fixed;
      return 2;
    }
  }
  // Named after their operation.
  struct Named {
    std::string_view type, op, name;
  };
  static const Named kByOp[] = {
      {"SQLValueFunction", "SVFOP_CURRENT_DATE", "current_date"},
      {"SQLValueFunction", "SVFOP_CURRENT_TIME", "current_time"},
      {"SQLValueFunction", "SVFOP_CURRENT_TIME_N", "current_time"},
      {"SQLValueFunction", "SVFOP_CURRENT_TIMESTAMP", "current_timestamp"},
      {"SQLValueFunction", "SVFOP_CURRENT_TIMESTAMP_N", "current_timestamp"},
      {"SQLValueFunction", "SVFOP_LOCALTIME", "localtime"},
      {"SQLValueFunction", "SVFOP_LOCALTIME_N", "localtime"},
      {"SQLValueFunction", "SVFOP_LOCALTIMESTAMP", "localtimestamp"},
      {"SQLValueFunction", "SVFOP_LOCALTIMESTAMP_N", "localtimestamp"},
      {"SQLValueFunction", "SVFOP_CURRENT_ROLE", "current_role"},
      {"SQLValueFunction", "SVFOP_CURRENT_USER", "current_user"},
      {"SQLValueFunction", "SVFOP_USER", "user"},
      {"SQLValueFunction", "SVFOP_SESSION_USER", "session_user"},
      {"SQLValueFunction", "SVFOP_CURRENT_CATALOG", "current_catalog"},
      {"SQLValueFunction", "SVFOP_CURRENT_SCHEMA", "current_schema"},
      {"XmlExpr", "IS_XMLCONCAT", "xmlconcat"},
      {"XmlExpr", "IS_XMLELEMENT", "xmlelement"},
      {"XmlExpr", "IS_XMLFOREST", "xmlforest"},
      {"XmlExpr", "IS_XMLPARSE", "xmlparse"},
      {"XmlExpr", "IS_XMLPI", "xmlpi"},
      {"XmlExpr", "IS_XMLROOT", "xmlroot"},
      {"XmlExpr", "IS_XMLSERIALIZE", "xmlserialize"},
      {"MinMaxExpr", "IS_GREATEST", "greatest"},
      {"MinMaxExpr", "IS_LEAST", "least"}};
  if (t == "SQLValueFunction" || t == "XmlExpr" || t == "MinMaxExpr") {
    const std::string op = Str(b, "op");
    for (const auto& n : kByOp) {
      if (t == n.type && op == n.op) {
        *name = n.name;
        return 2;
      }
    }
    return 0;
  }
  return 0;
}

Output Walker::TargetList(const json& list, const Scope* scope, const CteScope* ctes, int depth) {
  Output out;
  {
    for (const auto& t : list) {
      const json& rt = NodeBody(t);
      const json& val = At(rt, "val");
      if (NodeType(val) == "ColumnRef") {
        auto fields = Names(At(NodeBody(val), "fields"));
        if (!fields.empty() && fields.back() == "*") {
          // `*`: the FROM list's columns in PostgreSQL's order; `alias.*`: every column
          // of that FROM item.
          bool matched = false;
          std::vector<StarItem> items;
          if (fields.size() == 1) {
            items = scope->star;
            matched = true;
          } else {
            const std::string schema = SchemaOfRef(fields);
            for (const auto& e : scope->entries) {
              if (!RefersTo(e, schema, fields[fields.size() - 2])) continue;
              matched = true;
              for (auto& si : StarOf(e)) items.push_back(std::move(si));
            }
          }
          for (const auto& si : items) {
            if (!si.open) {
              Touch(si.lineage);
              out.names.push_back(si.name);
              out.cols.push_back(si.lineage);
              continue;
            }
            if (out.open) {
              Refuse("0A000",
                     "pgveil cannot expand * over more than one system catalog or function",
                     "Name the columns you need.");
            }
            out.open = true;
            out.open_at = out.cols.size();
            out.open_lineage = si.lineage;
          }
          if (!matched && fields.size() > 1) {
            Refuse("0A000", "pgveil cannot resolve this * reference", "Name the columns you need.");
          }
          continue;
        }
      }
      std::string name = Str(rt, "name");
      if (name.empty() && FigureColname(val, &name) == 0) name = "?column?";
      out.names.push_back(name);
      out.cols.push_back(Expr(val, scope, ctes, depth));
    }
  }
  return out;
}

const Lineage* Walker::OutputAlias(const json& node, const Output& out, const Scope& scope) {
  // GROUP BY and DISTINCT ON take a bare name as an input column first, then as the name
  // of a result column.
  if (NodeType(node) != "ColumnRef") return nullptr;
  auto f = Names(At(NodeBody(node), "fields"));
  if (f.size() != 1) return nullptr;
  const Lineage* result = nullptr;
  for (size_t i = 0; i < out.names.size() && result == nullptr; ++i) {
    if (out.names[i] == f[0]) result = &out.cols[i];
  }
  if (result == nullptr) return nullptr;
  bool open = false;
  for (const auto& e : scope.entries) {
    open |= e.open;
    for (const auto& c : e.colnames) {
      if (c == f[0]) return nullptr;
    }
  }
  if (open) {
    // It may be a column of the function or system catalog, or the result column.
    if (!result->is_protected()) return nullptr;
    Refuse("42501", "\"" + f[0] + "\" is ambiguous for pgveil",
           "Name the expression itself, or qualify the column with its table alias.");
  }
  return result;
}

void Walker::Sort(const json& sort_clause, const Output& out, const Scope* scope,
                  const CteScope* ctes, int depth, std::string_view construct, bool bare) {
  if (!sort_clause.is_array()) return;
  for (const auto& item : sort_clause) {
    if (!bare && NodeType(item) != "SortBy") {
      Refuse("0A000", "pgveil cannot analyse this ORDER BY");
    }
    const json& node = bare ? item : At(NodeBody(item), "node");
    std::string_view t = NodeType(node);
    if (t == "A_Const" && Has(NodeBody(node), "ival")) {
      int n = At(NodeBody(node), "ival").value("ival", 0);
      if (n >= 1 && ForOrdinal(out, n, [&](const Lineage& l) { Use(l, construct); })) continue;
    }
    if (t == "ColumnRef") {
      auto f = Names(At(NodeBody(node), "fields"));
      if (f.size() == 1) {
        bool found = false;
        for (size_t i = 0; i < out.names.size(); ++i) {
          if (out.names[i] == f[0]) {
            Use(out.cols[i], construct);
            found = true;
            break;
          }
        }
        if (found) continue;
      }
    }
    Use(Expr(node, scope, ctes, depth), construct);
  }
}

bool Walker::ForOrdinal(const Output& out, int n, const std::function<void(const Lineage&)>& use) {
  const auto k = static_cast<size_t>(n - 1);
  if (out.open && k >= out.open_at) {
    // Past a `*` over a system catalog or function, whose number of columns pgveil does
    // not know: the position may mean any later column, or one of the `*`.
    for (size_t i = out.open_at; i < out.cols.size(); ++i) use(out.cols[i]);
    use(out.open_lineage);
    return true;
  }
  if (k >= out.cols.size()) return false;
  use(out.cols[k]);
  return true;
}

Output Walker::SetOperation(const json& s, const Scope* outer, const CteScope* ctes, int depth) {
  Output l = Select(At(s, "larg"), outer, ctes, depth + 1);
  Output r = Select(At(s, "rarg"), outer, ctes, depth + 1);
  const bool all = s.value("all", false);
  const std::string op = Str(s, "op");
  if (l.open || r.open) {
    Refuse("0A000", "pgveil cannot combine * over system catalogs or functions in a set operation",
           "Name the columns you need.");
  }
  Output out = l;
  for (size_t i = 0; i < out.cols.size() && i < r.cols.size(); ++i) {
    const Lineage& a = l.cols[i];
    const Lineage& b = r.cols[i];
    if (!all || op != "SETOP_UNION") {
      // UNION, INTERSECT and EXCEPT compare rows: a pseudonym column only with a column
      // of its own domain (against a constant it would be compared as the real value).
      const bool same_domain = a.kind == Lineage::Kind::kColumn &&
                               b.kind == Lineage::Kind::kColumn && a.mask != nullptr &&
                               b.mask != nullptr && a.mask->spec == b.mask->spec &&
                               a.mask->filter == policy::FilterUse::kPseudonym;
      if (!same_domain && (a.is_protected() || b.is_protected())) {
        Use(a, "a set operation");
        Use(b, "a set operation");
      }
    }
    if (!a.is_protected() && !b.is_protected()) {
      out.cols[i] = Lineage{};
    } else if (a.kind == b.kind && a.kind != Lineage::Kind::kTainted && a.mask != nullptr &&
               b.mask != nullptr && a.mask->spec == b.mask->spec &&
               a.mask->action == b.mask->action) {
      // The same mask on every arm: the result carries it (the first arm's column).
    } else {
      Lineage t = a.is_protected() ? a : b;
      t.kind = Lineage::Kind::kTainted;
      out.cols[i] = t;
    }
  }
  return out;
}

Output Walker::Values(const json& lists, const Scope* outer, const CteScope* ctes, int depth) {
  Output out;
  Scope scope{outer, {}};
  bool first = true;
  for (const auto& row : lists) {
    const json& items = Arr(NodeBody(row), "items");
    size_t i = 0;
    for (const auto& item : items) {
      if (IsStarItem(item)) {
        // As many columns as x has: the walk would pair the items after it with the
        // wrong columns (a zero-width `(SELECT) z` moves them one to the left).
        Refuse("0A000", "pgveil cannot analyse x.* in VALUES", "Name the columns.");
      }
      Lineage l = Expr(item, &scope, ctes, depth);
      if (first) {
        out.names.push_back("column" + std::to_string(i + 1));
        out.cols.push_back(l);
      } else if (i < out.cols.size() && (l.is_protected() || out.cols[i].is_protected())) {
        Lineage t = l.is_protected() ? l : out.cols[i];
        t.kind = Lineage::Kind::kTainted;
        out.cols[i] = t;
      }
      ++i;
    }
    first = false;
  }
  return out;
}

void Walker::FromList(const json& items, Scope* scope, const CteScope* ctes, int depth) {
  for (const auto& item : items) {
    for (auto& si : FromItem(item, scope, ctes, depth)) scope->star.push_back(std::move(si));
  }
}

std::vector<StarItem> Walker::FromItem(const json& item, Scope* scope, const CteScope* ctes,
                                       int depth) {
  std::string_view t = NodeType(item);
  const json& b = NodeBody(item);
  if (t == "RangeVar") {
    Relation(b, scope, ctes, depth);
    return StarOf(scope->entries.back());
  }
  if (t == "RangeSubselect") {
    const bool lateral = b.value("lateral", false);
    // A LATERAL subquery sees the FROM items before it; others only the outer levels.
    Output out = lateral ? Query(At(b, "subquery"), scope, ctes, depth + 1)
                         : Query(At(b, "subquery"), scope->parent, ctes, depth + 1);
    std::string alias = Has(b, "alias") ? Str(At(b, "alias"), "aliasname") : "";
    Entry e = EntryOf(out, alias, "subquery " + alias);
    if (Has(b, "alias") && !RenameColumns(At(b, "alias"), &e)) RefuseRename(e.what);
    scope->entries.push_back(std::move(e));
    return StarOf(scope->entries.back());
  }
  if (t == "JoinExpr") {
    const size_t first_entry = scope->entries.size();
    std::vector<StarItem> left = FromItem(At(b, "larg"), scope, ctes, depth);
    std::vector<StarItem> right = FromItem(At(b, "rarg"), scope, ctes, depth);
    std::vector<StarItem> star;
    std::vector<std::string> using_cols;
    if (b.value("isNatural", false)) {
      // NATURAL: USING the column names both sides have, in the left side's order.
      for (const auto& side : {&left, &right}) {
        for (const auto& si : *side) {
          if (si.open) {
            Refuse("0A000",
                   "pgveil cannot list the columns of a NATURAL JOIN over a system "
                   "catalog or function",
                   "Name the join columns with USING or ON.");
          }
        }
      }
      for (const auto& side : {&left, &right}) {
        for (const auto& si : *side) {
          if (si.name == kUnknownColumnName && si.lineage.is_protected()) {
            Refuse("0A000", "pgveil cannot list the columns of this NATURAL JOIN",
                   "Name the join columns with USING or ON.");
          }
        }
      }
      for (const auto& l : left) {
        for (const auto& r : right) {
          if (l.name == r.name) {
            using_cols.push_back(l.name);
            break;
          }
        }
      }
    } else if (Has(b, "usingClause")) {
      using_cols = Names(At(b, "usingClause"));
    }
    {
      // USING: the merged columns first, once; then the rest of each side.
      auto take = [](std::vector<StarItem>* side, const std::string& col, StarItem* out) {
        for (auto it = side->begin(); it != side->end(); ++it) {
          if (!it->open && it->name == col) {
            *out = *it;
            side->erase(it);
            return true;
          }
        }
        // Otherwise the column is one of a system catalog's or function's, which are not
        // listed: taken from there when nothing on this side is protected.
        const StarItem* open = nullptr;
        for (const auto& si : *side) {
          if (!si.open) continue;
          if (si.lineage.is_protected()) return false;
          open = &si;
        }
        if (open == nullptr) return false;
        *out = StarItem{col, open->lineage, false};
        return true;
      };
      for (const std::string& col : using_cols) {
        StarItem l, r;
        const bool have_l = take(&left, col, &l), have_r = take(&right, col, &r);
        if (!have_l || !have_r) {
          Refuse("0A000", "pgveil cannot resolve the USING column \"" + col + "\"",
                 "Join with ON instead.");
        }
        StarItem merged = l;
        if (l.lineage.is_protected() || r.lineage.is_protected()) {
          const bool same_domain = l.lineage.kind == Lineage::Kind::kColumn &&
                                   r.lineage.kind == Lineage::Kind::kColumn && l.lineage.mask &&
                                   r.lineage.mask && l.lineage.mask->spec == r.lineage.mask->spec &&
                                   l.lineage.mask->filter == policy::FilterUse::kPseudonym;
          if (!same_domain) {
            Use(l.lineage, "JOIN USING");
            Use(r.lineage, "JOIN USING");
          }
          if (!same_domain) {
            // An outer join's merged column may come from either side.
            merged.lineage = l.lineage.is_protected() ? l.lineage : r.lineage;
            merged.lineage.kind = Lineage::Kind::kTainted;
          }
        }
        star.push_back(std::move(merged));
      }
    }
    if (Has(b, "join_using_alias")) {
      // JOIN ... USING (a, b) AS u: u.a and u.b are the merged columns (and u.* all of
      // them). Without the item, a name u would be looked up in outer queries.
      Entry u;
      u.name = Str(At(b, "join_using_alias"), "aliasname");
      u.what = "join " + u.name;
      for (size_t i = 0; i < using_cols.size() && i < star.size(); ++i) {
        u.colnames.push_back(star[i].name);
        u.cols.push_back(star[i].lineage);
        u.has_protected |= star[i].lineage.is_protected();
      }
      scope->entries.push_back(std::move(u));
    }
    for (auto& si : left) star.push_back(std::move(si));
    for (auto& si : right) star.push_back(std::move(si));
    if (Has(b, "quals")) {
      // ON sees the join's own inputs and outer queries, not the FROM items before the
      // join: a name of one of those is looked up outwards, as the server does.
      Scope on;
      on.parent = scope->parent;
      on.entries.assign(scope->entries.begin() + static_cast<std::ptrdiff_t>(first_entry),
                        scope->entries.end());
      Use(Expr(At(b, "quals"), &on, ctes, depth), "JOIN ON");
    }
    if (!Has(b, "alias")) return star;
    // (a JOIN b ...) AS j: the join's columns under the name j.
    Output joined;
    size_t opens = 0;
    for (const auto& si : star) {
      if (si.open) {
        if (!joined.open || si.lineage.is_protected()) joined.open_lineage = si.lineage;
        if (!joined.open) joined.open_at = joined.cols.size();
        joined.open = true;
        ++opens;
      } else {
        joined.names.push_back(si.name);
        joined.cols.push_back(si.lineage);
      }
    }
    const std::string alias = Str(At(b, "alias"), "aliasname");
    // The alias hides the names inside the join (a later FROM item may reuse them).
    scope->entries.erase(scope->entries.begin() + static_cast<std::ptrdiff_t>(first_entry),
                         scope->entries.end());
    if (opens > 1) {
      // Columns between two open ones are at positions pgveil cannot tell.
      bool any_protected = joined.open_lineage.is_protected();
      for (size_t i = joined.open_at; i < joined.cols.size(); ++i) {
        any_protected |= joined.cols[i].is_protected();
      }
      if (any_protected) {
        Refuse("0A000",
               "pgveil cannot list the columns of join " + Str(At(b, "alias"), "aliasname") +
                   " over more than one system catalog or function",
               "Name the columns you need, or leave out the join's alias.");
      }
    }
    Entry e = EntryOf(joined, alias, "join " + alias);
    if (!RenameColumns(At(b, "alias"), &e)) RefuseRename(e.what);
    scope->entries.push_back(std::move(e));
    return StarOf(scope->entries.back());
  }
  if (t == "RangeFunction") {
    // Set-returning functions: their columns are values unless an argument is tainted.
    Entry e;
    e.open = true;
    e.function = true;
    e.what = "a function in FROM";
    // A function in FROM sees the FROM items before it, LATERAL written or not.
    for (const auto& f : At(b, "functions")) {
      for (const auto& part : Arr(NodeBody(f), "items")) {
        if (part.is_null() || part.empty() || NodeType(part) == "List") continue;
        Lineage l = Expr(part, scope, ctes, depth);
        if (l.is_protected()) {
          e.open_lineage = l;
          e.open_lineage.kind = Lineage::Kind::kTainted;
          e.has_protected = true;
        }
      }
    }
    if (Has(b, "alias")) {
      e.name = Str(At(b, "alias"), "aliasname");
      for (const auto& n : Names(Arr(At(b, "alias"), "colnames"))) {
        e.colnames.push_back(n);
        e.cols.push_back(e.open_lineage);
      }
      e.open_at = e.cols.size();  // the named columns are the first ones
    } else {
      // Unaliased: named as PostgreSQL names a result column of its first function
      // (`lower(x)` is lower, `CAST(m.qq AS text)` is qq).
      const json& fn0 = Arr(b, "functions").empty() ? At(b, "functions") : Arr(b, "functions")[0];
      const json& items0 = Arr(NodeBody(fn0), "items");
      if (!items0.empty() && FigureColname(items0[0], &e.name) == 0) e.name = "?column?";
    }
    scope->entries.push_back(std::move(e));
    return StarOf(scope->entries.back());
  }
  if (t == "RangeTableSample") {
    auto star = FromItem(At(b, "relation"), scope, ctes, depth);
    // The arguments see neither the sampled table nor the FROM items before it (they are
    // not LATERAL): only outer queries. They are checked with those names in sight too, so
    // that a name the server reports as unknown is refused rather than sent.
    Scope outer;
    outer.parent = scope->parent;
    for (const Scope* in : {static_cast<const Scope*>(&outer), static_cast<const Scope*>(scope)}) {
      for (const auto& a : Arr(b, "args")) Use(Expr(a, in, ctes, depth), "TABLESAMPLE");
      if (Has(b, "repeatable")) Use(Expr(At(b, "repeatable"), in, ctes, depth), "TABLESAMPLE");
    }
    return star;
  }
  Refuse("0A000", "pgveil cannot analyse this kind of FROM item",
         "Masked sessions may read tables, views, subqueries, WITH queries and functions.");
}

void Walker::Relation(const json& rv, Scope* scope, const CteScope* ctes, int depth) {
  const std::string schema = Str(rv, "schemaname");
  const std::string name = Str(rv, "relname");
  const std::string alias = Has(rv, "alias") ? Str(At(rv, "alias"), "aliasname") : "";
  if (!Str(rv, "catalogname").empty())
    Refuse("0A000", "pgveil cannot analyse cross-database names");
  if (schema.empty() && ctes != nullptr) {
    if (const Output* cte = ctes->Find(name)) {
      Entry e = EntryOf(*cte, alias.empty() ? name : alias, "WITH query " + name);
      if (Has(rv, "alias") && !RenameColumns(At(rv, "alias"), &e)) RefuseRename(e.what);
      scope->entries.push_back(std::move(e));
      return;
    }
    if (ctes->Pending(name)) {
      Refuse(
          "0A000",
          "pgveil cannot analyse a reference to WITH query \"" + name + "\" before its definition",
          "Define WITH queries before the ones that use them.");
    }
  }
  const catalog::Snapshot* snap = policy_.snapshot();
  const catalog::Relation* rel = nullptr;
  if (snap != nullptr && !IsSystemSchema(schema)) {
    if (!schema.empty()) {
      rel = snap->FindRelation(schema, name);
    } else {
      // Unqualified: the name must be unique among the relations pgveil knows (the
      // session's search_path is not visible to pgveil).
      for (const auto& r : snap->relations()) {
        if (r.name != name) continue;
        if (rel != nullptr) {
          Refuse("42501", "relation name \"" + name + "\" is ambiguous for pgveil",
                 "Qualify it with its schema, e.g. " + rel->schema + "." + name + ".");
        }
        rel = &r;
      }
    }
  }
  const bool system_name = IsSystemSchema(schema) || (schema.empty() && name.rfind("pg_", 0) == 0);
  if (rel == nullptr && system_name) {
    if (IsSideChannelRelation(name)) {
      Refuse("42501",
             "masked sessions may not read " + (schema.empty() ? name : schema + "." + name),
             "Statistics, activity and authentication catalogs can reveal protected values.");
    }
    relations_read.insert((schema.empty() ? std::string("pg_catalog") : schema) + "." + name);
    Entry e;
    e.name = alias.empty() ? name : alias;
    e.schema = schema.empty() ? "pg_catalog" : schema;
    e.unaliased_relation = alias.empty();
    e.open = true;
    e.what = name;
    scope->entries.push_back(std::move(e));
    return;
  }
  if (rel == nullptr) {
    unknown_relation = true;
    Refuse(
        "42501",
        "relation \"" + (schema.empty() ? name : schema + "." + name) + "\" is not known to pgveil",
        "Masked sessions may read only relations in pgveil's catalog snapshot; a new "
        "relation is picked up at the next catalog refresh.");
  }
  if (rel->name.rfind("pg_", 0) == 0 && schema.empty()) {
    Refuse("42501", "relation name \"" + name + "\" is ambiguous for pgveil",
           "Qualify it with its schema.");
  }
  Entry e;
  e.name = alias.empty() ? name : alias;
  e.schema = rel->schema;
  e.unaliased_relation = alias.empty();
  e.relkind = rel->kind;
  e.what = Qualified(*rel);
  if (rel->kind == 'v' || rel->kind == 'm') {
    Output view = View(*rel, depth);
    if (view.cols.size() != rel->columns.size() || view.open) {
      Refuse("0A000", "pgveil cannot analyse view " + Qualified(*rel));
    }
    for (size_t i = 0; i < rel->columns.size(); ++i) {
      e.colnames.push_back(rel->columns[i].name);
      e.cols.push_back(view.cols[i]);
      e.has_protected |= view.cols[i].is_protected();
    }
  } else {
    for (const auto& c : rel->columns) {
      Lineage l;
      l.kind = Lineage::Kind::kColumn;
      l.oid = rel->oid;
      l.attnum = c.attnum;
      l.type_oid = c.base_type_oid != 0 ? c.base_type_oid : c.type_oid;
      l.mask = &policy_.ForColumn(rel->oid, c.attnum);
      l.rel = rel;
      l.col = &c;
      e.has_protected |= l.mask->is_protected();
      e.colnames.push_back(c.name);
      e.cols.push_back(std::move(l));
    }
  }
  touches_protected |= e.has_protected;
  relations_read.insert(Qualified(*rel));
  if (Has(rv, "alias") && !RenameColumns(At(rv, "alias"), &e)) RefuseRename(e.what);
  scope->entries.push_back(std::move(e));
}

void Walker::RefuseRename(const std::string& what) {
  Refuse("0A000",
         "pgveil cannot tell which columns of " + what +
             " its column aliases name: they follow a * over a system catalog or function",
         "Name the columns inside the query (AS) instead.");
}

Output Walker::View(const catalog::Relation& rel, int depth) {
  if (rel.view_definition.empty())
    Refuse("0A000", "pgveil has no definition of view " + Qualified(rel));
  PgQueryParseResult r = pg_query_parse(rel.view_definition.c_str());
  std::unique_ptr<PgQueryParseResult, void (*)(PgQueryParseResult*)> guard(
      &r, [](PgQueryParseResult* p) { pg_query_free_parse_result(*p); });
  if (r.error != nullptr)
    Refuse("0A000", "pgveil cannot read the definition of view " + Qualified(rel));
  JsonTree parsed(r.parse_tree);
  const json& tree = parsed.root();
  if (!parsed.ok() || !Has(tree, "stmts") || tree["stmts"].size() != 1) {
    Refuse("0A000", "pgveil cannot read the definition of view " + Qualified(rel));
  }
  // Literals of the view definition are not the session's: no rewriting inside it.
  // The view's own filters and expressions are the DBA's: they are not refused here, but
  // what they compute from protected columns is tainted, and refused where the session
  // uses it.
  std::string_view saved = sql_;
  const bool saved_lenient = lenient_;
  sql_ = {};
  lenient_ = true;
  Output out = Query(At(tree["stmts"][0], "stmt"), nullptr, nullptr, depth + 1);
  sql_ = saved;
  lenient_ = saved_lenient;
  return out;
}

}  // namespace pgveil::guard
