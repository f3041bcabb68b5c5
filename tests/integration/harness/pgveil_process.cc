#include "harness/pgveil_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "harness/pg_cluster.h"

namespace pgveil::it {

std::string PgveilBinary() {
  if (const char* env = std::getenv("PGVEIL_BIN"); env != nullptr && *env != '\0') return env;
  return PGVEIL_IT_DEFAULT_BIN;
}

bool PortAccepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

StatusOr<std::unique_ptr<PgveilProcess>> PgveilProcess::Start(const Options& options) {
  const std::string bin = PgveilBinary();
  if (access(bin.c_str(), X_OK) != 0) return NotFound("no pgveil executable at " + bin);
  std::unique_ptr<PgveilProcess> proc(new PgveilProcess());
  proc->log_path_ = options.log_path;
  Status last = Unavailable("pgveil did not start");
  // A port picked as free can be taken before pgveil binds it: try a few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    proc->port_ = *port;
    std::vector<std::string> argv = {
        bin,           "serve",
        "--listen",    "127.0.0.1:" + std::to_string(proc->port_),
        "--upstream",  "127.0.0.1:" + std::to_string(options.upstream_port),
        "--workers",   std::to_string(options.workers),
        "--log_level", options.log_level};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    auto child =
        Subprocess::Spawn({.argv = argv, .output_path = options.log_path, .death_signal = SIGKILL});
    if (!child.ok()) return child.status();
    proc->child_ = std::move(*child);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (proc->child_->Running() && std::chrono::steady_clock::now() < deadline) {
      if (PortAccepts(proc->port_)) return proc;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    proc->child_->Stop(SIGKILL, std::chrono::milliseconds(5000));
    proc->child_.reset();
    last = Unavailable("pgveil did not listen on port " + std::to_string(proc->port_) + "; log:\n" +
                       FileTail(options.log_path));
  }
  return last;
}

int PgveilProcess::Stop(int grace_ms) {
  if (!child_) return -1;
  return child_->Stop(SIGTERM, std::chrono::milliseconds(grace_ms));
}

void PgveilProcess::Signal(int sig) {
  if (child_ && child_->Running()) kill(child_->pid(), sig);
}

std::optional<int> PgveilProcess::Wait(std::chrono::milliseconds timeout) {
  if (!child_) return std::nullopt;
  return child_->Wait(timeout);
}

PgveilProcess::~PgveilProcess() { Stop(); }

}  // namespace pgveil::it
