#include "harness/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace pgveil::it {
namespace {

// Only async-signal-safe calls between fork and exec: this writes a fixed message and
// exits, so a failed exec shows up in the child's output file.
[[noreturn]] void ChildFail(const char* what) {
  const char* err = strerror(errno);
  (void)!write(STDERR_FILENO, "spawn: ", 7);
  (void)!write(STDERR_FILENO, what, strlen(what));
  (void)!write(STDERR_FILENO, ": ", 2);
  (void)!write(STDERR_FILENO, err, strlen(err));
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

}  // namespace

StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("empty argv");
  // Everything the child needs is prepared before fork: no allocation after it.
  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  uid_t uid = 0;
  gid_t gid = 0;
  std::string user_home;
  const bool drop = !options.run_as_user.empty() && geteuid() == 0;
  if (drop) {
    struct passwd* pw = getpwnam(options.run_as_user.c_str());
    if (pw == nullptr) return NotFound("no such user: " + options.run_as_user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    user_home = pw->pw_dir;
  }
  int out_fd = -1;
  if (!options.output_path.empty()) {
    out_fd = open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) return Unavailable("cannot open " + options.output_path);
    if (drop && fchown(out_fd, uid, gid) != 0) {
      close(out_fd);
      return Unavailable("cannot chown " + options.output_path);
    }
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (out_fd >= 0) close(out_fd);
    return Unavailable(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    if (out_fd >= 0) {
      if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0) ChildFail("dup2");
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    setpgid(0, 0);  // own process group: a terminal's ^C reaches the test, not the server
    if (drop) {
      if (setgroups(0, nullptr) != 0) ChildFail("setgroups");
      if (setgid(gid) != 0) ChildFail("setgid");
      if (setuid(uid) != 0) ChildFail("setuid");
      setenv("HOME", user_home.c_str(), 1);
    }
    // After setuid: a credential change clears the parent-death signal.
    if (prctl(PR_SET_PDEATHSIG, options.death_signal) != 0) ChildFail("prctl");
    if (getppid() != parent) _exit(126);  // the parent died before prctl
    execvp(argv[0], argv.data());
    ChildFail(argv[0]);
  }
  if (out_fd >= 0) close(out_fd);
  return std::unique_ptr<Subprocess>(new Subprocess(pid));
}

Subprocess::~Subprocess() {
  if (Running()) Stop(SIGKILL, std::chrono::milliseconds(5000));
}

bool Subprocess::Running() {
  if (exit_status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    return false;
  }
  return r == 0;
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int Subprocess::Stop(int sig, std::chrono::milliseconds grace) {
  if (Running()) {
    kill(pid_, sig);
    if (!Wait(grace)) {
      kill(pid_, SIGKILL);
      Wait(std::chrono::milliseconds(10000));
    }
  }
  return exit_status_.value_or(-1);
}

Status RunToCompletion(const SpawnOptions& options, std::chrono::milliseconds timeout) {
  auto child = Subprocess::Spawn(options);
  if (!child.ok()) return child.status();
  std::optional<int> status = (*child)->Wait(timeout);
  if (!status) {
    (*child)->Stop(SIGKILL, std::chrono::milliseconds(1000));
    return Unavailable(options.argv[0] + " timed out");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Internal(options.argv[0] + " failed (status " + std::to_string(*status) +
                    "), output:\n" + FileTail(options.output_path));
  }
  return Status::Ok();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::string text = ReadFileOrEmpty(path);
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

}  // namespace pgveil::it
