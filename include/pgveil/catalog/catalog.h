// Catalog: pgveil's side connection to the database (a libpq conninfo, usually a
// low-privilege login that can read pg_catalog but no user data).
//
// Thread-safety: all methods may be called from any thread; calls are serialized on the
// one side connection, which is (re)opened on demand. Calls block for one round trip;
// results are cached (role membership per login for `membership_ttl`).
// Errors are Status values; a failed Load() leaves current() unchanged.
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

  // Like Load(), but at most once per min_refresh_interval; returns true if it loaded.
  bool RefreshIfStale();

  // The names of every role `login` is a member of, transitively (pg_auth_members),
  // including `login` itself; sorted. Cached for membership_ttl.
  StatusOr<std::vector<std::string>> RolesOf(const std::string& login);

  // Forgets cached memberships (SIGHUP).
  void ClearMembershipCache();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgveil::catalog
