// The rows of a masked session's `COPY table FROM STDIN`, on their way to the server:
// every field of a pseudonym column is turned back into the real value, as a Bind's
// parameters are (guard::ReversePseudonym), so that what the server stores is the value
// behind the pseudonym the session saw, never a value of the session's choosing.
//
// CopyData messages need not hold whole rows (psql sends fixed-size pieces), so the
// translator keeps the piece of a row that has not ended yet. Rows are written again in
// a canonical form of their format: every field re-encoded as read here, one '\n' per
// row. The server then reads exactly the fields pgveil translated, whatever an unusual
// spelling of the input would have meant to a parser that differs from this one.
//
// Errors name a column or the format's rule, never data. Sans-I/O and single-threaded.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pgveil/guard/analyzer.h"
#include "pgveil/status.h"

namespace pgveil::proxy {

class CopyInTranslator {
 public:
  // `in` lives in `verdict` (kept alive by the translator).
  CopyInTranslator(std::shared_ptr<const guard::Verdict> verdict, const guard::CopyIn* in);

  // One CopyData payload: appends what to send for the rows it completes to *out.
  Status Feed(std::string_view data, std::string* out);
  // CopyDone: the row still open (one without a line end) and the rest.
  Status Finish(std::string* out);

 private:
  Status Take(bool at_end, std::string* out);
  // An error once the row not yet ended has grown past the limit.
  Status OpenRowFits() const;
  // Each returns the bytes of buf_ it used from pos_ (0: the row is not complete yet).
  StatusOr<size_t> TextRow(bool at_end, std::string* out);
  StatusOr<size_t> CsvRow(bool at_end, std::string* out);
  StatusOr<size_t> BinaryPart(bool at_end, std::string* out);
  // One field: NULL or a value; pseudonym columns turned back.
  Status Field(size_t k, bool is_null, std::string* value);
  void EndTextRow(std::string* out);

  std::shared_ptr<const guard::Verdict> verdict_;
  const guard::CopyIn* in_;
  std::string buf_;
  size_t pos_ = 0;
  bool header_pending_;
  bool ended_ = false;  // the end-of-data marker or binary trailer was seen
  std::vector<std::optional<std::string>> row_;
  std::string scratch_;
};

}  // namespace pgveil::proxy
