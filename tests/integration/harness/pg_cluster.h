// A throwaway PostgreSQL cluster for integration tests.
//
// Start() runs initdb in a fresh temporary directory, starts the server on a free port
// of 127.0.0.1 (as the `postgres` user when the test runs as root) and creates one login
// per authentication method, each with its own pg_hba.conf line:
//
//   user        method           password
//   it_trust    trust            -
//   it_md5      md5              kMd5Password (stored as an md5 hash)
//   it_scram    scram-sha-256    kScramPassword
//   postgres    trust            - (superuser, for the harness and for checks)
//
// and the database kDatabase owned by it_trust, where every test login may create
// tables. The destructor stops the server and deletes the directory (kept when the
// environment variable PGVEIL_IT_KEEP is set, for post-mortems). The server also dies
// with the test process (see Subprocess). Not thread-safe except ConnInfo(), which
// only reads immutable fields.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/subprocess.h"
#include "pgveil/status.h"

namespace pgveil::it {

inline constexpr char kDatabase[] = "pgveil_it";
inline constexpr char kSuperUser[] = "postgres";
inline constexpr char kTrustUser[] = "it_trust";
inline constexpr char kMd5User[] = "it_md5";
inline constexpr char kMd5Password[] = "md5-Passw0rd!";
inline constexpr char kScramUser[] = "it_scram";
inline constexpr char kScramPassword[] = "scram-Passw0rd!";

// Rows of a query result as text; SQL NULL is std::nullopt.
using Row = std::vector<std::optional<std::string>>;
using Rows = std::vector<Row>;

class PgCluster {
 public:
  struct Options {
    int max_connections = 300;
    std::vector<std::string> extra_config;  // lines appended to postgresql.conf
  };

  static StatusOr<std::unique_ptr<PgCluster>> Start(const Options& options);
  static StatusOr<std::unique_ptr<PgCluster>> Start() { return Start(Options()); }
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return base_dir_; }
  const std::string& log_path() const { return log_path_; }
  bool Running() { return server_ && server_->Running(); }

  // A libpq conninfo string for `user` on 127.0.0.1:`port` (the server's port by
  // default), with the user's password when it has one. `extra` is appended verbatim.
  std::string ConnInfo(const std::string& user, int port = 0, const std::string& extra = "") const;

  // Runs SQL as the superuser over a fresh connection to kDatabase (or `dbname`).
  // Multi-statement strings are allowed; the rows of the last statement are returned.
  StatusOr<Rows> Query(const std::string& sql, const std::string& dbname = kDatabase) const;
  Status Exec(const std::string& sql, const std::string& dbname = kDatabase) const;

 private:
  PgCluster() = default;
  Status Init(const Options& options);
  Status StartServer();

  std::string bin_dir_;
  std::string base_dir_;
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<Subprocess> server_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
StatusOr<int> PickFreePort();

// The newest /usr/lib/postgresql/*/bin (or $PG_BINDIR).
StatusOr<std::string> FindPgBinDir();

// Runs SQL over a fresh libpq connection; rows of the last statement's result.
StatusOr<Rows> QueryOnce(const std::string& conninfo, const std::string& sql);

}  // namespace pgveil::it
