// Small helpers shared by the catalog tests: options for a Catalog on the test cluster,
// and values read from the server as the superuser to compare against.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "catalog/catalog_env.h"
#include "pgveil/catalog/catalog.h"

namespace pgveil::catalog::testing {

// Options for kCatalogLogin on the test cluster; `extra` is appended to the conninfo.
inline CatalogOptions Options(const std::string& extra = "") {
  CatalogOptions options;
  options.conninfo = Env().ConnInfo(extra);
  return options;
}

// The single value `sql` returns when run as the superuser ("" and a test failure if
// it does not return exactly one).
inline std::string ServerValue(const std::string& sql) {
  auto rows = Env().cluster().Query(sql);
  if (!rows.ok() || rows->size() != 1 || rows->at(0).size() != 1 || !rows->at(0)[0]) {
    ADD_FAILURE() << "no single value from: " << sql
                  << (rows.ok() ? "" : " (" + rows.status().ToString() + ")");
    return "";
  }
  return *rows->at(0)[0];
}

// pg_class OID of `regclass` (SQL syntax, e.g. "crm.members" or "\"a.b\".c").
inline uint32_t RelationOid(const std::string& regclass) {
  return static_cast<uint32_t>(std::stoul(ServerValue("SELECT '" + regclass + "'::regclass::oid")));
}

// pg_type OID of `regtype` (SQL syntax).
inline uint32_t TypeOid(const std::string& regtype) {
  return static_cast<uint32_t>(std::stoul(ServerValue("SELECT '" + regtype + "'::regtype::oid")));
}

// `name` as a quoted SQL identifier.
inline std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// Polls `condition` every 20 ms for up to `timeout`; its last value.
template <typename F>
bool WaitFor(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Ends every backend whose application_name is `app` and waits until they are gone.
inline ::testing::AssertionResult TerminateBackends(const std::string& app) {
  const std::string where = " FROM pg_stat_activity WHERE application_name = '" + app + "'";
  if (ServerValue("SELECT count(pg_terminate_backend(pid))" + where) == "0") {
    return ::testing::AssertionFailure() << "no backend named " << app;
  }
  if (!WaitFor([&] { return ServerValue("SELECT count(*)" + where) == "0"; })) {
    return ::testing::AssertionFailure() << "backends of " << app << " still alive";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace pgveil::catalog::testing
