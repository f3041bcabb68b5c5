// The world of one TLS test executable: a test CA and certificates made with the
// openssl CLI, a throwaway PostgreSQL with ssl=on and a certificate from that CA, and
// helpers to start pgveil processes with TLS configurations. This file's .cc provides
// main(); tests use TlsEnvironment() and the fixture below.
//
// Files in dir() (keys mode 0600):
//   ca.crt, ca.key               the test CA ("pgveil test CA")
//   other-ca.crt, other-ca.key   an unrelated CA nobody trusts
//   server.crt, server.key       CN=localhost, SAN DNS:localhost, IP:127.0.0.1 (by ca)
//   reloaded.crt, reloaded.key   CN=pgveil-reloaded, same SANs (by ca)
//   expired.crt, expired.key     same SANs, expired yesterday (by ca)
//   wrongname.crt, wrongname.key SAN DNS:db.example only (by ca)
//   client.crt, client.key       CN=it_trust, a client certificate (by ca)
//   stranger.crt, stranger.key   CN=it_trust, signed by other-ca
// PostgreSQL uses server.crt; its own copies live in the cluster's directory.
//
// Thread-safety: accessors are safe once SetUp has run; StartPgveil from the test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness/pg_cluster.h"
#include "harness/pgveil_process.h"
#include "harness/raw_client.h"

namespace pgveil::tls_test {

class TlsEnv : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  it::PgCluster& cluster() { return *cluster_; }
  const std::string& dir() const { return dir_; }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

  // Starts pgveil in front of the cluster with `config_json` as its configuration file
  // (written into dir(), so relative paths name the files above). The log goes to
  // dir()/<name>.log.
  StatusOr<std::unique_ptr<it::PgveilProcess>> StartPgveil(const std::string& name,
                                                           const std::string& config_json,
                                                           int upstream_port = 0);

  // Runs `pgveil serve -c <config>` expecting it to exit; returns its output.
  std::string RunPgveilExpectingFailure(const std::string& name, const std::string& config_json);

  // Creates a certificate signed by `ca` ("ca" or "other-ca") into <name>.crt/.key.
  Status MakeCert(const std::string& name, const std::string& ca, const std::string& cn,
                  const std::string& san, int days);

 private:
  Status Openssl(const std::vector<std::string>& args);
  std::string WriteConfig(const std::string& name, const std::string& json);

  std::string dir_;
  std::unique_ptr<it::PgCluster> cluster_;
};

TlsEnv& TlsEnvironment();

// Base fixture: nothing but a shorter name.
class TlsTest : public ::testing::Test {
 protected:
  TlsEnv& env() { return TlsEnvironment(); }
};

// libpq conninfo for `user` on 127.0.0.1:`port`, plus `extra` (later keys win).
std::string ConnInfo(int port, const std::string& user, const std::string& extra);

// Starts SELECT pg_sleep(30) on a libpq connection made with `conninfo` and cancels it
// with PQcancel (a new, plaintext connection in libpq 15), retrying while the query has
// not started. Returns the SQLSTATE the query ended with ("57014" when cancelled), or a
// description of what went wrong.
std::string CancelSleepingQuery(const std::string& conninfo);

// Whether a file contains `needle` (polls up to `timeout_ms`, for logs written async).
bool FileContains(const std::string& path, const std::string& needle, int timeout_ms = 3000);

}  // namespace pgveil::tls_test
