// `pgveil check RULES... [--db CONNINFO] [--keys FILE]`
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.h"
#include "pgveil/tools/check.h"

namespace {

const pgveil::app::RegisterCommand kRegister(20, [](CLI::App& app) -> pgveil::app::CommandRun {
  auto options = std::make_shared<pgveil::tools::CheckOptions>();
  CLI::App* sub = app.add_subcommand(
      "check", "Validate masking rules (and, with --db, against a live database)");
  sub->add_option("rules", options->rules, "Rules files or directories")->required();
  sub->add_option("--db", options->db, "libpq connection string of the database to check against");
  sub->add_option("--keys", options->keys_file,
                  "Key file (mode 0600); without it key names are not checked");
  return [options] { return pgveil::tools::RunCheck(*options, std::cout, std::cerr); };
});

}  // namespace
