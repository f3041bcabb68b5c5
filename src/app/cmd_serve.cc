// `pgveil serve`: runs the proxy.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/command.h"
#include "app/config.h"
#include "app/rules_provider.h"
#include "pgveil/audit/audit_log.h"
#include "pgveil/proxy/server.h"

namespace pgveil::app {
namespace {

struct ServeArgs {
  std::string config;
  ServeFlags flags;
};

int RunServe(const ServeArgs& args) {
  auto cfg = LoadServeConfig(args.config, args.flags);
  if (!cfg.ok()) {
    std::fprintf(stderr, "pgveil serve: invalid configuration:\n%s\n",
                 cfg.status().message().c_str());
    return 2;
  }
  auto logger = spdlog::stderr_logger_mt("pgveil");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));

  std::shared_ptr<RulesPolicyProvider> provider;
  if (!cfg->rules.empty()) {
    RulesProviderOptions po;
    po.catalog_conninfo = cfg->catalog;
    po.rules = cfg->rules;
    po.keys = cfg->keys;
    po.catalog_refresh = std::chrono::seconds(cfg->catalog_refresh_seconds);
    auto p = RulesPolicyProvider::Create(po);
    if (!p.ok()) {
      spdlog::error("event=fatal what=rules reason=\"{}\"", p.status().message());
      std::fprintf(stderr, "pgveil serve: cannot load the masking rules:\n%s\n",
                   p.status().message().c_str());
      return 1;
    }
    provider = *p;
    cfg->server.policies = provider;
    cfg->server.on_reload = [provider] { (void)provider->Reload(); };
    spdlog::info("event=rules_loaded paths={}", cfg->rules.size());
  } else {
    spdlog::warn(
        "event=no_rules detail=\"no masking rules configured: relaying every session "
        "unmasked\"");
  }
  std::shared_ptr<audit::AuditLog> audit_log;
  if (cfg->audit.enabled()) {
    if (cfg->audit.unmasked) {
      std::fprintf(stderr,
                   "pgveil serve: audit.unmasked is not supported yet: unmasked sessions take the "
                   "byte-exact relay and are not parsed\n");
      return 2;
    }
    auto log = audit::AuditLog::Open({.path = cfg->audit.path,
                                      .max_bytes = cfg->audit.max_bytes,
                                      .keep = static_cast<int>(cfg->audit.keep)});
    if (!log.ok()) {
      std::fprintf(stderr, "pgveil serve: cannot open the audit log: %s\n",
                   log.status().message().c_str());
      return 1;
    }
    audit_log = std::move(*log);
    cfg->server.audit = audit_log;
    auto reload = cfg->server.on_reload;
    cfg->server.on_reload = [reload, audit_log] {
      if (reload) reload();
      Status st = audit_log->Reopen();
      if (!st.ok()) spdlog::error("event=audit_reopen_failed reason=\"{}\"", st.message());
    };
    spdlog::info("event=audit_log path={}", cfg->audit.path);
  }
  proxy::Server server(cfg->server);
  Status st = server.Bind();
  if (st.ok()) st = server.Run();
  if (!st.ok()) {
    spdlog::error("event=fatal reason=\"{}\"", st.message());
    std::fprintf(stderr, "pgveil serve: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}

const RegisterCommand kServe(0, [](CLI::App& app) -> CommandRun {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run the masking proxy in front of a PostgreSQL server");
  cmd->add_option("-c,--config", args->config, "JSON configuration file")->check(CLI::ExistingFile);
  cmd->add_option("--listen", args->flags.listen,
                  "Address to accept clients on, HOST:PORT (default 127.0.0.1:6432)");
  cmd->add_option("--upstream", args->flags.upstream,
                  "PostgreSQL server to relay to, HOST:PORT (default 127.0.0.1:5432)");
  cmd->add_option("--workers", args->flags.workers,
                  "Worker threads (default: one per hardware thread)");
  cmd->add_option("--upstream_reuse", args->flags.upstream_reuse,
                  "Keep upstream connections of cleanly ended sessions for the next client with "
                  "the same startup parameters, reset with DISCARD ALL (true/false, default "
                  "false; see docs/protocol.md)");
  cmd->add_option("--upstream_idle_seconds", args->flags.upstream_idle_seconds,
                  "With --upstream_reuse: close kept connections idle this long (default 60)");
  cmd->add_option("--max_message_bytes", args->flags.max_message_bytes,
                  "Largest protocol message accepted, in bytes (default 268435456)");
  cmd->add_option("--catalog", args->flags.catalog,
                  "libpq connection string for the catalog side connection");
  cmd->add_option("--rules", args->flags.rules, "Masking rules file or directory (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--keys", args->flags.keys, "Key file for hash and pseudonym rules");
  cmd->add_option("--log_level", args->flags.log_level,
                  "trace, debug, info, warn, error or off (default info)");
  cmd->footer(
      "Flags override the configuration file. Logs go to stderr, one event per line.\n"
      "SIGTERM or SIGINT stop accepting clients and let sessions finish (30 s grace).\n"
      "SIGHUP reloads the rules, the keys, the catalog and the TLS certificates and keys.\n"
      "TLS: see docs/tls.md (\"tls\" and \"upstream_tls\" in the configuration file).");
  return [args] { return RunServe(*args); };
});

}  // namespace
}  // namespace pgveil::app
