// AuditLog: the append-only JSON-lines file behind the `audit` config key.
//
// Usage by the proxy (one AuditLog per process, shared by every worker thread):
//   auto log = audit::AuditLog::Open({.path = "/var/log/pgveil/audit.jsonl"});
//   if (!log.ok()) { ... refuse to start ... }
//   // per statement of a masked session (and per refused statement):
//   audit::AuditRecord r;
//   r.login = ...; r.policy = ...; r.statement = audit::SummarizeStatement(sql); ...
//   (*log)->Append(r);                 // errors are values; log them, do not throw
//   // on SIGHUP, after logrotate renamed the file:
//   (*log)->Reopen();
//
// Rotation is size based: when a record would take the file past `max_bytes`, the file
// is renamed to `path.1` (`path.1` to `path.2`, ... up to `path.<keep-1>`; the oldest is
// removed) and a new `path` is started, so at most `keep` files exist. The file is
// created with mode 0600.
//
// Thread-safety: every method may be called from any thread concurrently. A record is
// serialised outside the lock and written with one write(2) under it, so lines never
// interleave and a writer waits only for another writer's single write (no fsync).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pgveil/audit/audit_record.h"
#include "pgveil/status.h"

namespace pgveil::audit {

struct AuditLogOptions {
  std::string path;
  uint64_t max_bytes = uint64_t{64} << 20;  // 64 MiB; 0: never rotate
  int keep = 8;                             // files kept, `path` included (>= 1)
};

class AuditLog {
 public:
  // Opens (creates) the file for appending. kInvalidArgument for bad options,
  // kUnavailable if the file cannot be opened.
  static StatusOr<std::unique_ptr<AuditLog>> Open(const AuditLogOptions& options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends ToJson(record) and a newline, rotating first if needed.
  Status Append(const AuditRecord& record);
  // Appends one preformatted line (must not contain a newline; one is added).
  Status AppendLine(std::string_view line);
  // Closes and reopens `path` (for SIGHUP after an external rename).
  Status Reopen();

  const AuditLogOptions& options() const { return options_; }
  // Lines written since Open (rotations included); for metrics and tests.
  uint64_t records() const;

 private:
  explicit AuditLog(AuditLogOptions options);
  Status OpenLocked();
  Status RotateLocked();

  const AuditLogOptions options_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t records_ = 0;
};

}  // namespace pgveil::audit
