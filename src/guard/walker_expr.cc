// Expressions: the lineage of every value, and the check of every use of a protected
// column against its rule's filter setting.
#include <algorithm>
#include <cctype>

#include "guard/names.h"
#include "guard/scope.h"

namespace pgveil::guard {
namespace {

bool IsComparison(std::string_view op) {
  return op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=";
}
bool IsEquality(std::string_view op) { return op == "=" || op == "<>" || op == "!="; }

std::string Flip(std::string_view op) {
  if (op == "<") return ">";
  if (op == ">") return "<";
  if (op == "<=") return ">=";
  if (op == ">=") return "<=";
  return std::string(op);
}

std::string HintFor(policy::FilterUse f) {
  switch (f) {
    case policy::FilterUse::kAligned:
      return "Its rule allows only comparisons (>=, >, <, <=, BETWEEN) with constants on the "
             "boundaries of its masked groups.";
    case policy::FilterUse::kPseudonym:
      return "Its rule allows only equality or IN with pseudonyms (literals or parameters) and "
             "joins with columns of the same pseudonym domain.";
    default:
      return "Its rule does not allow filtering, sorting, grouping or computing on it; select "
             "the column itself to see its masked value.";
  }
}

// The A_Const of a constant: a literal, or a literal with a cast ('1990-01-01'::date).
const json* ConstantOf(const json& node) {
  std::string_view t = NodeType(node);
  if (t == "A_Const") return NodeBody(node).value("isnull", false) ? nullptr : &NodeBody(node);
  if (t == "TypeCast") return ConstantOf(At(NodeBody(node), "arg"));
  return nullptr;
}

// The parser's name of a type that pseudonym columns have, or nullptr.
const char* TypeName(uint32_t oid) {
  switch (oid) {
    case 20:
      return "int8";
    case 21:
      return "int2";
    case 23:
      return "int4";
    case 25:
      return "text";
    case 1043:
      return "varchar";
    case 1700:
      return "numeric";
    case 2950:
      return "uuid";
    default:
      return nullptr;
  }
}

// True when a cast to type `t` (the parser's name, without a length) reads a constant or
// parameter the way a column of type `column_type` does, so that a value pgveil finds on
// a masking boundary stays that value: the column's own type, or for integers and
// numeric another of those. Anything else may change the value before the comparison
// sees it (`'12000'::varchar(4)::int` is 1200, `8000::bit(12)::int` is 3904).
bool BoundaryTypeName(std::string_view t, uint32_t column_type) {
  switch (column_type) {
    case 20:
    case 21:
    case 23:
    case 1700:
      return t == "int2" || t == "int4" || t == "int8" || t == "numeric";
    case 700:
      return t == "float4";
    case 701:
      return t == "float8";
    case 1082:
      return t == "date";
    case 1114:
      return t == "timestamp";
    case 1184:
      return t == "timestamptz";
    default:
      return false;
  }
}

// The type's name when it is one of pg_catalog's, lengths and bounds aside.
std::string BuiltinTypeName(const json& type_name) {
  auto names = Names(Arr(type_name, "names"));
  if (names.empty() || (names.size() > 1 && (names.size() > 2 || names[0] != "pg_catalog"))) {
    return "";
  }
  return names.back();
}

// The name of the type of a cast (a TypeName node) as the parser has it (`bigint` is
// "int8"); "" when the cast has a length or array bounds, or names a type of a schema
// other than pg_catalog (a domain could be anything).
std::string PlainTypeName(const json& type_name) {
  if (Has(type_name, "typmods") || Has(type_name, "arrayBounds")) return "";
  return BuiltinTypeName(type_name);
}

// "int8[]" for a cast to a one-dimensional array of a plain type (`bigint[]`,
// `int8[3]`: the server ignores the bound), "" otherwise.
std::string ArrayCastName(const json& type_name) {
  if (Arr(type_name, "arrayBounds").size() != 1 || Has(type_name, "typmods")) return "";
  std::string t = BuiltinTypeName(type_name);
  return t.empty() ? "" : t + "[]";
}

// n for a parameter `$n`, also under a cast (`$1::int`); 0 for anything else.
int ParamNumber(const json& node) {
  std::string_view t = NodeType(node);
  if (t == "ParamRef") return NodeBody(node).value("number", 0);
  if (t == "TypeCast") return ParamNumber(At(NodeBody(node), "arg"));
  return 0;
}

// The text of a constant from the parse tree. (The tree loses the value of negative
// integers: prefer the statement's own text, see Walker::LiteralText.)
std::string TreeConstantText(const json& c) {
  if (Has(c, "ival")) return std::to_string(At(c, "ival").value("ival", int64_t{0}));
  if (Has(c, "fval")) return Str(At(c, "fval"), "fval");
  if (Has(c, "sval")) return Str(At(c, "sval"), "sval");
  if (Has(c, "bsval")) return Str(At(c, "bsval"), "bsval");
  if (Has(c, "boolval")) return At(c, "boolval").value("boolval", false) ? "true" : "false";
  return "";
}

// True when a string constant that ends before `pos` goes on in another '...' after
// whitespace with a newline (`'80'<newline>'00'` is '8000' to PostgreSQL's lexer): the
// literal's text is then not the constant's value.
bool ContinuesOnNextLine(std::string_view sql, size_t pos) {
  bool newline = false;
  size_t i = pos;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\n' || c == '\r') {
      newline = true;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n' && sql[i] != '\r') ++i;
    } else {
      break;
    }
  }
  return newline && i < sql.size() && sql[i] == '\'';
}

}  // namespace

std::string CastTypeName(const json& type_name) {
  std::string t = PlainTypeName(type_name);
  if (t.empty()) t = ArrayCastName(type_name);
  return t.empty() ? std::string(1, '\x01') : t;
}

bool CastKeepsValue(const ParamReversal& p, std::string_view type_name) {
  if (type_name.empty()) return true;
  if (p.aligned_op.empty()) {
    const char* own = TypeName(p.type_oid);
    return own != nullptr && type_name == (p.array ? std::string(own) + "[]" : std::string(own));
  }
  return BoundaryTypeName(type_name, p.type_oid);
}

bool LiteralSpan(std::string_view sql, size_t pos, size_t* len, bool* quoted) {
  if (pos >= sql.size()) return false;
  size_t i = pos;
  if (sql[i] == '\'') {
    ++i;
    while (i < sql.size()) {
      if (sql[i] == '\'') {
        if (i + 1 < sql.size() && sql[i + 1] == '\'') {
          i += 2;
          continue;
        }
        if (ContinuesOnNextLine(sql, i + 1)) return false;
        *len = i + 1 - pos;
        *quoted = true;
        return true;
      }
      ++i;
    }
    return false;
  }
  if (sql[i] == '-' || sql[i] == '+') ++i;
  size_t digits = 0;
  while (i < sql.size() && sql[i] >= '0' && sql[i] <= '9') {
    ++i;
    ++digits;
  }
  if (digits == 0) return false;
  if (i < sql.size() && (sql[i] == '.' || sql[i] == 'e' || sql[i] == 'E' || sql[i] == '_')) {
    return false;
  }
  *len = i - pos;
  *quoted = false;
  return true;
}

Lineage Walker::Use(const Lineage& l, std::string_view construct) {
  if (!l.is_protected()) return Lineage{};
  // A tainted value keeps its column's filter: from an `allow` column it may be used
  // anywhere; from another (computed inside a view) it may not.
  if (l.mask->filter == policy::FilterUse::kAllow || lenient_) {
    Lineage t = l;
    t.kind = Lineage::Kind::kTainted;
    return t;
  }
  Refuse("42501",
         "protected column " + l.column() + " may not be used in " + std::string(construct),
         HintFor(l.mask->filter));
}

Lineage Walker::UseEquality(const Lineage& l, std::string_view construct) {
  if (l.kind == Lineage::Kind::kColumn && l.is_protected() &&
      l.mask->filter == policy::FilterUse::kPseudonym) {
    return Lineage{};
  }
  return Use(l, construct);
}

void Walker::Assign(const Lineage& value, const Lineage& target) {
  if (!value.is_protected()) {
    // Anything but a pseudonym (a constant or parameter, translated where it is written)
    // or a column of the same domain would be stored as a real id, and reading it back
    // would tell the pseudonym of a real id of the session's choosing.
    if (target.is_protected() && target.mask->filter == policy::FilterUse::kPseudonym) {
      Refuse("42501", "only a pseudonym may be written into " + target.column(),
             "Write it as a constant or parameter of its own (INSERT ... VALUES, the select "
             "list of INSERT ... SELECT, UPDATE ... SET), or copy a column of the same domain.");
    }
    return;
  }
  if (value.kind == Lineage::Kind::kColumn && target.mask != nullptr &&
      value.mask->spec == target.mask->spec && value.mask->action == target.mask->action) {
    return;  // e.g. a member id into a member id: the same domain
  }
  Refuse("42501",
         "protected column " + value.column() + " may not be written into " +
             (target.column().empty() ? std::string("another column") : target.column()),
         "Masked sessions may copy a protected value only into a column with the same rule.");
}

bool Walker::TranslatePseudonym(const json& node, const Lineage& column) {
  return TranslatePseudonymValue(node, column, /*array=*/false);
}

bool Walker::TranslatePseudonymArray(const json& node, const Lineage& column) {
  return TranslatePseudonymValue(node, column, /*array=*/true);
}

bool Walker::TranslatePseudonymValue(const json& node, const Lineage& column, bool array) {
  // A cast around the pseudonym must keep the column's type (or, for an array, its array
  // type): the real value takes its place, and a narrower type (smallint, numeric(3,0))
  // would fail or not by its size.
  const char* own = TypeName(column.type_oid);
  const std::string own_name = own == nullptr ? "" : array ? std::string(own) + "[]" : own;
  const json* inner = &node;
  for (; NodeType(*inner) == "TypeCast"; inner = &At(NodeBody(*inner), "arg")) {
    const json& type_name = At(NodeBody(*inner), "typeName");
    const std::string cast = array ? ArrayCastName(type_name) : PlainTypeName(type_name);
    if (own_name.empty() || cast != own_name) {
      Refuse("42501",
             "a pseudonym compared with column " + column.column() +
                 " may be cast only to the column's own type",
             array ? "Write the array without a cast, or cast it to the column's array type."
                   : "Write the pseudonym as a plain literal.");
    }
  }
  std::string_view t = NodeType(*inner);
  const bool param = t == "ParamRef";
  const json* c = param ? nullptr : ConstantOf(node);
  if (!param && c == nullptr) return false;
  if (column.mask->action != policy::Action::kTransform || !column.mask->transform->Reversible()) {
    Refuse("42501",
           "column " + column.column() + " holds one-way pseudonyms that cannot be compared",
           "Compare it with another column of the same domain instead.");
  }
  if (param) {
    if (array && ArrayTypeOid(column.type_oid) == 0) {
      Refuse("42501", "column " + column.column() + " may not be compared with an array");
    }
    int n = NodeBody(*inner).value("number", 0);
    if (n < 1) Refuse("0A000", "pgveil cannot analyse this parameter");
    bool known = false;
    for (const auto& p : params) {
      if (p.index != n - 1) continue;
      if (p.transform != column.mask->transform || !p.aligned_op.empty() || p.array != array ||
          p.type_oid != column.type_oid) {
        Refuse("42501", "parameter $" + std::to_string(n) +
                            " is compared with columns of different pseudonym domains or types");
      }
      known = true;
    }
    // Once per parameter: each entry becomes one edit of an EXECUTE argument, and two
    // edits of one argument would cut the statement text after it.
    if (!known) {
      params.push_back(
          {n - 1, column.type_oid, column.mask->transform, column.column(), "", array});
    }
    ConsumeParam(node);
    return true;
  }
  if (sql_.empty()) return true;  // a literal of a view's definition: a real value
  const size_t pos = c->value("location", size_t{0});
  size_t len = 0;
  bool quoted = false;
  if (!LiteralSpan(sql_, pos, &len, &quoted)) {
    Refuse("42501", "a pseudonym compared with column " + column.column() +
                        " must be a plain literal or a parameter");
  }
  std::string real;
  Status st;
  if (array) {
    ParamReversal rev{0, column.type_oid, column.mask->transform, column.column(), "", true};
    st = quoted ? ReversePseudonymArray(rev, mask::Format::kText, LiteralText(*c), &real)
                : InvalidArgument("not an array");
  } else {
    st = column.mask->transform->Reverse(column.type_oid, mask::Format::kText, LiteralText(*c),
                                         &real);
  }
  if (!st.ok()) {
    Refuse("42501",
           "a value compared with column " + column.column() + " is not a pseudonym of its domain",
           "Use the identifiers pgveil shows to this login.");
  }
  std::string text = quoted ? "'" + real + "'" : real;
  // A literal walked more than once (the arms of a recursive WITH query are) is
  // rewritten once: a second replacement of the same span would cut the text after it.
  for (const auto& rw : rewrites) {
    if (rw.pos != pos) continue;
    if (rw.len != len || rw.text != text) {
      Refuse("0A000",
             "pgveil cannot translate a pseudonym compared with columns of different "
             "domains");
    }
    return true;
  }
  rewrites.push_back({pos, len, std::move(text)});
  return true;
}

void Walker::PseudonymItems(const json& items, const Lineage& col, std::string_view construct,
                            const Scope* scope, const CteScope* ctes, int depth) {
  for (const auto& item : items) {
    Lineage il = Expr(item, scope, ctes, depth);
    if (il.is_protected()) {
      if (il.kind == Lineage::Kind::kColumn && il.mask->spec == col.mask->spec) continue;
      Use(il, construct);
    }
    if (!TranslatePseudonym(item, col)) {
      Refuse("42501", "protected column " + col.column() + " may not be compared this way",
             HintFor(col.mask->filter));
    }
  }
}

void Walker::ConsumeParam(const json& node) {
  const json* n = &node;
  while (NodeType(*n) == "TypeCast") n = &At(NodeBody(*n), "arg");
  if (NodeType(*n) == "ParamRef")
    consumed_params_.insert(NodeBody(*n).value("location", size_t{0}));
}

namespace {

// Every ParamRef under `node` as (number, location); PREPARE's statements are skipped.
void CollectParams(const json& node, std::vector<std::pair<int, size_t>>* out) {
  if (node.is_object()) {
    std::string_view t = NodeType(node);
    if (t == "PrepareStmt") return;
    if (t == "ParamRef") {
      const json& p = NodeBody(node);
      out->emplace_back(p.value("number", 0), p.value("location", size_t{0}));
      return;
    }
  }
  for (const auto& item : node) CollectParams(item, out);  // array items, object values
}

}  // namespace

void Walker::CheckParamUses(const json& tree) {
  if (params.empty()) return;
  std::vector<std::pair<int, size_t>> uses;
  if (NodeType(tree) == "PrepareStmt") {
    CollectParams(At(NodeBody(tree), "query"), &uses);
  } else {
    CollectParams(tree, &uses);
  }
  for (const auto& [number, location] : uses) {
    for (const auto& p : params) {
      if (p.index != number - 1 || consumed_params_.count(location) != 0) continue;
      Refuse("42501",
             "parameter $" + std::to_string(number) + " stands for " +
                 (p.aligned_op.empty() ? "a pseudonym of " : "a masking boundary of ") + p.column +
                 " and is used elsewhere in the statement",
             "Use a separate parameter for each comparison with a protected column, and none "
             "anywhere else.");
    }
  }
}

std::string Walker::LiteralText(const json& c) {
  size_t len = 0;
  bool quoted = false;
  const size_t pos = c.value("location", size_t{0});
  if (sql_.empty() || !LiteralSpan(sql_, pos, &len, &quoted)) return TreeConstantText(c);
  if (!quoted) return std::string(sql_.substr(pos, len));
  std::string out;
  for (size_t i = pos + 1; i + 1 < pos + len; ++i) {
    out.push_back(sql_[i]);
    if (sql_[i] == '\'') ++i;  // '' is one quote
  }
  return out;
}

bool Walker::Aligned(const Lineage& col, std::string_view op, const json& constant) {
  if (col.mask->action != policy::Action::kTransform) return false;
  for (const json* n = &constant; NodeType(*n) == "TypeCast"; n = &At(NodeBody(*n), "arg")) {
    if (!BoundaryTypeName(PlainTypeName(At(NodeBody(*n), "typeName")), col.type_oid)) return false;
  }
  if (int n = ParamNumber(constant); n > 0) {
    // Checked when its value is bound (Bind, or EXECUTE's arguments).
    for (const auto& p : params) {
      if (p.index == n - 1 && p.aligned_op.empty()) {
        Refuse("42501", "parameter $" + std::to_string(n) +
                            " is used both as a pseudonym and in a comparison with " +
                            col.column());
      }
    }
    bool known = false;
    for (const auto& p : params) {
      known |= p.index == n - 1 && p.transform == col.mask->transform &&
               p.type_oid == col.type_oid && p.aligned_op == op;
    }
    if (!known) {
      params.push_back({n - 1, col.type_oid, col.mask->transform, col.column(), std::string(op)});
    }
    ConsumeParam(constant);
    return true;
  }
  const json* c = ConstantOf(constant);
  if (c == nullptr) return false;
  dated |= col.mask->transform->BoundariesMove();
  return col.mask->transform->AlignedComparison(col.type_oid, op, LiteralText(*c));
}

Lineage Walker::ColumnRef(const json& c, const Scope* scope) {
  return ColumnRefNames(Names(At(c, "fields")), scope);
}

Lineage Walker::ColumnRefNames(const std::vector<std::string>& f, const Scope* scope) {
  if (f.empty()) Refuse("0A000", "pgveil cannot analyse this column reference");
  if (f.back() == "*") {
    if (f.size() == 1) {
      for (const auto& e : scope->entries) {
        if (e.has_protected) WholeRow("", e.name, scope);
      }
      return Lineage{};
    }
    return WholeRow(SchemaOfRef(f), f[f.size() - 2], scope);
  }
  const std::string& col = f.back();
  if (f.size() == 1) {
    for (const Scope* s = scope; s != nullptr; s = s->parent) {
      const Entry* open = nullptr;
      for (const auto& e : s->entries) {
        for (size_t k = 0; k < e.colnames.size(); ++k) {
          if (e.colnames[k] == col) return Touch(e.cols[k]);
        }
        if (e.open && open == nullptr) open = &e;
      }
      for (const auto& e : s->entries) {
        for (size_t k = 0; k < e.colnames.size(); ++k) {
          if (e.colnames[k] == kUnknownColumnName && e.cols[k].is_protected()) {
            Refuse("42501", "column reference \"" + col + "\" is ambiguous for pgveil",
                   "Name the columns of subqueries (AS) and qualify the column.");
          }
        }
      }
      if (open != nullptr) {
        // The name may be a column of the system catalog or function, or of an outer level.
        for (const Scope* o = s->parent; o != nullptr; o = o->parent) {
          for (const auto& e : o->entries) {
            for (size_t k = 0; k < e.colnames.size(); ++k) {
              if (e.colnames[k] == col && e.cols[k].is_protected()) {
                Refuse("42501", "column reference \"" + col + "\" is ambiguous for pgveil",
                       "Qualify it with its table alias.");
              }
            }
          }
        }
        return open->open_lineage;
      }
    }
    // Not a column of any FROM item: a whole-row reference, or a system column of one.
    bool whole_row = false;
    for (const Scope* s = scope; s != nullptr && !whole_row; s = s->parent) {
      for (const auto& e : s->entries) whole_row |= e.name == col;
    }
    if (!whole_row) {
      for (const Scope* s = scope; s != nullptr; s = s->parent) {
        for (const auto& e : s->entries) {
          if (e.has_protected) RefuseUnknownColumn(col, e);
        }
      }
    }
    return WholeRow("", col, scope);
  }
  const std::string& rel = f[f.size() - 2];
  const std::string schema = SchemaOfRef(f);
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    for (const auto& e : s->entries) {
      if (!RefersTo(e, schema, rel)) continue;
      for (size_t k = 0; k < e.colnames.size(); ++k) {
        if (e.colnames[k] == col) return Touch(e.cols[k]);
      }
      if (e.open) {
        // A function's single value is the column named after it (or its alias) when
        // no column aliases rename it; any other name may be a function of the value.
        if (e.function && !(col == e.name && e.colnames.empty())) AttributeNotation(col);
        return e.open_lineage;
      }
      // Not a column pgveil knows: a system column (ctid, xmin, tableoid, ...) or a
      // function in attribute notation (`m.row_to_json` is row_to_json(m)).
      if (e.has_protected) RefuseUnknownColumn(e.name + "." + col, e);
      return Lineage{};
    }
  }
  // `x.y` where x is a column of composite type: a field of that column.
  Lineage base = ColumnRefNames({rel}, scope);
  return Use(base, "a field selection");
}

void Walker::AttributeNotation(const std::string& name) {
  const FunctionClass c = ClassifyFunction("", name);
  if (c == FunctionClass::kAllowed || c == FunctionClass::kCount || IsResultFieldName(name)) {
    return;
  }
  Refuse("42501",
         "\"" + name +
             "\" may be a function called in attribute notation, which is not "
             "available to masked sessions",
         "PostgreSQL reads t.f and (expression).f as f(t) when f is no column or field; call "
         "allowed functions as f(t), and name fields of composite values that pgveil knows.");
}

void Walker::RefuseUnknownColumn(const std::string& name, const Entry& e) {
  Refuse("42501",
         "\"" + name + "\" is not a column of " + e.what +
             " that pgveil knows, and it has protected columns",
         "Masked sessions may not use system columns (ctid, xmin, tableoid, ...) or a "
         "function in attribute notation (t.f for f(t)) on such relations; name the "
         "columns you need.");
}

bool Walker::NamesRows(const std::string& schema, const std::string& name, const Scope* scope) {
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    for (const auto& e : s->entries) {
      if (RefersTo(e, schema, name)) return !e.function;
    }
  }
  return false;
}

Lineage Walker::WholeRow(const std::string& schema, const std::string& name, const Scope* scope) {
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    for (const auto& e : s->entries) {
      if (!RefersTo(e, schema, name)) continue;
      if (e.has_protected) {
        Refuse("42501",
               "a whole-row reference to " + e.what + " would reveal its protected columns",
               "Name the columns you need.");
      }
      return Lineage{};
    }
  }
  // Not a FROM item pgveil knows. The server reports it, unless it names an item
  // differently from pgveil: with protected columns in sight, that could be their value.
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    for (const auto& e : s->entries) {
      if (e.has_protected) {
        Refuse("0A000", "pgveil cannot resolve this whole-row reference",
               "Give the FROM item an alias and refer to it by that alias.");
      }
    }
  }
  return Lineage{};
}

Lineage Walker::Expr(const json& node, const Scope* scope, const CteScope* ctes, int depth) {
  if (depth > 64) Refuse("0A000", "the statement nests too deeply for pgveil to analyse");
  std::string_view t = NodeType(node);
  if (t.empty()) return Lineage{};
  const json& b = NodeBody(node);
  auto sub = [&](const json& n) { return Expr(n, scope, ctes, depth + 1); };
  auto use_all = [&](const json& list, std::string_view construct) {
    Lineage r;
    if (!list.is_array()) return r;
    for (const auto& n : list) {
      Lineage l = Use(sub(n), construct);
      if (l.kind == Lineage::Kind::kTainted) r = l;
    }
    return r;
  };
  if (t == "ColumnRef") return ColumnRef(b, scope);
  if (t == "A_Const" || t == "ParamRef" || t == "SQLValueFunction" || t == "SetToDefault" ||
      t == "CurrentOfExpr") {
    return Lineage{};
  }
  if (t == "TypeCast") {
    Lineage a = sub(At(b, "arg"));
    auto names = Names(Arr(At(b, "typeName"), "names"));
    const std::string tname = names.empty() ? "" : names.back();
    // Only a whole-value cast to text: a length (varchar(5), char(n)) cuts the value
    // before its mask would see it, and a type of another schema may be a domain.
    const std::string plain = PlainTypeName(At(b, "typeName"));
    const bool textlike = plain == "text" || plain == "varchar" || plain == "bpchar";
    if (a.kind == Lineage::Kind::kColumn && a.is_protected() && textlike) {
      a.kind = Lineage::Kind::kCastText;
      return a;
    }
    return Use(a, "a cast to " + (tname.empty() ? std::string("another type") : tname));
  }
  if (t == "FuncCall") return FuncCall(b, scope, ctes, depth);
  if (t == "A_Expr") return AExpr(b, scope, ctes, depth);
  if (t == "SubLink") return SubLink(b, scope, ctes, depth);
  if (t == "BoolExpr") return use_all(At(b, "args"), "a boolean expression");
  if (t == "NullTest") return Use(sub(At(b, "arg")), "IS NULL");
  if (t == "BooleanTest") return Use(sub(At(b, "arg")), "IS TRUE / IS FALSE");
  if (t == "CaseExpr") {
    Lineage r;
    if (Has(b, "arg")) r = Use(sub(At(b, "arg")), "CASE");
    for (const auto& w : Arr(b, "args")) {
      const json& cw = NodeBody(w);
      Use(sub(At(cw, "expr")), "CASE WHEN");
      Lineage l = Use(sub(At(cw, "result")), "a CASE result");
      if (l.kind == Lineage::Kind::kTainted) r = l;
    }
    if (Has(b, "defresult")) {
      Lineage l = Use(sub(At(b, "defresult")), "a CASE result");
      if (l.kind == Lineage::Kind::kTainted) r = l;
    }
    return r;
  }
  if (t == "CoalesceExpr") return use_all(At(b, "args"), "COALESCE");
  if (t == "MinMaxExpr") return use_all(At(b, "args"), "GREATEST / LEAST");
  if (t == "RowExpr") {
    for (const auto& a : Arr(b, "args")) {
      if (IsStarItem(a)) {
        Refuse("0A000", "pgveil cannot analyse x.* in a row constructor",
               "Name the columns: ROW(x.a, x.b).");
      }
    }
    return use_all(At(b, "args"), "a row constructor");
  }
  if (t == "A_ArrayExpr") return use_all(Arr(b, "elements"), "an array");
  if (t == "GroupingFunc") return use_all(At(b, "args"), "GROUPING");
  if (t == "CollateClause") return Use(sub(At(b, "arg")), "COLLATE");
  if (t == "NamedArgExpr") return sub(At(b, "arg"));
  if (t == "A_Indirection") {
    Lineage r = Use(sub(At(b, "arg")), "a subscript or field selection");
    // `(t).f` for a FROM item t with a column f is that column; any other `.f` may be
    // f(value), a function call in attribute notation.
    const Entry* item = nullptr;
    if (NodeType(At(b, "arg")) == "ColumnRef") {
      auto f = Names(At(NodeBody(At(b, "arg")), "fields"));
      const bool star = f.size() == 2 && f[1] == "*";
      if (star) f.pop_back();
      // A bare name is a column first (of any level, or of a catalog or function whose
      // columns pgveil does not list), and a FROM item only when no column has it.
      bool column = false;
      for (const Scope* s = scope; s != nullptr && !star && f.size() == 1; s = s->parent) {
        for (const auto& e : s->entries) {
          column |=
              e.open || std::find(e.colnames.begin(), e.colnames.end(), f[0]) != e.colnames.end();
        }
      }
      for (const Scope* s = scope; s != nullptr && item == nullptr && f.size() == 1 && !column;
           s = s->parent) {
        for (const auto& e : s->entries) {
          if (e.name == f[0]) item = &e;
        }
      }
    }
    bool first = true;
    for (const auto& ind : Arr(b, "indirection")) {
      if (NodeType(ind) == "String") {
        const std::string field = Str(NodeBody(ind), "sval");
        const bool column =
            first && item != nullptr && !item->function &&
            std::find(item->colnames.begin(), item->colnames.end(), field) != item->colnames.end();
        if (!column) AttributeNotation(field);
      }
      first = false;
      if (NodeType(ind) == "A_Indices") {
        const json& ix = NodeBody(ind);
        if (Has(ix, "lidx")) Use(sub(At(ix, "lidx")), "a subscript");
        if (Has(ix, "uidx")) Use(sub(At(ix, "uidx")), "a subscript");
      } else if (NodeType(ind) == "A_Star") {
        // `(expr).*` is expanded into one value per field wherever a list is made (a
        // select list, VALUES, ROW(...)): the walk would count one value where the server
        // has several, and pair the others with the wrong columns (an INSERT's targets).
        Refuse("0A000", "pgveil cannot analyse (expression).*",
               "Select the fields by name: (expression).field.");
      }
    }
    return r;
  }
  if (t == "XmlExpr") {
    Lineage r = use_all(Arr(b, "args"), "an XML expression");
    Lineage n = use_all(Arr(b, "named_args"), "an XML expression");
    return r.kind == Lineage::Kind::kTainted ? r : n;
  }
  if (t == "ResTarget") return sub(At(b, "val"));  // XML named arguments
  if (t == "XmlSerialize") return Use(sub(At(b, "expr")), "XMLSERIALIZE");
  Refuse("0A000", "pgveil cannot analyse " + std::string(t) + " expressions");
}

Lineage Walker::FuncCall(const json& b, const Scope* scope, const CteScope* ctes, int depth) {
  auto names = Names(At(b, "funcname"));
  const std::string name = names.empty() ? "" : names.back();
  const std::string schema = names.size() > 1 ? names[names.size() - 2] : "";
  const std::string shown = schema.empty() ? name : schema + "." + name;
  auto sub = [&](const json& n) { return Expr(n, scope, ctes, depth + 1); };
  if (name == "set_config" && (schema.empty() || schema == "pg_catalog")) {
    // Served for a session setting masked sessions may SET anyway, named by a constant.
    const json& a = Arr(b, "args");
    const json* c = a.empty() ? nullptr : ConstantOf(a[0]);
    const std::string setting = c ? Lower(LiteralText(*c)) : "";
    if (c == nullptr || ClassifySetting(setting) != SettingClass::kAllowed) {
      Refuse("42501", "set_config is available to masked sessions only for session settings",
             "Name the setting with a constant, e.g. set_config('application_name', ...).");
    }
    if (ValueChecked(setting)) {
      const json* v = a.size() > 1 ? ConstantOf(a[1]) : nullptr;
      if (v == nullptr) {
        Refuse("42501", "set_config of " + setting + " is available only with a constant value",
               "Give the value as a constant.");
      }
      if (auto r = CheckSettingValue(setting, LiteralText(*v))) {
        Refuse("42501", r->message, r->hint);
      }
    }
  } else
    switch (ClassifyFunction(schema, name)) {
      case FunctionClass::kUnknown:
        Refuse("42501", "function " + shown + " is not available to masked sessions",
               "Masked sessions may call built-in functions that compute only from their "
               "arguments.");
      case FunctionClass::kRefused:
        Refuse("42501", "function " + shown + " is not available to masked sessions",
               "It reads data or runs SQL around pgveil's checks.");
      case FunctionClass::kNoProtected:
        uses_timing_or_notify = true;
        break;
      default:
        break;
    }
  if (Has(b, "agg_filter")) Use(sub(At(b, "agg_filter")), "FILTER");
  if (Has(b, "agg_order")) Sort(At(b, "agg_order"), Output{}, scope, ctes, depth);
  if (Has(b, "over")) {
    const json& w = At(b, "over");
    for (const auto& p : Arr(w, "partitionClause")) {
      Use(sub(p), "PARTITION BY");  // sorted by the real values, even for a pseudonym
    }
    if (Has(w, "orderClause")) Sort(At(w, "orderClause"), Output{}, scope, ctes, depth);
    if (Has(w, "startOffset")) Use(sub(At(w, "startOffset")), "a window frame");
    if (Has(w, "endOffset")) Use(sub(At(w, "endOffset")), "a window frame");
  }
  const json& args = Arr(b, "args");
  if (name == "count" && (schema.empty() || schema == "pg_catalog")) {
    for (const auto& a : args) {
      if (!b.value("agg_distinct", false) && NodeType(a) == "ColumnRef") {
        // count(t.*): the rows of t that take part (NULL only where an outer join
        // found none), whatever their values. Not for a function in FROM: when it
        // returns one value, t.* is that value, and counts where it is not NULL.
        const auto f = Names(Arr(NodeBody(a), "fields"));
        if (f.size() >= 2 && f.back() == "*" && NamesRows(SchemaOfRef(f), f[f.size() - 2], scope)) {
          continue;
        }
      }
      Lineage l = sub(a);
      if (b.value("agg_distinct", false)) {
        UseEquality(l, "count(DISTINCT)");
      } else if ((l.kind != Lineage::Kind::kColumn && l.kind != Lineage::Kind::kCastText) ||
                 (l.is_protected() && l.mask->action != policy::Action::kTransform)) {
        // count(col) tells how many values are not NULL: what a transformed column
        // shows anyway, but not one masked to NULL.
        Use(l, "count()");
      }
    }
    return Lineage{};
  }
  Lineage r;
  for (const auto& a : args) {
    Lineage l = Use(sub(a), "function " + shown);
    if (l.kind == Lineage::Kind::kTainted) r = l;
  }
  if (b.value("agg_distinct", false) && r.kind == Lineage::Kind::kTainted) {
    UseEquality(r, "DISTINCT");
  }
  return r;
}

Lineage Walker::AExpr(const json& b, const Scope* scope, const CteScope* ctes, int depth) {
  const std::string kind = Str(b, "kind");
  auto names = Names(Arr(b, "name"));
  const std::string op = names.empty() ? "" : names.back();
  auto sub = [&](const json& n) { return Expr(n, scope, ctes, depth + 1); };
  const bool has_l = Has(b, "lexpr"), has_r = Has(b, "rexpr");

  auto compare = [&](const std::string& cmp) -> Lineage {
    Lineage l = sub(At(b, "lexpr"));
    Lineage r = sub(At(b, "rexpr"));
    const bool lp = l.is_protected(), rp = r.is_protected();
    if (!lp && !rp) return Lineage{};
    if (lp && rp) {
      if (l.kind == Lineage::Kind::kColumn && r.kind == Lineage::Kind::kColumn &&
          l.mask->filter == policy::FilterUse::kPseudonym && l.mask->spec == r.mask->spec &&
          IsEquality(cmp)) {
        return Lineage{};
      }
      Lineage a = Use(l, "operator " + op);
      Lineage c = Use(r, "operator " + op);
      return a.kind == Lineage::Kind::kTainted ? a : c;
    }
    const Lineage& p = lp ? l : r;
    if (lenient_) return Use(p, "operator " + op);
    const json& other = lp ? At(b, "rexpr") : At(b, "lexpr");
    const std::string pop = lp ? cmp : Flip(cmp);
    if (p.kind == Lineage::Kind::kColumn) {
      switch (p.mask->filter) {
        case policy::FilterUse::kPseudonym:
          if (IsEquality(pop) && TranslatePseudonym(other, p)) return Lineage{};
          Refuse("42501", "protected column " + p.column() + " may not be compared this way",
                 HintFor(p.mask->filter));
        case policy::FilterUse::kAligned:
          if ((pop == "<" || pop == "<=" || pop == ">" || pop == ">=") && Aligned(p, pop, other)) {
            return Lineage{};
          }
          Refuse("42501",
                 "protected column " + p.column() +
                     " may only be compared with constants on its masking boundaries",
                 HintFor(p.mask->filter));
        default:
          break;
      }
    }
    return Use(p, "operator " + op);
  };

  if ((kind == "AEXPR_OP" && has_l && has_r && IsComparison(op))) return compare(op);
  if ((kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") && has_l && has_r) {
    return compare("=");
  }
  if (kind == "AEXPR_IN") {
    Lineage l = sub(At(b, "lexpr"));
    const json& items = Arr(NodeBody(At(b, "rexpr")), "items");
    if (l.kind == Lineage::Kind::kColumn && l.is_protected() && !lenient_ &&
        l.mask->filter == policy::FilterUse::kPseudonym) {
      PseudonymItems(items, l, "IN", scope, ctes, depth + 1);
      return Lineage{};
    }
    Lineage r = Use(l, op == "=" ? "IN" : "NOT IN");
    for (const auto& item : items) {
      Lineage il = Use(sub(item), "IN");
      if (il.kind == Lineage::Kind::kTainted) r = il;
    }
    return r;
  }
  if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
    Lineage l = sub(At(b, "lexpr"));
    const json& items = Arr(NodeBody(At(b, "rexpr")), "items");
    if (l.kind == Lineage::Kind::kColumn && l.is_protected() && !lenient_ &&
        l.mask->filter == policy::FilterUse::kAligned) {
      if (items.size() == 2 && Aligned(l, ">=", items[0]) && Aligned(l, "<=", items[1])) {
        return Lineage{};
      }
      Refuse("42501",
             "protected column " + l.column() +
                 " may only be compared with constants on its masking boundaries",
             HintFor(l.mask->filter));
    }
    Lineage r = Use(l, "BETWEEN");
    for (const auto& item : items) {
      Lineage il = Use(sub(item), "BETWEEN");
      if (il.kind == Lineage::Kind::kTainted) r = il;
    }
    return r;
  }
  if (((kind == "AEXPR_OP_ANY" && op == "=") || (kind == "AEXPR_OP_ALL" && op == "<>")) && has_l &&
      has_r) {
    // `id = ANY(ARRAY[...])`, `id = ANY($1)`, `id = ANY('{...}')` and the `<> ALL` forms:
    // every element turned back like a pseudonym compared on its own.
    Lineage l = sub(At(b, "lexpr"));
    const json& arr = At(b, "rexpr");
    if (l.kind == Lineage::Kind::kColumn && l.is_protected() && !lenient_ &&
        l.mask->filter == policy::FilterUse::kPseudonym) {
      const json* bare = &arr;
      while (NodeType(*bare) == "TypeCast") bare = &At(NodeBody(*bare), "arg");
      if (NodeType(*bare) == "A_ArrayExpr") {
        // ARRAY[...]::bigint[]: a cast of the whole array only to the column's array type,
        // which leaves every element's value as PseudonymItems checks it.
        const char* own = TypeName(l.type_oid);
        for (const json* c = &arr; c != bare; c = &At(NodeBody(*c), "arg")) {
          if (own == nullptr ||
              ArrayCastName(At(NodeBody(*c), "typeName")) != std::string(own) + "[]") {
            Refuse("42501",
                   "an array of pseudonyms compared with column " + l.column() +
                       " may be cast only to the column's array type",
                   "Write the array without a cast, or cast it to the column's array type.");
          }
        }
        PseudonymItems(Arr(NodeBody(*bare), "elements"), l, "ANY", scope, ctes, depth + 1);
        return Lineage{};
      }
      const bool ok = (NodeType(*bare) == "ParamRef" || NodeType(*bare) == "A_Const") &&
                      TranslatePseudonymArray(arr, l);
      if (!ok) {
        Refuse("42501", "protected column " + l.column() + " may not be compared this way",
               HintFor(l.mask->filter));
      }
      return Lineage{};
    }
  }
  std::string construct = "operator " + op;
  if (kind == "AEXPR_LIKE") construct = "LIKE";
  if (kind == "AEXPR_ILIKE") construct = "ILIKE";
  if (kind == "AEXPR_SIMILAR") construct = "SIMILAR TO";
  if (kind == "AEXPR_NULLIF") construct = "NULLIF";
  Lineage r;
  if (has_l) r = Use(sub(At(b, "lexpr")), construct);
  if (has_r) {
    const json& rx = At(b, "rexpr");
    if (NodeType(rx) == "List") {
      for (const auto& item : Arr(NodeBody(rx), "items")) {
        Lineage il = Use(sub(item), construct);
        if (il.kind == Lineage::Kind::kTainted) r = il;
      }
    } else {
      Lineage il = Use(sub(rx), construct);
      if (il.kind == Lineage::Kind::kTainted) r = il;
    }
  }
  return r;
}

Lineage Walker::SubLink(const json& b, const Scope* scope, const CteScope* ctes, int depth) {
  const std::string type = Str(b, "subLinkType");
  Output sub = Query(At(b, "subselect"), scope, ctes, depth + 1);
  auto col0 = [&]() -> Lineage {
    if (sub.open && sub.open_at == 0) return sub.open_lineage;
    if (!sub.cols.empty()) return sub.cols[0];
    return sub.open ? sub.open_lineage : Lineage{};
  };
  if (type == "EXISTS_SUBLINK") return Lineage{};
  if (type == "EXPR_SUBLINK") return col0();
  if (type == "ARRAY_SUBLINK") return Use(col0(), "ARRAY(subquery)");
  if (type == "ANY_SUBLINK" || type == "ALL_SUBLINK") {
    auto names = Names(Arr(b, "operName"));
    const std::string op = names.empty() ? "=" : names.back();
    if (!Has(b, "testexpr") || NodeType(At(b, "testexpr")) == "RowExpr") {
      bool any_protected = sub.open && sub.open_lineage.is_protected();
      for (const auto& c : sub.cols) any_protected |= c.is_protected();
      if (any_protected) Refuse("0A000", "pgveil cannot analyse a row comparison with a subquery");
      if (Has(b, "testexpr")) Use(Expr(At(b, "testexpr"), scope, ctes, depth + 1), "IN (subquery)");
      return Lineage{};
    }
    Lineage tl = Expr(At(b, "testexpr"), scope, ctes, depth + 1);
    Lineage sl = col0();
    if (tl.is_protected() || sl.is_protected()) {
      const bool same_domain = tl.kind == Lineage::Kind::kColumn &&
                               sl.kind == Lineage::Kind::kColumn && tl.is_protected() &&
                               sl.is_protected() &&
                               tl.mask->filter == policy::FilterUse::kPseudonym &&
                               tl.mask->spec == sl.mask->spec && IsEquality(op);
      if (!same_domain) {
        Lineage a = Use(tl, "IN (subquery)");
        Lineage c = Use(sl, "IN (subquery)");
        return a.kind == Lineage::Kind::kTainted ? a : c;
      }
    }
    return Lineage{};
  }
  Refuse("0A000", "pgveil cannot analyse this kind of subquery");
}

}  // namespace pgveil::guard
