// Child processes for the integration harness: a throwaway PostgreSQL server, pgveil,
// initdb and other helper programs.
//
// A Subprocess is started with fork/exec. As root it can drop to another user before
// exec (PostgreSQL refuses to run as root). Every child asks the kernel to send it a
// signal when the test process dies (PR_SET_PDEATHSIG), so a crashed or killed test
// executable never leaves a server behind. Not thread-safe: create, signal and wait on a
// Subprocess from one thread (the GoogleTest main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgveil/status.h"

namespace pgveil::it {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program path (absolute or in PATH)
  std::string output_path;        // stdout and stderr are appended to this file; "" keeps them
  std::string run_as_user;        // when running as root: exec as this user; "" keeps uid
  int death_signal = SIGKILL;     // delivered to the child when the test process dies
};

class Subprocess {
 public:
  // Starts the child. The returned object owns it: its destructor kills (SIGKILL) and
  // reaps a child that is still running.
  static StatusOr<std::unique_ptr<Subprocess>> Spawn(const SpawnOptions& options);

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // True while the child has not exited. Reaps it when it has.
  bool Running();

  // Sends `sig` and waits up to `grace` for the child to exit; then SIGKILLs it.
  // Returns the exit status as reported by waitpid (see WIFEXITED etc.).
  int Stop(int sig, std::chrono::milliseconds grace);

  // Waits until the child exits or `timeout` passes; nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}

  pid_t pid_;
  std::optional<int> exit_status_;
};

// Runs a program to completion (up to `timeout`), output appended to
// options.output_path. Ok only when it exits with status 0.
Status RunToCompletion(const SpawnOptions& options, std::chrono::milliseconds timeout);

// Text of a whole file, or "" when it cannot be read. For diagnostics.
std::string ReadFileOrEmpty(const std::string& path);

// The last `max_bytes` bytes of a file, for failure messages.
std::string FileTail(const std::string& path, size_t max_bytes = 4000);

}  // namespace pgveil::it
