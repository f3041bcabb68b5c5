// `pgveil pseudonym --rules FILE --keys FILE --policy NAME --column SCHEMA.TABLE.COLUMN
//  [--type TYPE] [--reverse] VALUE...`: what a policy shows for a value of a column (or,
// with --reverse, the real value behind a pseudonym). For testers and demos: "which
// pseudonym does sales see for member 42?"
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "app/command.h"
#include "pgveil/rules/rule_set.h"

namespace {

struct PseudonymOptions {
  std::vector<std::string> rules;
  std::string keys;
  std::string policy;
  std::string column;
  std::string type = "bigint";
  bool reverse = false;
  std::vector<std::string> values;
};

int Run(const PseudonymOptions& o) {
  static const std::map<std::string, uint32_t> kTypes = {
      {"bigint", 20}, {"int8", 20},   {"integer", 23}, {"int4", 23},
      {"int", 23},    {"uuid", 2950}, {"text", 25}};
  auto type = kTypes.find(o.type);
  if (type == kTypes.end()) {
    std::cerr << "pgveil pseudonym: unsupported type \"" << o.type
              << "\" (bigint, integer, uuid, text)\n";
    return 2;
  }
  std::vector<pgveil::rules::Diagnostic> errors;
  auto keys = pgveil::rules::KeyRing::LoadFile(o.keys, &errors);
  if (!keys) {
    for (const auto& d : errors) std::cerr << d.ToString() << "\n";
    return 2;
  }
  pgveil::rules::LoadOptions lo;
  lo.keys = keys;
  auto loaded = pgveil::rules::LoadRules(o.rules, lo);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
    return 2;
  }
  auto policy = loaded.rules->FindPolicy(o.policy);
  if (!policy) {
    std::cerr << "pgveil pseudonym: no policy \"" << o.policy << "\" in the rules\n";
    return 2;
  }
  const size_t a = o.column.find('.');
  const size_t b = a == std::string::npos ? a : o.column.find('.', a + 1);
  if (b == std::string::npos) {
    std::cerr << "pgveil pseudonym: --column must be schema.table.column\n";
    return 2;
  }
  auto rule = policy->Lookup(o.column.substr(0, a), o.column.substr(a + 1, b - a - 1),
                             o.column.substr(b + 1));
  if (!rule.transform) {
    std::cerr << "pgveil pseudonym: the column has no transform under this policy\n";
    return 2;
  }
  if (o.reverse && !rule.transform->Reversible()) {
    std::cerr << "pgveil pseudonym: the column's transform (" << rule.transform->Name()
              << ") cannot be reversed\n";
    return 2;
  }
  int status = 0;
  for (const auto& v : o.values) {
    std::string out;
    bool is_null = false;
    pgveil::Status st =
        o.reverse
            ? rule.transform->Reverse(type->second, pgveil::mask::Format::kText, v, &out)
            : rule.transform->Apply(type->second, pgveil::mask::Format::kText, v, &out, &is_null);
    if (!st.ok()) {
      std::cerr << "pgveil pseudonym: a value could not be read: " << st.message() << "\n";
      status = 1;
      continue;
    }
    std::cout << (is_null ? "NULL" : out) << "\n";
  }
  return status;
}

const pgveil::app::RegisterCommand kRegister(40, [](CLI::App& app) -> pgveil::app::CommandRun {
  auto o = std::make_shared<PseudonymOptions>();
  CLI::App* sub = app.add_subcommand(
      "pseudonym", "Show what a policy makes of a column's values (or reverse a pseudonym)");
  sub->add_option("--rules,-r", o->rules, "Rules file or directory (repeatable)")->required();
  sub->add_option("--keys,-k", o->keys, "Key file (mode 0600)")->required();
  sub->add_option("--policy,-p", o->policy, "Policy name, e.g. sales")->required();
  sub->add_option("--column,-c", o->column, "schema.table.column")->required();
  sub->add_option("--type,-t", o->type, "Column type: bigint (default), integer, uuid, text");
  sub->add_flag("--reverse", o->reverse, "Turn pseudonyms back into real values");
  sub->add_option("values", o->values, "Values (text form)")->required();
  return [o] { return Run(*o); };
});

}  // namespace
