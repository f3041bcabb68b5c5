// The statement corpora (data/attacks.tsv, data/usability.tsv) and what is needed to
// judge one entry: placeholders filled for the sales rep (pseudonyms) and for the
// unmasked reference (real ids), the expected masked result computed from the
// reference's result, and the literals a refusal message must not repeat.
//
// File format: one entry per line, tab-separated; '#' lines and blank lines are skipped.
//   id  class  expect  mode  columns  sql  [params]
// expect   refuse: SQLSTATE 42501 or 0A000 from pgveil, nothing reaches the server;
//          serve: served, equal to the reference's result masked by `columns`;
//          either: one of the two (where the issue leaves the choice to the guard).
// mode     q simple query; x extended (text parameters); xb extended with binary int8
//          parameters; p libpq pipeline (every parameter set, one Sync); w a write:
//          simple query inside BEGIN … ROLLBACK, reference run as the superuser.
// columns  '-' when no rows are compared (only command tags); otherwise one spec per
//          output column, comma-separated, applied to every result with rows:
//          '=' as the reference got it, '~' not compared (e.g. serial ids),
//          'members.phone' masked by that column's sales rule, 'members.*' every
//          column of the table in order.
// sql      the statement template (no tabs). Placeholders:
//          {P:anchor}  the anchor member's pseudonym for sales, its real id for the
//                      reference (anchors: see Anchors::Load)
//          {EDGE:n}    the birth date at which an age of n years begins today (UTC)
//          {V:name}    a data value, the same for both (city, …)
//          {NL}        a newline (a line of the file cannot hold one)
// params   parameter sets separated by '|', parameters by ',' (placeholders allowed).
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "mask_model.h"
#include "runner.h"

namespace pgveil::bypass {

struct Entry {
  std::string id, klass, expect, mode, columns, sql, params;
  int line = 0;
};

// gtest prints parameters with this: the id and the statement.
void PrintTo(const Entry& e, std::ostream* os);

StatusOr<std::vector<Entry>> LoadCorpus(const std::string& path);

Mode ModeOf(const Entry& e);

// Named members and values the corpora refer to, read once from the demo (superuser).
class Anchors {
 public:
  static StatusOr<Anchors> Load(const MaskModel& model);
  // Expands the placeholders of `text`, for the sales rep or for the reference.
  StatusOr<std::string> Expand(const std::string& text, bool for_sales) const;
  StatusOr<std::vector<std::vector<std::string>>> ExpandParams(const std::string& params,
                                                               bool for_sales) const;
  const std::map<std::string, std::string>& real_ids() const { return real_ids_; }

 private:
  std::map<std::string, std::string> real_ids_, pseudonyms_, values_;
};

// The results the sales rep must get: the reference's results with `columns` applied.
StatusOr<std::vector<ResultSet>> ExpectedResults(const std::vector<ResultSet>& reference,
                                                 const std::string& columns,
                                                 const MaskModel& model);

// "" when `got` equals `want` (rows compared as multisets, columns '~' ignored);
// otherwise where they differ, without values.
std::string CompareResults(const std::vector<ResultSet>& got, const std::vector<ResultSet>& want,
                           const std::string& columns);

// Literals of a statement that an error message must never repeat: string constants
// (and their parts between % wildcards) of at least 3 bytes, numbers of at least 3
// digits. String constants that are names (`names`: relations, columns, settings, as
// in set_config('search_path', …) or table_to_xml('crm.members', …)) are left out: a
// message may name the construct it refuses.
std::vector<std::string> Literals(const std::string& sql, const std::set<std::string>& names);

}  // namespace pgveil::bypass
