#include "harness/pg_cluster.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace pgveil::it {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr char kServerUser[] = "postgres";

std::string ServerUser() { return geteuid() == 0 ? kServerUser : ""; }

Status ChownToServerUser(const std::string& path) {
  if (geteuid() != 0) return Status::Ok();
  struct passwd* pw = getpwnam(kServerUser);
  if (pw == nullptr) return NotFound("no postgres user to run the server as");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Unavailable("chown " + path);
  return Status::Ok();
}

Status AppendFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
  out.close();
  if (!out) return Unavailable("cannot write " + path);
  return Status::Ok();
}

}  // namespace

StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return Unavailable("bind to a free port");
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

StatusOr<std::string> FindPgBinDir() {
  if (const char* env = std::getenv("PG_BINDIR"); env != nullptr && *env != '\0')
    return std::string(env);
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (fs::exists(entry.path() / "bin" / "postgres")) {
      found.emplace_back(std::atoi(name.c_str()), (entry.path() / "bin").string());
    }
  }
  if (found.empty()) return NotFound("no PostgreSQL server under /usr/lib/postgresql");
  std::sort(found.begin(), found.end());
  return found.back().second;
}

StatusOr<Rows> QueryOnce(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return Unavailable("connect: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string err = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    return Internal("query failed: " + err);
  }
  Rows rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    Row row;
    for (int c = 0; c < PQnfields(res); ++c) {
      if (PQgetisnull(res, r, c)) {
        row.push_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

StatusOr<std::unique_ptr<PgCluster>> PgCluster::Start(const Options& options) {
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  Status st = cluster->Init(options);
  if (!st.ok()) return st;
  return cluster;
}

Status PgCluster::Init(const Options& options) {
  auto bin = FindPgBinDir();
  if (!bin.ok()) return bin.status();
  bin_dir_ = *bin;

  // /tmp rather than $TMPDIR: the server user must be able to reach the directory.
  std::string tmpl = "/tmp/pgveil-it-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Unavailable("mkdtemp");
  base_dir_ = tmpl;
  fs::permissions(base_dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
  if (Status st = ChownToServerUser(base_dir_); !st.ok()) return st;
  data_dir_ = base_dir_ + "/data";
  log_path_ = base_dir_ + "/server.log";

  Status st =
      RunToCompletion({.argv = {bin_dir_ + "/initdb", "-D", data_dir_, "-U", kSuperUser,
                                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"},
                       .output_path = base_dir_ + "/initdb.log",
                       .run_as_user = ServerUser()},
                      milliseconds(120000));
  if (!st.ok()) return st;

  std::string conf =
      "\nlisten_addresses = '127.0.0.1'\n"
      "unix_socket_directories = '" +
      base_dir_ +
      "'\n"
      "max_connections = " +
      std::to_string(options.max_connections) +
      "\n"
      "shared_buffers = 64MB\n"
      "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
      "password_encryption = 'scram-sha-256'\n"
      "log_connections = on\nlog_disconnections = on\n";
  for (const std::string& line : options.extra_config) conf += line + "\n";
  if (Status s = AppendFile(data_dir_ + "/postgresql.conf", conf); !s.ok()) return s;

  // First match wins: one line per test login, then the superuser, then everyone else
  // must present a SCRAM password (so unknown users fail like wrong passwords).
  std::string hba =
      "local all all trust\n"
      "host all it_trust 127.0.0.1/32 trust\n"
      "host all it_md5 127.0.0.1/32 md5\n"
      "host all it_scram 127.0.0.1/32 scram-sha-256\n"
      "host all postgres 127.0.0.1/32 trust\n"
      "host all all 127.0.0.1/32 scram-sha-256\n";
  {
    std::ofstream out(data_dir_ + "/pg_hba.conf", std::ios::trunc);
    out << hba;
    if (!out) return Unavailable("cannot write pg_hba.conf");
  }

  if (Status s = StartServer(); !s.ok()) return s;

  std::string setup = std::string() +
                      "CREATE ROLE it_trust LOGIN;"
                      "SET password_encryption = 'md5';"
                      "CREATE ROLE it_md5 LOGIN PASSWORD '" +
                      kMd5Password +
                      "';"
                      "SET password_encryption = 'scram-sha-256';"
                      "CREATE ROLE it_scram LOGIN PASSWORD '" +
                      kScramPassword + "';";
  if (Status s = Exec(setup, "postgres"); !s.ok()) return s;
  // CREATE DATABASE cannot share a multi-statement string (an implicit transaction).
  if (Status s = Exec(std::string("CREATE DATABASE ") + kDatabase + " OWNER it_trust", "postgres");
      !s.ok()) {
    return s;
  }
  return Exec("GRANT ALL ON SCHEMA public TO it_md5, it_scram;");
}

Status PgCluster::StartServer() {
  Status last = Unavailable("server did not start");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    port_ = *port;
    auto child = Subprocess::Spawn(
        {.argv = {bin_dir_ + "/postgres", "-D", data_dir_, "-p", std::to_string(port_)},
         .output_path = log_path_,
         .run_as_user = ServerUser(),
         .death_signal = SIGQUIT});
    if (!child.ok()) return child.status();
    server_ = std::move(*child);
    const std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                             " user=postgres dbname=postgres connect_timeout=2";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (server_->Running() && std::chrono::steady_clock::now() < deadline) {
      if (PQping(ping.c_str()) == PQPING_OK) {
        // Another test's server may hold the port, and answer while ours fails to bind.
        auto dir = QueryOnce(ping, "SHOW data_directory");
        std::error_code ec;
        if (dir.ok() && dir->size() == 1 && !(*dir)[0].empty() && (*dir)[0][0].has_value() &&
            fs::equivalent(fs::path(*(*dir)[0][0]), fs::path(data_dir_), ec)) {
          return Status::Ok();
        }
        break;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    server_->Stop(SIGQUIT, milliseconds(5000));
    server_.reset();
    last = Unavailable("PostgreSQL did not start on port " + std::to_string(port_) + "; log:\n" +
                       FileTail(log_path_));
  }
  return last;
}

PgCluster::~PgCluster() {
  if (server_) server_->Stop(SIGINT, milliseconds(15000));
  if (!base_dir_.empty() && std::getenv("PGVEIL_IT_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(base_dir_, ec);
  }
}

std::string PgCluster::ConnInfo(const std::string& user, int port, const std::string& extra) const {
  std::string info = "host=127.0.0.1 port=" + std::to_string(port == 0 ? port_ : port) +
                     " dbname=" + kDatabase + " user=" + user + " connect_timeout=10";
  if (user == kMd5User) info += std::string(" password=") + kMd5Password;
  if (user == kScramUser) info += std::string(" password=") + kScramPassword;
  if (!extra.empty()) info += " " + extra;
  return info;
}

StatusOr<Rows> PgCluster::Query(const std::string& sql, const std::string& dbname) const {
  return QueryOnce("host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" +
                       dbname + " connect_timeout=10 application_name=pgveil-it-harness",
                   sql);
}

Status PgCluster::Exec(const std::string& sql, const std::string& dbname) const {
  auto rows = Query(sql, dbname);
  return rows.ok() ? Status::Ok() : rows.status();
}

}  // namespace pgveil::it
