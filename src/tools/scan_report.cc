// pgveil scan: the text and JSON reports and the proposed rule stubs.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "tools/pii_heuristics.h"
#include "tools/scan_model.h"
#include "tools/text_width.h"

namespace pgveil::tools {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool Has(const std::vector<std::string>& v, const char* kind) {
  return std::find(v.begin(), v.end(), kind) != v.end();
}

bool IsInteger(const std::string& type) {
  return type == "smallint" || type == "integer" || type == "bigint";
}

// A starting point for the DBA, chosen from the strongest kind found.
json StubRule(const ScannedColumn& c, const std::string& key) {
  const auto& k = c.kinds;
  const bool date = c.type == "date" || c.type.starts_with("timestamp");
  const bool number = IsInteger(c.type) || c.type.starts_with("numeric") || c.type == "real" ||
                      c.type == "double precision";
  if (Has(k, kKindIdNumber) || Has(k, kKindBankCard) || Has(k, kKindWeChat) || Has(k, kKindQQ) ||
      Has(k, kKindPhoto) || Has(k, kKindAddress) || Has(k, kKindIpAddress) || Has(k, kKindBody)) {
    return "null";
  }
  if (Has(k, kKindPhone)) return {{"transform", "partial"}, {"keep_last", 4}};
  if (Has(k, kKindEmail)) {
    return {{"transform", "partial"}, {"keep_first", 1}, {"keep_after", "@"}};
  }
  if (Has(k, kKindName)) return {{"transform", "partial"}, {"keep_first", 1}};
  if (Has(k, kKindBirthDate) && date) return {{"transform", "age_band"}, {"width", 5}};
  if (Has(k, kKindIncome) && number) {
    return {{"transform", "bucket"}, {"bounds", {0, 3000, 5000, 8000, 12000, 20000, 30000, 50000}}};
  }
  if (Has(k, kKindFreeText)) return {{"transform", "redact"}};
  if (Has(k, kKindPersonId) && (IsInteger(c.type) || c.type == "uuid")) {
    return {{"transform", "pseudonym"},
            {"key", key},
            {"domain", c.person_domain.empty() ? c.table : c.person_domain},
            {"filter", "pseudonym"}};
  }
  return "null";
}

}  // namespace

void PrintScanText(const ScanReport& report, const ScanOptions& options, std::ostream& out) {
  out << "pgveil scan: " << report.relations << " relations, " << report.columns
      << " columns, at most " << options.sample << " rows sampled per relation\n";
  int name_width = 8, kind_width = 5;
  for (const auto& c : report.personal) {
    name_width = std::max(name_width, DisplayWidth(c.Relation() + "." + c.column));
    kind_width = std::max(kind_width, DisplayWidth(Join(c.kinds, ",")));
  }
  if (!report.personal.empty()) {
    out << "\n"
        << FitWidth("column", name_width) << "  " << FitWidth("kinds", kind_width)
        << "  coverage\n";
  }
  for (const auto& c : report.personal) {
    out << FitWidth(c.Relation() + "." + c.column, name_width) << "  "
        << FitWidth(Join(c.kinds, ","), kind_width) << "  ";
    if (c.covered) {
      out << "covered";
      std::string rules;
      for (const auto& [policy, spec] : c.rules) {
        const std::string name = spec.substr(0, spec.find('{'));
        rules += (rules.empty() ? "" : ", ") + policy + ": " + name;
      }
      if (!rules.empty()) out << " (" << rules << ")";
    } else {
      out << "NOT COVERED: shown as stored to " << Join(c.shown_to, ", ");
    }
    out << "\n";
  }
  for (const auto& [relation, reason] : report.skipped) {
    out << "skipped " << relation << ": " << reason << "\n";
  }
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f", report.CoveragePercent());
  out << "\ncoverage: " << report.Covered() << " of " << report.personal.size()
      << " personal columns covered (" << pct << "%)\n";
}

void PrintScanJson(const ScanReport& report, std::ostream& out) {
  json cols = json::array();
  for (const auto& c : report.personal) {
    cols.push_back({{"relation", c.Relation()},
                    {"column", c.column},
                    {"type", c.type},
                    {"kinds", c.kinds},
                    {"evidence", c.evidence},
                    {"covered", c.covered},
                    {"shown_to", c.shown_to},
                    {"rules", c.rules}});
  }
  json skipped = json::array();
  for (const auto& [relation, reason] : report.skipped) {
    skipped.push_back({{"relation", relation}, {"reason", reason}});
  }
  json j = {{"relations_scanned", report.relations},
            {"columns_scanned", report.columns},
            {"personal_columns", report.personal.size()},
            {"covered", report.Covered()},
            {"coverage_percent", report.CoveragePercent()},
            {"columns", std::move(cols)},
            {"skipped", std::move(skipped)}};
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

std::string ProposeRules(const ScanReport& report, const std::string& key) {
  std::ostringstream out;
  out << "// Rule stubs proposed by `pgveil scan` for personal columns that no rule covers.\n"
         "// Review every rule before use (docs/rules.md): \"*\" applies it to every masked\n"
         "// policy. A column the rules already list must be changed where it is listed.\n"
         "{\n  \"relations\": {";
  std::string relation;
  bool first_rel = true, first_col = true;
  for (const auto& c : report.personal) {
    if (c.covered) continue;
    if (c.Relation() != relation) {
      if (!relation.empty()) out << "\n      }\n    }";
      out << (first_rel ? "" : ",") << "\n    " << json(c.Relation()).dump()
          << ": {\n      \"columns\": {";
      relation = c.Relation();
      first_rel = false;
      first_col = true;
    }
    out << (first_col ? "" : ",") << "\n        // " << Join(c.kinds, ", ")
        << (c.listed ? "; replaces the rule at " + c.listed_at : "") << "\n        "
        << json(c.column).dump() << ": { \"*\": " << StubRule(c, key).dump() << " }";
    first_col = false;
  }
  if (!relation.empty()) out << "\n      }\n    }";
  out << "\n  }\n}\n";
  return out.str();
}

}  // namespace pgveil::tools
