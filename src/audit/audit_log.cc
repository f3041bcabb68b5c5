#include "pgveil/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pgveil::audit {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Unavailable(what + " " + path + ": " + std::strerror(errno));
}

// write(2) until done (a regular file rarely writes short, but a full disk does).
bool WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditLogOptions& options) {
  if (options.path.empty()) return InvalidArgument("audit: path is empty");
  if (options.keep < 1) return InvalidArgument("audit: keep must be at least 1");
  std::unique_ptr<AuditLog> log(new AuditLog(options));
  std::lock_guard lock(log->mu_);
  if (Status st = log->OpenLocked(); !st.ok()) return st;
  return log;
}

AuditLog::AuditLog(AuditLogOptions options) : options_(std::move(options)) {}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::OpenLocked() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  int fd = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("audit: cannot open", options_.path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("audit: cannot stat", options_.path);
    ::close(fd);
    return s;
  }
  fd_ = fd;
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status AuditLog::RotateLocked() {
  const std::string& p = options_.path;
  // The oldest goes; path.(k) -> path.(k+1); path -> path.1.
  const int last = options_.keep - 1;
  if (last == 0) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("audit: cannot remove", p);
    return OpenLocked();
  }
  std::string oldest = p + "." + std::to_string(last);
  if (::unlink(oldest.c_str()) != 0 && errno != ENOENT)
    return Errno("audit: cannot remove", oldest);
  for (int k = last - 1; k >= 1; --k) {
    std::string from = p + "." + std::to_string(k);
    std::string to = p + "." + std::to_string(k + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return Errno("audit: cannot rename", from);
    }
  }
  if (::rename(p.c_str(), (p + ".1").c_str()) != 0 && errno != ENOENT) {
    return Errno("audit: cannot rename", p);
  }
  return OpenLocked();
}

Status AuditLog::Append(const AuditRecord& record) { return AppendLine(ToJson(record)); }

Status AuditLog::AppendLine(std::string_view line) {
  if (line.find('\n') != std::string_view::npos) {
    return InvalidArgument("audit: a record must be one line");
  }
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  std::lock_guard lock(mu_);
  if (options_.max_bytes > 0 && size_ > 0 && size_ + buf.size() > options_.max_bytes) {
    if (Status st = RotateLocked(); !st.ok()) return st;
  }
  if (fd_ < 0) {
    if (Status st = OpenLocked(); !st.ok()) return st;
  }
  if (!WriteAll(fd_, buf.data(), buf.size())) return Errno("audit: cannot write", options_.path);
  size_ += buf.size();
  ++records_;
  return Status::Ok();
}

Status AuditLog::Reopen() {
  std::lock_guard lock(mu_);
  return OpenLocked();
}

uint64_t AuditLog::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

}  // namespace pgveil::audit
