// pgveil scan: catalog, sampling and coverage. Exceptions from libpqxx are caught here,
// at the tool's boundary: a relation that cannot be read is reported as skipped, a
// connection that cannot be made ends the scan.
#include "pgveil/tools/scan.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <pqxx/pqxx>
#include <set>

#include "tools/pii_heuristics.h"
#include "tools/scan_model.h"
#include "tools/tool_rules.h"

namespace pgveil::tools {
namespace {

struct CatalogColumn {
  std::string name, type;
};
struct CatalogRelation {
  std::string schema, table;
  char kind = 'r';
  double reltuples = 0;
  std::vector<CatalogColumn> columns;
};

constexpr char kColumnsSql[] = R"(
  SELECT n.nspname, c.relname, c.relkind, c.reltuples, a.attname,
         format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
   ORDER BY 1, 2, a.attnum)";

// Single-column primary and foreign keys: (kind, schema, table, column, ref schema,
// ref table).
constexpr char kKeysSql[] = R"(
  SELECT k.contype, n.nspname, r.relname, a.attname,
         coalesce(fn.nspname, ''), coalesce(fr.relname, '')
    FROM pg_constraint k
    JOIN pg_class r ON r.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.conkey[1]
    LEFT JOIN pg_class fr ON fr.oid = k.confrelid
    LEFT JOIN pg_namespace fn ON fn.oid = fr.relnamespace
   WHERE k.contype IN ('p', 'f') AND cardinality(k.conkey) = 1)";

std::string SampleSql(pqxx::connection& conn, const CatalogRelation& rel, int sample) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < rel.columns.size(); ++i) {
    sql += (i ? ", " : "") + conn.quote_name(rel.columns[i].name) + "::text";
  }
  sql += " FROM " + conn.quote_name(rel.schema) + "." + conn.quote_name(rel.table);
  const bool sampleable = rel.kind == 'r' || rel.kind == 'm' || rel.kind == 'p';
  if (sampleable && rel.reltuples > 10.0 * sample) {
    // About four times the rows needed, so that LIMIT still has a choice.
    const double pct = std::clamp(400.0 * sample / rel.reltuples, 0.001, 100.0);
    sql += " TABLESAMPLE SYSTEM (" + std::to_string(pct) + ") REPEATABLE (42)";
  }
  return sql + " LIMIT " + std::to_string(sample);
}

}  // namespace

int ScanReport::Covered() const {
  return static_cast<int>(
      std::count_if(personal.begin(), personal.end(), [](const auto& c) { return c.covered; }));
}

double ScanReport::CoveragePercent() const {
  return personal.empty() ? 100.0 : 100.0 * Covered() / static_cast<double>(personal.size());
}

int RunScan(const ScanOptions& options, std::ostream& out, std::ostream& err) {
  if (options.db.empty()) {
    err << "pgveil scan: --db is required\n";
    return 2;
  }
  if (options.sample < 1 || options.sample > 100000) {
    err << "pgveil scan: --sample must be between 1 and 100000\n";
    return 2;
  }
  if (options.format != "text" && options.format != "json") {
    err << "pgveil scan: --format must be text or json\n";
    return 2;
  }
  std::shared_ptr<const rules::RuleSet> rules;
  if (!options.rules.empty()) {
    rules = LoadToolRules(options.rules, options.keys_file, "pgveil scan", err);
    if (!rules) return 2;
  }

  std::vector<CatalogRelation> relations;
  std::vector<std::array<std::string, 6>> keys;
  ScanReport report;
  std::map<std::string, std::vector<ColumnSample>> samples;  // relation -> columns
  try {
    pqxx::connection conn(options.db);
    pqxx::nontransaction tx(conn);
    tx.exec("SET default_transaction_read_only = on");
    tx.exec("SET statement_timeout = '60s'");
    const std::set<std::string> only(options.schemas.begin(), options.schemas.end());
    for (const auto& row : tx.exec(kColumnsSql)) {
      std::string schema = row[0].c_str(), table = row[1].c_str();
      if (!only.empty() && !only.count(schema)) continue;
      if (relations.empty() || relations.back().schema != schema ||
          relations.back().table != table) {
        relations.push_back({schema, table, row[2].c_str()[0], row[3].as<double>(), {}});
      }
      relations.back().columns.push_back({row[4].c_str(), row[5].c_str()});
    }
    for (const auto& row : tx.exec(kKeysSql)) {
      keys.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(),
                      row[4].c_str(), row[5].c_str()});
    }
    for (const CatalogRelation& rel : relations) {
      std::vector<ColumnSample>& cols = samples[rel.schema + "." + rel.table];
      for (const auto& c : rel.columns) cols.push_back({c.name, c.type, {}});
      try {
        for (const auto& row : tx.exec(SampleSql(conn, rel, options.sample))) {
          for (size_t i = 0; i < cols.size(); ++i) {
            if (row[static_cast<int>(i)].is_null()) {
              cols[i].values.emplace_back(std::nullopt);
            } else {
              cols[i].values.emplace_back(row[static_cast<int>(i)].c_str());
            }
          }
        }
      } catch (const std::exception& e) {
        report.skipped.push_back({rel.schema + "." + rel.table, FirstLine(e.what())});
      }
    }
  } catch (const std::exception& e) {
    err << "pgveil scan: " << FirstLine(e.what()) << "\n";
    return 1;
  }

  // Classify; relations with personal data make their keys (and references) person ids.
  std::map<std::string, std::vector<ScannedColumn>> found;  // relation -> columns
  for (const CatalogRelation& rel : relations) {
    ++report.relations;
    for (const ColumnSample& s : samples[rel.schema + "." + rel.table]) {
      ++report.columns;
      Classification c = Classify(s);
      ScannedColumn col{rel.schema, rel.table, s.name, s.type, c.kinds, c.evidence};
      found[col.Relation()].push_back(std::move(col));
    }
  }
  // Only data that identifies a person makes a relation's key a person id (a table of
  // chat messages holds free text, but its message ids are not people).
  auto identifies_people = [&](const std::string& relation) {
    static const std::set<std::string> kIdentity = {kKindName,     kKindPhone,    kKindIdNumber,
                                                    kKindEmail,    kKindWeChat,   kKindQQ,
                                                    kKindBankCard, kKindBirthDate};
    for (const auto& c : found[relation]) {
      for (const auto& k : c.kinds) {
        if (kIdentity.count(k)) return true;
      }
    }
    return false;
  };
  auto mark_person_id = [&](const std::string& relation, const std::string& column,
                            const std::string& domain, const std::string& why) {
    for (auto& c : found[relation]) {
      if (c.column == column &&
          std::find(c.kinds.begin(), c.kinds.end(), kKindPersonId) == c.kinds.end()) {
        c.kinds.push_back(kKindPersonId);
        std::sort(c.kinds.begin(), c.kinds.end());
        c.evidence.push_back(why);
        c.person_domain = domain;
      }
    }
  };
  std::set<std::string> personal_relations;
  for (const auto& [relation, cols] : found) {
    if (identifies_people(relation)) personal_relations.insert(relation);
  }
  for (const auto& k : keys) {
    const std::string relation = k[1] + "." + k[2];
    if (k[0] == "p" && personal_relations.count(relation)) {
      mark_person_id(relation, k[3], k[2], "key: primary key of a relation with personal data");
    }
    if (k[0] == "f" && personal_relations.count(k[4] + "." + k[5])) {
      mark_person_id(relation, k[3], k[5], "key: references " + k[4] + "." + k[5]);
    }
  }

  // Coverage.
  const auto masked = rules ? MaskedPolicies(*rules) : decltype(MaskedPolicies(*rules)){};
  std::map<std::string, std::string> listed_at;
  if (rules) {
    for (const auto& ref : rules->Columns()) {
      listed_at[ref.schema + "." + ref.table + "." + ref.column] = ref.file + " " + ref.pointer;
    }
  }
  for (const CatalogRelation& rel : relations) {
    for (ScannedColumn& c : found[rel.schema + "." + rel.table]) {
      if (c.kinds.empty()) continue;
      for (const auto& p : masked) {
        rules::ColumnRule rule = p->Lookup(c.schema, c.table, c.column);
        c.rules[p->name()] = rule.spec.empty() ? std::string(rule.transform->Name()) : rule.spec;
        if (rule.transform->Name() == "show") c.shown_to.push_back(p->name());
      }
      if (!rules) c.shown_to.push_back("(no rules given)");
      c.covered = c.shown_to.empty();
      auto it = listed_at.find(c.Relation() + "." + c.column);
      c.listed = it != listed_at.end();
      if (c.listed) c.listed_at = it->second;
      report.personal.push_back(c);
    }
  }

  if (options.format == "json") {
    PrintScanJson(report, out);
  } else {
    PrintScanText(report, options, out);
  }
  const bool uncovered = report.Covered() < static_cast<int>(report.personal.size());
  if (!options.propose_file.empty()) {
    std::string key = "default";
    if (rules && rules->keys() && !rules->keys()->Names().empty()) {
      key = rules->keys()->Names().front();
    }
    std::ofstream f(options.propose_file, std::ios::trunc);
    f << ProposeRules(report, key);
    f.close();
    if (!f) {
      err << "pgveil scan: cannot write " << options.propose_file << "\n";
      return 1;
    }
  }
  return options.fail_uncovered && uncovered ? 1 : 0;
}

}  // namespace pgveil::tools
