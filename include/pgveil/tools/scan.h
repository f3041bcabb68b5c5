// `pgveil scan`: finds the columns of a live database that probably hold personal data
// and tells whether the masking rules cover them.
//
// Every column of every table, view and materialized view outside the system schemas is
// sampled (at most `sample` rows per relation: TABLESAMPLE SYSTEM on large tables, LIMIT
// everywhere), and classified by
//  - the PII detectors of mask/redact.h run over the sampled values (whole values that are
//    phone numbers, ID numbers, bank cards, emails, IPv4 addresses; free text that embeds
//    any detector hit),
//  - name heuristics (phone, ID number, WeChat, QQ, email, real name, birth date, income,
//    address, body measurements, photos, free text such as notes and messages),
//  - keys: the single-column primary key of a relation that holds personal data, and every
//    single-column foreign key to it, identify a person ("person_id").
// A personal column is covered when no masked policy of the rules shows it as stored
// (the rule of every masked policy is not `show`; unlisted relations are NULL and so
// covered). Values are only counted, never printed.
//
// Output: text (one line per personal column, then the coverage) or JSON (`format`
// "json"): {"relations_scanned", "columns_scanned", "personal_columns", "covered",
// "coverage_percent", "columns": [{"relation", "column", "type", "kinds": [...],
// "evidence": [...], "covered", "shown_to": [...], "rules": {policy: spec}}],
// "skipped": [{"relation", "reason"}]}.
// `propose_file`: writes rule stubs (docs/rules.md syntax, "*" rules) for the uncovered
// columns. Exit status: 0, 1 with `fail_uncovered` when a personal column is uncovered
// (or on a database error), 2 for a bad invocation.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pgveil::tools {

struct ScanOptions {
  std::string db;                    // libpq conninfo (required)
  std::vector<std::string> rules;    // rules files/directories; empty: nothing is covered
  std::string keys_file;             // optional; without it key names are not checked
  std::vector<std::string> schemas;  // only these schemas; empty: all but system schemas
  int sample = 1000;                 // rows per relation, 1..100000
  std::string propose_file;
  bool fail_uncovered = false;
  std::string format = "text";  // "text" or "json"
};

int RunScan(const ScanOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pgveil::tools
