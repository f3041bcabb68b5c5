// The data `pgveil scan` collects and reports (src/tools/scan*.cc).
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "pgveil/tools/scan.h"

namespace pgveil::tools {

struct ScannedColumn {
  std::string schema, table, column, type;
  std::vector<std::string> kinds;  // empty: not personal
  std::vector<std::string> evidence;
  std::string person_domain;  // for person_id: the table whose key it is, e.g. "members"
  bool covered = false;
  std::vector<std::string> shown_to;         // masked policies that see it as stored
  std::map<std::string, std::string> rules;  // masked policy -> rule spec
  bool listed = false;                       // the rules list this column
  std::string listed_at;                     // "FILE POINTER"
  std::string Relation() const { return schema + "." + table; }
};

struct ScanReport {
  int relations = 0;
  int columns = 0;
  std::vector<ScannedColumn> personal;                       // in catalog order
  std::vector<std::pair<std::string, std::string>> skipped;  // relation, reason
  int Covered() const;
  double CoveragePercent() const;  // 100 when there is nothing personal
};

void PrintScanText(const ScanReport& report, const ScanOptions& options, std::ostream& out);
void PrintScanJson(const ScanReport& report, std::ostream& out);
// Rule stubs for the uncovered columns; `key` names the key for pseudonym stubs.
std::string ProposeRules(const ScanReport& report, const std::string& key);

}  // namespace pgveil::tools
