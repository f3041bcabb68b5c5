// The data `pgveil diff` collects and checks (src/tools/diff*.cc).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pgveil/rules/rule_set.h"
#include "pgveil/tools/diff.h"

namespace pgveil::tools {

using Cell = std::optional<std::string>;
using Row = std::vector<Cell>;

struct DiffColumn {
  std::string name;
  uint32_t raw_type = 0;
  std::string source;  // "schema.table.column"; empty for expressions
  std::optional<rules::ColumnRule> rule;
  std::string transform = "?";  // rule's transform name; "?" without a source
  bool is_protected = false;    // a rule other than `show`
  int kept = 0, transformed = 0, nulled = 0, shape_errors = 0, leaks = 0;
  std::string Verdict() const;  // "kept", "transformed", "nulled", "mixed", "-"
};

struct Finding {
  std::string kind;  // "leak", "inconsistent", "shape", "rows", "error", "unpaired"
  int row = -1;      // 0-based row of the query, -1 if not about one row
  int column = -1;
  std::string detail;  // never a value
};

struct QueryDiff {
  std::string sql;
  std::vector<DiffColumn> columns;
  std::vector<Row> raw, masked;
  bool paired = false;
  std::vector<Finding> findings;
  // Cells (row, column) found leaking, for highlighting.
  std::map<std::pair<int, int>, bool> leak_cells;
  bool Failed() const;
};

struct DiffRun {
  std::string policy;
  std::vector<QueryDiff> queries;
  int Count(const std::string& kind) const;
  bool Failed() const;
};

// Runs every check of diff.h over the collected results (fills findings and counts).
void CheckRun(DiffRun* run, bool have_keys);

void PrintDiffText(const DiffRun& run, const DiffOptions& options, std::ostream& out);
void PrintDiffJson(const DiffRun& run, std::ostream& out);
std::string DiffHtml(const DiffRun& run, const DiffOptions& options);

}  // namespace pgveil::tools
