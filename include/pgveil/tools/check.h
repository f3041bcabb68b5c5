// `pgveil check` and `pgveil keygen`: the DBA's tools for rules and keys.
//
// Both write human-readable output to `out` (summaries) and `err` (one diagnostic per
// line, `FILE: /json/pointer: message`) and return the process exit status:
// 0 fine (warnings allowed), 1 problems found, 2 bad invocation.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace pgveil::tools {

struct CheckOptions {
  std::vector<std::string> rules;  // files or directories
  std::string keys_file;           // empty: key names are not checked (warning)
  std::string db;                  // libpq conninfo; empty: offline check only
};

// Validates the rules offline; with `db`, also against the live catalog: every listed
// relation and column exists, declared types match, every transform accepts the
// column's type (for every masked policy), every role a policy names exists, views that
// read protected columns but have no rules of their own are reported (warning), and a
// coverage summary is printed.
int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err);

struct KeygenOptions {
  std::string out_file;
  std::vector<std::string> names;  // key names; default {"default"}
  bool force = false;              // replace an existing file
};

// Writes a new key file (mode 0600) with fresh random 256-bit keys. Never prints keys.
int RunKeygen(const KeygenOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pgveil::tools
