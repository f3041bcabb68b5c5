// `pgveil diff --raw CONNINFO --masked CONNINFO (--query SQL ... | --file FILE.sql)
//  --rules ... [--keys FILE] [--policy NAME] [--html FILE] [--format text|json]`
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.h"
#include "pgveil/tools/diff.h"

namespace {

const pgveil::app::RegisterCommand kRegister(45, [](CLI::App& app) -> pgveil::app::CommandRun {
  auto options = std::make_shared<pgveil::tools::DiffOptions>();
  CLI::App* sub = app.add_subcommand(
      "diff", "Compare raw and masked results of the same queries and check for leaks");
  sub->add_option("--raw", options->raw, "libpq connection string: direct or unmasked login")
      ->required();
  sub->add_option("--masked", options->masked,
                  "libpq connection string: through pgveil as a masked login")
      ->required();
  sub->add_option("--query", options->queries, "SQL to run on both sides (repeatable)");
  sub->add_option("--file", options->file, "File of SQL statements separated by ';'");
  sub->add_option("--rules", options->rules, "Reference rules files or directories")
      ->required()
      ->expected(1, -1);
  sub->add_option("--keys", options->keys_file,
                  "Key file (mode 0600); needed to check pseudonyms and hashes exactly");
  sub->add_option("--policy", options->policy,
                  "Policy to check against (default: the masked login's policy)");
  sub->add_option("--html", options->html_file, "Write a self-contained HTML report here");
  sub->add_option("--format", options->format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--rows", options->max_rows, "Rows shown per query (default 10)");
  sub->add_option("--cell-width", options->cell_width, "Terminal columns per cell (default 14)");
  return [options] { return pgveil::tools::RunDiff(*options, std::cout, std::cerr); };
});

}  // namespace
