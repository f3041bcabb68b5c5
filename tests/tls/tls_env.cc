#include "tls_env.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness/pq_util.h"
#include "harness/subprocess.h"

namespace pgveil::tls_test {
namespace {

namespace fs = std::filesystem;
TlsEnv* g_env = nullptr;
int g_serial = 100;  // certificate serial numbers, in creation order

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : Unavailable("cannot write " + path);
}

// PostgreSQL runs as `postgres` when the tests run as root; its key must be its own
// and mode 0600.
Status GiveToServerUser(const std::string& path, mode_t mode) {
  if (chmod(path.c_str(), mode) != 0) return Unavailable("chmod " + path);
  if (geteuid() != 0) return Status::Ok();
  struct passwd* pw = getpwnam("postgres");
  if (pw == nullptr) return NotFound("no postgres user");
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Unavailable("chown " + path);
  return Status::Ok();
}

}  // namespace

TlsEnv& TlsEnvironment() { return *g_env; }

Status TlsEnv::Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return it::RunToCompletion({.argv = argv, .output_path = dir_ + "/openssl.log"},
                             std::chrono::seconds(30));
}

Status TlsEnv::MakeCert(const std::string& name, const std::string& ca, const std::string& cn,
                        const std::string& san, int days) {
  const std::string base = dir_ + "/" + name;
  Status st =
      Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn});
  if (!st.ok()) return st;
  std::string ext = "basicConstraints=CA:FALSE\n";
  if (!san.empty()) ext += "subjectAltName=" + san + "\n";
  if (st = WriteFile(base + ".ext", ext); !st.ok()) return st;
  st = Openssl({"x509", "-req", "-in", base + ".csr", "-CA", dir_ + "/" + ca + ".crt", "-CAkey",
                dir_ + "/" + ca + ".key", "-set_serial", std::to_string(g_serial++), "-days",
                std::to_string(days), "-extfile", base + ".ext", "-out", base + ".crt"});
  if (!st.ok()) return st;
  if (chmod((base + ".key").c_str(), 0600) != 0) return Unavailable("chmod " + base + ".key");
  return Status::Ok();
}

void TlsEnv::SetUp() {
  std::string tmpl = "/tmp/pgveil-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  for (const char* ca : {"ca", "other-ca"}) {
    const std::string base = dir_ + "/" + ca;
    Status st =
        Openssl({"req",
                 "-x509",
                 "-newkey",
                 "ec",
                 "-pkeyopt",
                 "ec_paramgen_curve:prime256v1",
                 "-nodes",
                 "-keyout",
                 base + ".key",
                 "-out",
                 base + ".crt",
                 "-subj",
                 std::string("/CN=pgveil test ") + (ca == std::string("ca") ? "CA" : "other CA"),
                 "-days",
                 "3650",
                 "-set_serial",
                 std::to_string(g_serial++),
                 "-addext",
                 "basicConstraints=critical,CA:TRUE",
                 "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"});
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << it::FileTail(dir_ + "/openssl.log");
  }
  const std::string local = "DNS:localhost,IP:127.0.0.1";
  struct Spec {
    const char *name, *ca, *cn;
    std::string san;
    int days;
  };
  const Spec specs[] = {
      {"server", "ca", "localhost", local, 365},
      {"reloaded", "ca", "pgveil-reloaded", local, 365},
      {"expired", "ca", "localhost", local, -1},
      {"wrongname", "ca", "db.example", "DNS:db.example", 365},
      {"client", "ca", "it_trust", "", 365},
      {"stranger", "other-ca", "it_trust", "", 365},
  };
  for (const Spec& s : specs) {
    Status st = MakeCert(s.name, s.ca, s.cn, s.san, s.days);
    ASSERT_TRUE(st.ok()) << s.name << ": " << st.ToString() << "\n"
                         << it::FileTail(dir_ + "/openssl.log");
  }

  // PostgreSQL's own copies, in a folder only it can read.
  const std::string pg = dir_ + "/pg";
  fs::create_directory(pg);
  fs::copy_file(File("server.crt"), pg + "/server.crt");
  fs::copy_file(File("server.key"), pg + "/server.key");
  ASSERT_TRUE(GiveToServerUser(pg + "/server.crt", 0644).ok());
  ASSERT_TRUE(GiveToServerUser(pg + "/server.key", 0600).ok());
  ASSERT_TRUE(GiveToServerUser(pg, 0700).ok());

  it::PgCluster::Options options;
  options.extra_config = {"ssl = on", "ssl_cert_file = '" + pg + "/server.crt'",
                          "ssl_key_file = '" + pg + "/server.key'"};
  auto cluster = it::PgCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  cluster_ = std::move(*cluster);
}

void TlsEnv::TearDown() {
  cluster_.reset();
  if (std::getenv("PGVEIL_IT_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    std::cerr << "[tls] kept " << dir_ << "\n";
  }
}

std::string TlsEnv::WriteConfig(const std::string& name, const std::string& json) {
  const std::string path = dir_ + "/" + name + ".json";
  EXPECT_TRUE(WriteFile(path, json).ok());
  return path;
}

StatusOr<std::unique_ptr<it::PgveilProcess>> TlsEnv::StartPgveil(const std::string& name,
                                                                 const std::string& config_json,
                                                                 int upstream_port) {
  it::PgveilProcess::Options options;
  options.upstream_port = upstream_port != 0 ? upstream_port : cluster_->port();
  options.log_path = dir_ + "/" + name + ".log";
  options.extra_args = {"-c", WriteConfig(name, config_json)};
  return it::PgveilProcess::Start(options);
}

std::string TlsEnv::RunPgveilExpectingFailure(const std::string& name,
                                              const std::string& config_json) {
  const std::string log = dir_ + "/" + name + ".log";
  Status st =
      it::RunToCompletion({.argv = {it::PgveilBinary(), "serve", "--listen", "127.0.0.1:0",
                                    "--upstream", "127.0.0.1:" + std::to_string(cluster_->port()),
                                    "-c", WriteConfig(name, config_json)},
                           .output_path = log},
                          std::chrono::seconds(20));
  EXPECT_FALSE(st.ok()) << "pgveil started with " << config_json;
  return it::ReadFileOrEmpty(log);
}

std::string ConnInfo(int port, const std::string& user, const std::string& extra) {
  return TlsEnvironment().cluster().ConnInfo(user, port, extra);
}

std::string CancelSleepingQuery(const std::string& conninfo) {
  auto conn = it::Connect(conninfo);
  if (!conn.ok()) return "connect: " + conn.status().message();
  if (PQsendQuery(conn->get(), "SELECT pg_sleep(30)") != 1) return "PQsendQuery failed";
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    PGcancel* cancel = PQgetCancel(conn->get());
    char err[256] = {0};
    int sent = PQcancel(cancel, err, sizeof(err));
    PQfreeCancel(cancel);
    if (sent != 1) return std::string("PQcancel: ") + err;
    for (int i = 0; i < 50; ++i) {
      if (PQconsumeInput(conn->get()) != 1) return "connection lost";
      if (!PQisBusy(conn->get())) {
        it::PgResult res(PQgetResult(conn->get()));
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        return state != nullptr ? state : "no error";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return "not cancelled";
}

bool FileContains(const std::string& path, const std::string& needle, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (it::ReadFileOrEmpty(path).find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace pgveil::tls_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pgveil::tls_test::g_env = new pgveil::tls_test::TlsEnv();
  ::testing::AddGlobalTestEnvironment(pgveil::tls_test::g_env);  // gtest owns it
  return RUN_ALL_TESTS();
}
