// `pgveil diff`: runs the same queries directly (or as an unmasked login) and through
// pgveil as a masked login, puts the results side by side and checks that nothing leaked.
//
// Rows are paired by position. Row order is only defined by ORDER BY, so give each
// query an ORDER BY on columns the masked login may sort by (unprotected ones) that makes
// the order total, or none at all for small tables read in physical order; diff adds
// nothing. A pairing is accepted only if every column the policy shows as stored is
// equal in every pair; otherwise the query is reported "unpaired" and the checks that
// need pairs (kept/transformed/nulled, shape, consistency, per-cell leaks) are skipped
// for it (the run-wide leak search still runs).
//
// The policy is the one the rules give the masked login (its roles are read on the raw
// connection), or `policy` when set. Each result column is traced to its base column
// through the RowDescription of the raw result (table OID, attribute number); its rule
// comes from `rules` — the reference, which may differ from what the proxy runs with.
//
// Checks, per query and overall:
//  - rows: same row count;
//  - columns: what happened to each column (kept, transformed, nulled, mixed);
//  - leak: (1) a protected column whose transform never returns its input (null,
//    partial, hash, pseudonym, bucket, age_band, constant) shows a non-empty raw value
//    unchanged; (2) a raw value of such a column (at least 4 characters and not only
//    digits, or at least 7 digits) appears in any masked cell of the run, as the whole
//    cell, a word of it, or a digit run (separators ignored); (3) in a `redact` column, a
//    detector hit of the raw text (at least 5 bytes) appears verbatim in the masked text;
//  - consistency: per pseudonym/hash rule, one raw value maps to one masked value and
//    distinct raw values to distinct masked values, across all queries of the run;
//  - shape: every masked cell equals the rule's transform applied to the raw cell
//    (buckets, bands, partials, truncations, redactions, pseudonyms with `keys_file`).
// Exit status: 0 all checks pass; 1 on a leak, an inconsistency, a shape or row-count
// mismatch, or a query that failed on either side; 2 for a bad invocation or a
// connection that cannot be made.
//
// Output: `format` "text" prints the checks and the first `max_rows` rows side by side
// (masked cells marked: `*` transformed, `∅` nulled, `!` leak), aligned by display width
// (CJK characters take two columns); "json" prints the checks only, without any value,
// for CI logs. `html_file` gets one self-contained page with the same comparison.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pgveil::tools {

struct DiffOptions {
  std::string raw;     // libpq conninfo: directly, or an unmasked login
  std::string masked;  // libpq conninfo: through pgveil as a masked login
  std::vector<std::string> queries;
  std::string file;  // SQL file: statements separated by ';' (libpg_query's splitter)
  std::vector<std::string> rules;
  std::string keys_file;
  std::string policy;  // override; empty: resolve the masked login's policy
  std::string html_file;
  std::string format = "text";
  int max_rows = 10;    // rows shown per query (text and HTML)
  int cell_width = 14;  // terminal columns per cell
};

int RunDiff(const DiffOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pgveil::tools
