#include "demo_policy.h"

#include <pg_query.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/rules_provider.h"
#include "pgveil/rules/rule_set.h"

namespace pgveil::guard::testing {
namespace {

using nlohmann::json;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "demo policy: %s\n", why.c_str());
  std::abort();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint32_t TypeOid(const std::string& name) {
  static const std::map<std::string, uint32_t> oids = {
      {"int8", 20},     {"bigserial", 20}, {"int4", 23}, {"int2", 21},          {"text", 25},
      {"bpchar", 1042}, {"date", 1082},    {"bool", 16}, {"timestamptz", 1184}, {"name", 19}};
  auto it = oids.find(name);
  if (it == oids.end()) Die("type " + name + " not mapped");
  return it->second;
}

// Relations of every CREATE TABLE in demo/schema.sql, OIDs from 16400 up.
std::vector<catalog::Relation> DemoRelations() {
  std::string sql = ReadFile(std::string(PGVEIL_SOURCE_DIR) + "/demo/schema.sql");
  // psql meta-commands are not SQL.
  std::string clean;
  std::istringstream lines(sql);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '\\') continue;
    clean += line + "\n";
  }
  PgQueryParseResult r = pg_query_parse(clean.c_str());
  if (r.error != nullptr) Die(std::string("schema.sql: ") + r.error->message);
  json tree = json::parse(r.parse_tree);
  pg_query_free_parse_result(r);
  std::vector<catalog::Relation> rels;
  uint32_t oid = 16400;
  for (const auto& st : tree["stmts"]) {
    if (!st["stmt"].contains("CreateStmt")) continue;
    const json& c = st["stmt"]["CreateStmt"];
    catalog::Relation rel;
    rel.oid = oid++;
    rel.schema = c["relation"].value("schemaname", "public");
    rel.name = c["relation"].value("relname", "");
    int16_t attnum = 1;
    for (const auto& e : c.value("tableElts", json::array())) {
      if (!e.contains("ColumnDef")) continue;
      const json& d = e["ColumnDef"];
      catalog::Column col;
      col.name = d.value("colname", "");
      col.attnum = attnum++;
      std::string tname = d["typeName"]["names"].back()["String"].value("sval", "");
      col.type_oid = col.base_type_oid = TypeOid(tname);
      col.type_name = tname;
      rel.columns.push_back(col);
    }
    rels.push_back(std::move(rel));
  }
  // A view over members as a DBA might write it, and one that computes on a phone.
  catalog::Relation cards;
  cards.oid = oid++;
  cards.schema = "crm";
  cards.name = "member_cards";
  cards.kind = 'v';
  cards.view_definition =
      " SELECT m.member_id, m.nickname, m.phone, m.city\n   FROM crm.members m;";
  cards.columns = {
      {"member_id", 1, 20, 20}, {"nickname", 2, 25, 25}, {"phone", 3, 25, 25}, {"city", 4, 25, 25}};
  rels.push_back(cards);
  catalog::Relation prefixes;
  prefixes.oid = oid++;
  prefixes.schema = "crm";
  prefixes.name = "phone_prefixes";
  prefixes.kind = 'v';
  prefixes.view_definition =
      " SELECT m.nickname, \"left\"(m.phone, 3) AS prefix FROM crm.members m;";
  prefixes.columns = {{"nickname", 1, 25, 25}, {"prefix", 2, 25, 25}};
  rels.push_back(prefixes);
  return rels;
}

}  // namespace

std::shared_ptr<const policy::Policy> DemoPolicy(const char* policy_name) {
  // The key file must be private to be accepted.
  char dir[] = "/tmp/pgveil-guard-test-XXXXXX";
  if (mkdtemp(dir) == nullptr) Die("mkdtemp");
  std::string keys_path = std::string(dir) + "/keys.json";
  {
    std::ofstream out(keys_path);
    out << ReadFile(std::string(PGVEIL_SOURCE_DIR) + "/demo/keys.json");
  }
  chmod(keys_path.c_str(), 0600);
  std::vector<rules::Diagnostic> errors;
  auto keys = rules::KeyRing::LoadFile(keys_path, &errors);
  std::remove(keys_path.c_str());
  rmdir(dir);
  if (!keys) Die("keys");
  rules::LoadOptions lo;
  lo.keys = keys;
  lo.today = [] { return int32_t{9466}; };  // 2025-12-01
  auto loaded = rules::LoadRules({std::string(PGVEIL_SOURCE_DIR) + "/masking-rules/crm.json"}, lo);
  if (!loaded.ok()) Die("rules");
  auto rp = loaded.rules->FindPolicy(policy_name);
  if (!rp) Die(std::string("no policy ") + policy_name);
  auto snapshot = std::make_shared<const catalog::Snapshot>(DemoRelations(), 1);
  return policy::Policy::Masked(
      policy_name, snapshot, [rp](const catalog::Relation& rel, const catalog::Column& col) {
        return app::MaskOfRule(rp->Lookup(rel.schema, rel.name, col.name));
      });
}

}  // namespace pgveil::guard::testing
