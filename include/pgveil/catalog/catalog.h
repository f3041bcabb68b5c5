// Catalog: pgveil's side connection to the database (a libpq conninfo, usually a
// low-privilege login that can read pg_catalog but no user data).
//
// Thread-safety: all methods may be called from any thread; calls are serialized on the
// one side connection, which is (re)opened on demand. Calls block for one round trip;
// results are cached (role membership per login for `membership_ttl`).
// Errors are Status values; a failed Load() leaves current() unchanged. current() and
// RolesOf() answers from the cache never wait for the side connection.
//
// Error messages name what failed and why (libpq's or the server's words), never the
// password of the conninfo (it is scrubbed) and never the login asked about.
//
// The side connection runs with search_path = pg_catalog, pg_temp and a statement
// timeout, set through the connection's `options`, and is reopened (once, at once) when
// a call finds it broken, e.g. after a server restart.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pgveil/catalog/snapshot.h"
#include "pgveil/status.h"

namespace pgveil::catalog {

struct CatalogOptions {
  std::string conninfo;
  std::chrono::milliseconds membership_ttl{60000};
  // Refreshes triggered by an unknown table OID are rate-limited to one per interval.
  std::chrono::milliseconds min_refresh_interval{1000};
  // statement_timeout of the side connection (0: the server's default). A connect
  // timeout of 10 s applies unless the conninfo names one.
  std::chrono::milliseconds query_timeout{30000};
};

class Catalog {
 public:
  explicit Catalog(CatalogOptions options);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Reads every user relation and swaps in a new snapshot. On failure the previous
  // snapshot stays current and the error is returned (it names no data values).
  Status Load();

  // The current snapshot (never null after the first successful Load(); before it,
  // an empty snapshot).
  std::shared_ptr<const Snapshot> current() const;

  // Like Load(), but at most once per min_refresh_interval, measured from the end of the
  // last Load() attempt (successful or not, explicit or through this method). Returns
  // true if it loaded successfully. A caller that waited behind a concurrent load gets
  // false but sees that load's snapshot in current().
  bool RefreshIfStale();

  // The names of every role `login` is a member of, transitively (pg_auth_members, with
  // or without INHERIT), including `login` itself; sorted byte-wise, no duplicates.
  // `login` is passed as a query parameter and compared as PostgreSQL compares role names
  // (truncated to NAMEDATALEN - 1 bytes, like the server truncates the startup user).
  // Answers are cached per login for membership_ttl (0: not cached); errors are not.
  // Errors: NotFound when no role has that name (the server verified the login, so the
  // side connection is looking at another cluster: fail closed); InvalidArgument for a
  // login holding a NUL byte; Unavailable and others from the side connection.
  StatusOr<std::vector<std::string>> RolesOf(const std::string& login);

  // Forgets cached memberships (SIGHUP). A RolesOf() query already running when this is
  // called does not refill the cache.
  void ClearMembershipCache();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::catalog
