// A pgveil process in front of a PgCluster, for integration tests.
//
// Start() runs `$PGVEIL_BIN serve --listen 127.0.0.1:<free port> --upstream
// 127.0.0.1:<server port> ...` (PGVEIL_BIN is set by ctest; the build directory's
// binary otherwise), sends its stderr to a log file and returns once the listen port
// accepts connections. The destructor sends SIGTERM and, after a grace period, SIGKILL.
// Not thread-safe except port(), which is immutable after Start().
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/subprocess.h"
#include "pgveil/status.h"

namespace pgveil::it {

class PgveilProcess {
 public:
  struct Options {
    int upstream_port = 0;
    std::string log_path;  // pgveil's stderr
    int workers = 2;
    std::string log_level = "info";
    std::vector<std::string> extra_args;  // appended to the serve command line
  };

  static StatusOr<std::unique_ptr<PgveilProcess>> Start(const Options& options);
  ~PgveilProcess();
  PgveilProcess(const PgveilProcess&) = delete;
  PgveilProcess& operator=(const PgveilProcess&) = delete;

  int port() const { return port_; }
  const std::string& log_path() const { return log_path_; }
  // False once the process has exited (a crash, or a clean exit it should not make).
  bool Running() { return child_ && child_->Running(); }
  // Stops it with SIGTERM (SIGKILL after `grace_ms`); returns the waitpid status.
  int Stop(int grace_ms = 10000);
  // Sends a signal without waiting; then Wait() for the exit status (nullopt: timeout).
  void Signal(int sig);
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  PgveilProcess() = default;

  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<Subprocess> child_;
};

// The pgveil executable to test: $PGVEIL_BIN, else the one this build produced.
std::string PgveilBinary();

// True when a TCP connection to 127.0.0.1:port succeeds.
bool PortAccepts(int port);

}  // namespace pgveil::it
