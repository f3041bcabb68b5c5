#include "pgveil/catalog/catalog.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "catalog/membership_cache.h"
#include "catalog/queries.h"
#include "catalog/side_connection.h"

namespace pgveil::catalog {

using Clock = std::chrono::steady_clock;

// Two locks, never held together except conn_mu -> snapshot_mu in Load: readers of the
// snapshot (every session) must not wait behind a round trip on the side connection.
struct Catalog::Impl {
  explicit Impl(CatalogOptions opts)
      : options(std::move(opts)),
        conn(options.conninfo, options.query_timeout),
        memberships(options.membership_ttl),
        snapshot(std::make_shared<const Snapshot>(std::vector<Relation>{}, 0)) {}

  // Requires conn_mu.
  Status LoadLocked();

  const CatalogOptions options;

  std::mutex conn_mu;
  SideConnection conn;                         // guarded by conn_mu
  std::optional<Clock::time_point> last_load;  // guarded by conn_mu; end of last attempt

  MembershipCache memberships;  // has its own lock

  mutable std::mutex snapshot_mu;
  std::shared_ptr<const Snapshot> snapshot;  // guarded by snapshot_mu
};

Status Catalog::Impl::LoadLocked() {
  std::vector<Relation> relations;
  Status st = conn.Run("catalog load", [&](SideConnection::Session& session) {
    auto read = ReadRelations(session);
    if (!read.ok()) return read.status();
    relations = std::move(*read);
    return Status::Ok();
  });
  // From the end of the attempt: a slow or failing server gets the whole interval to rest.
  last_load = Clock::now();
  if (!st.ok()) return st;
  // Loads are serialized by conn_mu, so no other writer can slip in between the read of
  // the version and the swap.
  const int64_t version = [&] {
    std::lock_guard<std::mutex> lock(snapshot_mu);
    return snapshot->version() + 1;
  }();
  auto fresh = std::make_shared<const Snapshot>(std::move(relations), version);
  std::lock_guard<std::mutex> lock(snapshot_mu);
  snapshot = std::move(fresh);
  return Status::Ok();
}

Catalog::Catalog(CatalogOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Catalog::~Catalog() = default;

Status Catalog::Load() {
  std::lock_guard<std::mutex> lock(impl_->conn_mu);
  return impl_->LoadLocked();
}

std::shared_ptr<const Snapshot> Catalog::current() const {
  std::lock_guard<std::mutex> lock(impl_->snapshot_mu);
  return impl_->snapshot;
}

bool Catalog::RefreshIfStale() {
  std::lock_guard<std::mutex> lock(impl_->conn_mu);
  if (impl_->last_load.has_value() &&
      Clock::now() - *impl_->last_load < impl_->options.min_refresh_interval) {
    return false;
  }
  return impl_->LoadLocked().ok();
}

StatusOr<std::vector<std::string>> Catalog::RolesOf(const std::string& login) {
  // libpq sends parameters as C strings: a NUL would cut the name short and look up
  // another role.
  if (login.find('\0') != std::string::npos) {
    return InvalidArgument("role membership: the login name holds a NUL byte");
  }
  if (auto cached = impl_->memberships.Find(login, Clock::now())) return std::move(*cached);

  std::lock_guard<std::mutex> lock(impl_->conn_mu);
  const uint64_t generation = impl_->memberships.generation();
  const Clock::time_point asked_at = Clock::now();
  std::vector<std::string> roles;
  Status st = impl_->conn.Run("role membership", [&](SideConnection::Session& session) {
    auto read = ReadRoles(session, login);
    if (!read.ok()) return read.status();
    roles = std::move(*read);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // The server verified this login; if the side connection does not know it, it is
  // looking at another cluster or database server, and nothing it says can be trusted.
  if (roles.empty()) {
    return NotFound("role membership: the login is not a role on the catalog server");
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  impl_->memberships.Insert(login, roles, asked_at, generation);
  return roles;
}

void Catalog::ClearMembershipCache() { impl_->memberships.Clear(); }

}  // namespace pgveil::catalog
