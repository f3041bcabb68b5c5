#include "catalog/pg_result.h"

#include <charconv>

namespace pgveil::catalog {
namespace {

template <typename T>
T Parse(const PgResult& res, int row, int col, Status* error) {
  T value = 0;
  std::string_view text = res.Text(row, col);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.IsNull(row, col) || ec != std::errc() || end != text.data() + text.size()) {
    if (error->ok()) {
      *error = Internal("catalog: unexpected value in column " + std::to_string(col) +
                        " of a catalog query");
    }
    return 0;
  }
  return value;
}

}  // namespace

uint32_t PgResult::Oid(int row, int col, Status* error) const {
  return Parse<uint32_t>(*this, row, col, error);
}

int16_t PgResult::Int16(int row, int col, Status* error) const {
  return Parse<int16_t>(*this, row, col, error);
}

int32_t PgResult::Int32(int row, int col, Status* error) const {
  return Parse<int32_t>(*this, row, col, error);
}

}  // namespace pgveil::catalog
