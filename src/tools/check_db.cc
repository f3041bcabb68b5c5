// Catalog checks for `pgveil check --db`. Runs in one read-only transaction; exceptions
// from libpqxx end the check with one error here, at the tool's boundary.
#include "tools/check_db.h"

#include <map>
#include <ostream>
#include <pqxx/pqxx>
#include <set>

#include "pgveil/mask/types.h"

namespace pgveil::tools {

namespace {

using rules::Diagnostic;

struct Column {
  std::string name;
  uint32_t type_oid;  // a domain's base type
  std::string type_name;
};

struct Relation {
  char kind;  // pg_class.relkind
  std::vector<Column> columns;
};

constexpr char kColumnsSql[] = R"(
  SELECT n.nspname, c.relname, c.relkind, a.attname,
         CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
         format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
   ORDER BY 1, 2, a.attnum)";

// Columns of other relations that each view (or materialized view) reads.
constexpr char kViewDepsSql[] = R"(
  SELECT DISTINCT vn.nspname, v.relname, tn.nspname, t.relname, a.attname
    FROM pg_depend d
    JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    JOIN pg_class v ON v.oid = r.ev_class
    JOIN pg_namespace vn ON vn.oid = v.relnamespace
    JOIN pg_class t ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
   WHERE v.relkind IN ('v', 'm') AND t.oid <> v.oid AND d.refobjsubid > 0
   ORDER BY 1, 2, 3, 4, 5)";

std::string Qualified(const std::string& s, const std::string& t) { return s + "." + t; }

}  // namespace

void CheckDatabase(const rules::RuleSet& rules, const std::string& conninfo,
                   std::vector<Diagnostic>* errors, std::vector<Diagnostic>* warnings,
                   std::ostream& out) {
  std::map<std::string, Relation> catalog;  // "schema.table"
  std::set<std::string> roles;
  std::vector<std::array<std::string, 5>> view_deps;
  try {
    pqxx::connection conn(conninfo);
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec(kColumnsSql)) {
      Relation& rel = catalog[Qualified(row[0].c_str(), row[1].c_str())];
      rel.kind = row[2].c_str()[0];
      rel.columns.push_back({row[3].c_str(), row[4].as<uint32_t>(), row[5].c_str()});
    }
    for (const auto& row : tx.exec("SELECT rolname FROM pg_roles")) roles.insert(row[0].c_str());
    for (const auto& row : tx.exec(kViewDepsSql)) {
      view_deps.push_back(
          {row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), row[4].c_str()});
    }
  } catch (const std::exception& e) {
    errors->push_back({"(database)", "", std::string("cannot read the catalog: ") + e.what()});
    return;
  }

  // Roles named by policies.
  for (const auto& policy : rules.PolicyNames()) {
    const auto [file, ptr] = rules.PolicyLocation(policy);
    const auto names = rules.PolicyRoles(policy);
    for (size_t i = 0; i < names.size(); ++i) {
      if (!roles.count(names[i])) {
        std::vector<std::string> all(roles.begin(), roles.end());
        errors->push_back(
            {file, ptr + "/roles/" + std::to_string(i),
             "role \"" + names[i] + "\" does not exist" + rules::DidYouMean(names[i], all)});
      }
    }
  }

  // Listed relations and columns exist; declared types match.
  std::vector<std::string> relation_names;
  for (const auto& [name, rel] : catalog) relation_names.push_back(name);
  std::set<std::string> missing_relations;
  for (const auto& r : rules.Relations()) {
    const std::string q = Qualified(r.schema, r.table);
    if (!catalog.count(q)) {
      missing_relations.insert(q);
      errors->push_back(
          {r.file, r.pointer,
           "relation " + q + " does not exist" + rules::DidYouMean(q, relation_names)});
    }
  }
  for (const auto& c : rules.Columns()) {
    const std::string q = Qualified(c.schema, c.table);
    auto rel = catalog.find(q);
    if (rel == catalog.end()) continue;
    std::vector<std::string> names;
    const Column* found = nullptr;
    for (const auto& col : rel->second.columns) {
      names.push_back(col.name);
      if (col.name == c.column) found = &col;
    }
    if (!found) {
      errors->push_back({c.file, c.pointer,
                         "column " + q + "." + c.column + " does not exist" +
                             rules::DidYouMean(c.column, names)});
    } else if (c.declared_type && c.declared_type != found->type_oid) {
      errors->push_back({c.file, c.pointer + "/pg_type",
                         "declared " + std::string(mask::TypeName(c.declared_type)) +
                             " but the column is " + found->type_name});
    }
  }

  // Every masked policy's transform accepts the type of every column of listed relations.
  std::map<std::string, const rules::RelationRef*> listed;
  for (const auto& r : rules.Relations()) listed[Qualified(r.schema, r.table)] = &r;
  std::map<std::string, const rules::ColumnRef*> listed_columns;
  for (const auto& c : rules.Columns())
    listed_columns[Qualified(Qualified(c.schema, c.table), c.column)] = &c;
  for (const auto& policy_name : rules.PolicyNames()) {
    auto policy = rules.FindPolicy(policy_name);
    if (policy->unmasked()) continue;
    for (const auto& [q, ref] : listed) {
      auto rel = catalog.find(q);
      if (rel == catalog.end()) continue;
      for (const auto& col : rel->second.columns) {
        rules::ColumnRule rule = policy->Lookup(ref->schema, ref->table, col.name);
        if (rule.transform->Accepts(col.type_oid)) continue;
        auto lc = listed_columns.find(Qualified(q, col.name));
        const std::string file = lc != listed_columns.end() ? lc->second->file : ref->file;
        const std::string ptr =
            lc != listed_columns.end() ? lc->second->pointer : ref->pointer + "/default";
        errors->push_back({file, ptr,
                           "policy " + policy_name + ": " + std::string(rule.transform->Name()) +
                               " does not apply to " + q + "." + col.name + " (" + col.type_name +
                               ")"});
      }
    }
  }

  // Views that read protected columns but are not listed themselves.
  auto is_protected = [&](const std::string& schema, const std::string& table,
                          const std::string& column) {
    for (const auto& policy_name : rules.PolicyNames()) {
      auto policy = rules.FindPolicy(policy_name);
      if (!policy->unmasked() && policy->Lookup(schema, table, column).spec != "show") return true;
    }
    return false;
  };
  std::set<std::string> reported;
  for (const auto& d : view_deps) {
    const std::string view = Qualified(d[0], d[1]);
    if (listed.count(view) || reported.count(view) || !listed.count(Qualified(d[2], d[3])))
      continue;
    if (is_protected(d[2], d[3], d[4])) {
      reported.insert(view);
      warnings->push_back({"(database)", "",
                           "view " + view + " reads protected column " +
                               Qualified(Qualified(d[2], d[3]), d[4]) +
                               " but has no rules of its own (masked policies see it as NULL)",
                           true});
    }
  }

  // Coverage summary.
  size_t relations = 0, columns = 0, listed_rel = 0, listed_col = 0;
  std::map<std::string, std::array<size_t, 3>> per_policy;  // shown, transformed, NULL
  for (const auto& [q, rel] : catalog) {
    ++relations;
    listed_rel += listed.count(q);
    const size_t dot = q.find('.');
    const std::string schema = q.substr(0, dot), table = q.substr(dot + 1);
    for (const auto& col : rel.columns) {
      ++columns;
      listed_col += listed_columns.count(Qualified(q, col.name));
      for (const auto& policy_name : rules.PolicyNames()) {
        auto policy = rules.FindPolicy(policy_name);
        if (policy->unmasked()) continue;
        const std::string spec = policy->Lookup(schema, table, col.name).spec;
        per_policy[policy_name][spec == "show" ? 0 : spec == "null" ? 2 : 1]++;
      }
    }
  }
  out << "coverage: " << relations << " relations (" << listed_rel << " listed), " << columns
      << " columns (" << listed_col << " listed)\n";
  for (const auto& policy_name : rules.PolicyNames()) {
    if (rules.FindPolicy(policy_name)->unmasked()) {
      out << "  policy " << policy_name << ": unmasked (all " << columns << " columns shown)\n";
      continue;
    }
    const auto& c = per_policy[policy_name];
    out << "  policy " << policy_name << ": " << c[0] << " shown, " << c[1] << " transformed, "
        << c[2] << " NULL\n";
  }
}

}  // namespace pgveil::tools
