// pgveil check: offline validation, then (with --db) the catalog checks in check_db.cc.
#include "pgveil/tools/check.h"

#include <ostream>

#include "pgveil/rules/rule_set.h"
#include "tools/check_db.h"

namespace pgveil::tools {

int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  if (options.rules.empty()) {
    err << "pgveil check: give at least one rules file or directory\n";
    return 2;
  }
  std::vector<rules::Diagnostic> errors, warnings;
  rules::LoadOptions load;
  if (!options.keys_file.empty()) {
    load.keys = rules::KeyRing::LoadFile(options.keys_file, &errors);
  } else {
    load.allow_missing_keys = true;
  }
  if (errors.empty()) {
    rules::LoadResult r = rules::LoadRules(options.rules, load);
    errors = std::move(r.errors);
    warnings = std::move(r.warnings);
    if (r.ok() && !options.db.empty()) {
      CheckDatabase(*r.rules, options.db, &errors, &warnings, out);
    }
    if (r.ok() && errors.empty()) {
      out << "rules OK: " << r.rules->PolicyNames().size() << " policies, "
          << r.rules->Relations().size() << " relations, " << r.rules->Columns().size()
          << " columns\n";
    }
  }
  for (const auto& w : warnings) err << w.ToString() << "\n";
  for (const auto& e : errors) err << e.ToString() << "\n";
  if (!errors.empty()) {
    err << errors.size() << (errors.size() == 1 ? " error\n" : " errors\n");
    return 1;
  }
  return 0;
}

}  // namespace pgveil::tools
