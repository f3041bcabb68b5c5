// The pgveil executable: CLI11 subcommands registered by the cmd_*.cc files.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>

#include "app/command.h"

namespace pgveil::app {
std::vector<CommandEntry>& CommandRegistry() {
  static std::vector<CommandEntry> registry;
  return registry;
}
}  // namespace pgveil::app

int main(int argc, char** argv) {
  CLI::App app{
      "pgveil: a PostgreSQL wire-protocol proxy that masks query results per database role.\n"
      "Run `pgveil COMMAND --help` for the options of each command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pgveil " PGVEIL_VERSION);

  auto& registry = pgveil::app::CommandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, pgveil::app::CommandRun>> runs;
  for (auto& entry : registry) {
    size_t before = app.get_subcommands({}).size();
    pgveil::app::CommandRun run = entry.setup(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) runs.emplace_back(subs.back(), std::move(run));
  }

  if (argc > 1 && argv[1][0] != '-' && std::none_of(runs.begin(), runs.end(), [&](const auto& r) {
        return r.first->check_name(argv[1]);
      })) {
    std::fprintf(stderr, "pgveil: unknown command \"%s\"\nRun `pgveil --help` for the commands.\n",
                 argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto& [sub, run] : runs) {
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "pgveil: %s\n", e.what());
        return 1;
      }
    }
  }
  return 2;
}
