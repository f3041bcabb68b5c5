// Subcommands of the pgveil executable register themselves here, one per cmd_*.cc file.
//
// A command adds its CLI11 subcommand (options, --help text) in `setup` and returns the
// function that runs it; that function returns the process exit status
// (0 success, 1 failure found by the command, 2 bad invocation).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace pgveil::app {

using CommandRun = std::function<int()>;
using CommandSetup = std::function<CommandRun(CLI::App& parent)>;

struct CommandEntry {
  int order;  // position in `pgveil --help`
  CommandSetup setup;
};

std::vector<CommandEntry>& CommandRegistry();

// Usage, at namespace scope in a cmd_*.cc file:
//   static const pgveil::app::RegisterCommand kRegister(10, [](CLI::App& app) { ... });
struct RegisterCommand {
  RegisterCommand(int order, CommandSetup setup) {
    CommandRegistry().push_back({order, std::move(setup)});
  }
};

}  // namespace pgveil::app
