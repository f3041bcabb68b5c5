// A libpq result with an owner, and typed reads of its text-format values.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pgveil/status.h"

namespace pgveil::catalog {

class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res) {}

  PGresult* get() const { return res_.get(); }
  int rows() const { return PQntuples(res_.get()); }
  int columns() const { return PQnfields(res_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  // The value as text ("" for NULL); valid while this result lives.
  std::string_view Text(int row, int col) const {
    return std::string_view(PQgetvalue(res_.get(), row, col),
                            static_cast<size_t>(PQgetlength(res_.get(), row, col)));
  }

  // Typed reads. A value that is NULL or does not parse as the type sets *error (once:
  // the first error is kept) and yields 0, so that a row can be read field by field and
  // checked at the end.
  uint32_t Oid(int row, int col, Status* error) const;
  int16_t Int16(int row, int col, Status* error) const;
  int32_t Int32(int row, int col, Status* error) const;

 private:
  struct Deleter {
    void operator()(PGresult* res) const { PQclear(res); }
  };
  std::unique_ptr<PGresult, Deleter> res_;
};

}  // namespace pgveil::catalog
