// What the corpus tests of one executable share: the mask model, the anchors, the leak
// scanner, a wire tap in front of pgveil, the objects the corpora refer to (created
// once as the superuser), and the judgement of one corpus entry.
//
// Suite() builds it on first use, after the masking environment is up. Not
// thread-safe: the tests run one entry at a time.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "corpus.h"
#include "leak_scanner.h"
#include "mask_model.h"
#include "wire_tap.h"

namespace pgveil::bypass {

// The masked login every corpus statement runs as.
inline constexpr char kSalesLogin[] = "sales_li";
// The unmasked login whose results are the reference for reads (writes: postgres).
inline constexpr char kMatcherLogin[] = "match_engine";

// How one entry went.
struct Verdict {
  std::string outcome;                // "refused", "served" or "error"
  std::vector<std::string> failures;  // empty: as expected
};

class BypassSuite {
 public:
  static StatusOr<std::unique_ptr<BypassSuite>> Create();

  // Runs `e` as sales_li through the tap (and the reference when needed) and judges it.
  Verdict Judge(const Entry& e);

  // A libpq conninfo through the tap (no TLS, so that the tap sees clear bytes).
  std::string TapConnInfo(const std::string& user) const;

  const MaskModel& model() const { return model_; }
  const Anchors& anchors() const { return anchors_; }
  const masking::LeakScanner& scanner() const { return scanner_; }
  WireTap& tap() { return *tap_; }
  // Leak reports of tap connection `i` (empty: none).
  std::vector<std::string> ScanConnection(size_t i, const std::string& where) const;

  // Results per corpus and class, for the summary printed at the end.
  void Tally(const std::string& corpus, const Entry& e, const Verdict& v);
  std::string Summary(const std::string& corpus) const;

 private:
  BypassSuite(MaskModel model, Anchors anchors, masking::LeakScanner scanner)
      : model_(std::move(model)), anchors_(std::move(anchors)), scanner_(std::move(scanner)) {}
  // New lines of the server log since the last call.
  std::string NewServerLog();
  void CheckRefusal(const Entry& e, PGconn* conn, const Outcome& got, const std::string& marker,
                    std::vector<std::string>* failures);
  std::string CheckServed(const Entry& e, const Outcome& got);

  MaskModel model_;
  Anchors anchors_;
  masking::LeakScanner scanner_;
  std::unique_ptr<WireTap> tap_;
  bool IsStaffName(const std::string& bytes, const std::string& report) const;
  bool IsCatalogOid(const std::string& bytes, const std::string& report) const;

  std::set<std::string> names_;
  std::vector<std::string> staff_names_;
  size_t log_offset_ = 0;
  struct ClassTally {
    int entries = 0, as_expected = 0, refused = 0, served = 0;
    std::vector<std::string> failed;
  };
  std::map<std::string, std::map<std::string, ClassTally>> tally_;  // corpus → class
};

// The suite of this executable (created on first use; fails the test if it cannot be).
BypassSuite* Suite();

// Path of a corpus file in the source tree.
std::string CorpusPath(const std::string& name);

// Loads a corpus for test registration; an unreadable corpus yields one entry that fails.
std::vector<Entry> CorpusForRegistration(const std::string& name);

// gtest parameter names: "A001_ddl".
std::string EntryName(const Entry& e);

}  // namespace pgveil::bypass
