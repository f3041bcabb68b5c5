// `pgveil scan --db CONNINFO [--rules FILES] [--keys FILE] [--sample N] [--propose FILE]
//  [--fail-uncovered] [--format text|json]`
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.h"
#include "pgveil/tools/scan.h"

namespace {

const pgveil::app::RegisterCommand kRegister(40, [](CLI::App& app) -> pgveil::app::CommandRun {
  auto options = std::make_shared<pgveil::tools::ScanOptions>();
  CLI::App* sub = app.add_subcommand(
      "scan", "Find columns that probably hold personal data and whether rules cover them");
  sub->add_option("--db", options->db, "libpq connection string of the database to scan")
      ->required();
  sub->add_option("--rules", options->rules, "Rules files or directories")->expected(1, -1);
  sub->add_option("--keys", options->keys_file, "Key file (mode 0600)");
  sub->add_option("--schema", options->schemas, "Scan only this schema (repeatable)");
  sub->add_option("--sample", options->sample, "Rows sampled per relation (default 1000)");
  sub->add_option("--propose", options->propose_file,
                  "Write rule stubs for the uncovered columns to this file");
  sub->add_flag("--fail-uncovered", options->fail_uncovered,
                "Exit 1 if a personal column is not covered");
  sub->add_option("--format", options->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  return [options] { return pgveil::tools::RunScan(*options, std::cout, std::cerr); };
});

}  // namespace
