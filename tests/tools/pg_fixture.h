// A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, started on
// a free port through scripts/lib/pgcluster.sh (which runs the server as `postgres` when
// the tests run as root), stopped and removed when the object dies.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <pqxx/pqxx>
#include <string>

namespace pgveil::testing {

class PgCluster {
 public:
  PgCluster()
      : dir_(std::filesystem::temp_directory_path() /
             ("pgveil-tools-pg-" + std::to_string(::getpid()))) {}
  ~PgCluster() { Stop(); }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Starts the cluster; false (with the script's output in *error) on failure.
  bool Start(std::string* error) {
    std::string out;
    const std::string cmd = "bash -c 'source " + Script() + " && pgc_start " + dir_.string() +
                            " && echo PORT=$PGC_PORT' 2>&1";
    if (!Run(cmd, &out)) {
      *error = out;
      return false;
    }
    const size_t pos = out.rfind("PORT=");
    if (pos == std::string::npos) {
      *error = out;
      return false;
    }
    port_ = std::stoi(out.substr(pos + 5));
    started_ = true;
    return true;
  }

  std::string Conninfo(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db;
  }

  void Exec(const std::string& sql) const {
    pqxx::connection c(Conninfo());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }

 private:
  static std::string Script() { return PGVEIL_SOURCE_DIR "/scripts/lib/pgcluster.sh"; }

  static bool Run(const std::string& cmd, std::string* out) {
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return false;
    std::array<char, 512> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
    return ::pclose(p) == 0;
  }

  void Stop() {
    if (started_) {
      std::string out;
      Run("bash -c 'source " + Script() + " && PGC_DIR=" + dir_.string() + " && pgc_stop' 2>&1",
          &out);
      started_ = false;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::remove(dir_.string() + ".initdb.log", ec);
  }

  std::filesystem::path dir_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace pgveil::testing
