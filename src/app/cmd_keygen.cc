// `pgveil keygen --out FILE [--name NAME]... [--force]`
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/command.h"
#include "pgveil/tools/check.h"

namespace {

const pgveil::app::RegisterCommand kRegister(30, [](CLI::App& app) -> pgveil::app::CommandRun {
  auto options = std::make_shared<pgveil::tools::KeygenOptions>();
  CLI::App* sub =
      app.add_subcommand("keygen", "Write a new key file of random 256-bit keys (mode 0600)");
  sub->add_option("--out,-o", options->out_file, "Key file to create")->required();
  sub->add_option("--name,-n", options->names, "Key name (repeatable; default: \"default\")");
  sub->add_flag("--force", options->force, "Replace an existing file");
  return [options] { return pgveil::tools::RunKeygen(*options, std::cout, std::cerr); };
});

}  // namespace
