#include "masking_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace pgveil::masking {
namespace {

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The byte offset of code point `k` (s.size() when there are fewer).
size_t OffsetOfCodePoint(std::string_view s, size_t k) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == k) return i;
      ++seen;
    }
  }
  return s.size();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int Table::Col(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

StatusOr<Table> Fetch(PGconn* conn, const std::string& sql, int format) {
  it::PgResult res(PQexecParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, format));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    return Internal(std::string("query failed: ") + PQresultErrorMessage(res.get()) +
                    PQerrorMessage(conn));
  }
  Table t;
  for (int c = 0; c < PQnfields(res.get()); ++c) {
    t.names.emplace_back(PQfname(res.get(), c));
    t.types.push_back(PQftype(res.get(), c));
  }
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    std::vector<Cell> row;
    for (int c = 0; c < PQnfields(res.get()); ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

StatusOr<Table> Fetch(const std::string& conninfo, const std::string& sql, int format) {
  auto conn = it::Connect(conninfo);
  if (!conn.ok()) return conn.status();
  return Fetch(conn->get(), sql, format);
}

std::string DiffRows(const std::vector<std::vector<Cell>>& got,
                     const std::vector<std::vector<Cell>>& want,
                     const std::vector<std::string>& names) {
  if (got.size() != want.size()) {
    return std::to_string(got.size()) + " rows instead of " + std::to_string(want.size());
  }
  size_t differing = 0;
  std::string first;
  for (size_t r = 0; r < got.size(); ++r) {
    if (got[r] == want[r]) continue;
    if (++differing > 1) continue;
    first = "row " + std::to_string(r);
    for (size_t c = 0; c < got[r].size() && c < want[r].size(); ++c) {
      if (got[r][c] != want[r][c]) {
        first += ", column " + (c < names.size() ? names[c] : std::to_string(c));
        break;
      }
    }
  }
  if (differing == 0) return "";
  return std::to_string(differing) + " rows differ, the first at " + first;
}

std::string ExpectedPartial(std::string_view value, int first, int last,
                            std::string_view keep_after) {
  std::string_view head = value, tail;
  if (!keep_after.empty()) {
    size_t at = value.rfind(keep_after);
    if (at != std::string_view::npos) {
      head = value.substr(0, at);
      tail = value.substr(at);
    }
  }
  const size_t n = CodePoints(head);
  if (n <= static_cast<size_t>(first + last)) first = last = 0;
  std::string out(head.substr(0, OffsetOfCodePoint(head, first)));
  out.append(n - first - last, '*');
  out.append(head.substr(OffsetOfCodePoint(head, n - last)));
  out.append(tail);
  return out;
}

std::string ExpectedIncomeBracket(int64_t income) {
  static constexpr int64_t kBounds[] = {0, 3000, 5000, 8000, 12000, 20000, 30000, 50000};
  constexpr size_t kCount = sizeof(kBounds) / sizeof(kBounds[0]);
  if (income < kBounds[0]) return "<" + std::to_string(kBounds[0]);
  for (size_t i = 0; i + 1 < kCount; ++i) {
    if (income < kBounds[i + 1]) {
      return std::to_string(kBounds[i]) + "-" + std::to_string(kBounds[i + 1] - 1);
    }
  }
  return std::to_string(kBounds[kCount - 1]) + "+";
}

std::string ExpectedWidthBand(int64_t value, int64_t width) {
  const int64_t lo = FloorDiv(value, width) * width;
  return std::to_string(lo) + "-" + std::to_string(lo + width - 1);
}

Cell ExpectedAgeBand(std::string_view birth, std::string_view today) {
  int by = 0, bm = 0, bd = 0, ty = 0, tm = 0, td = 0;
  if (std::sscanf(std::string(birth).c_str(), "%d-%d-%d", &by, &bm, &bd) != 3 ||
      std::sscanf(std::string(today).c_str(), "%d-%d-%d", &ty, &tm, &td) != 3) {
    return std::string("<unparsable date>");
  }
  int age = ty - by - ((tm < bm || (tm == bm && td < bd)) ? 1 : 0);
  if (age < 0) return std::nullopt;
  return ExpectedWidthBand(age, 5);
}

std::string UtcToday() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

int64_t BinaryInt(std::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  const size_t bits = bytes.size() * 8;
  if (bits > 0 && bits < 64 && (v >> (bits - 1)) != 0) v |= ~uint64_t{0} << bits;  // sign
  return static_cast<int64_t>(v);
}

std::string DigitsOf(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= '0' && c <= '9') {
      out.push_back(static_cast<char>(c));
    } else if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBC &&
               static_cast<unsigned char>(s[i + 2]) >= 0x90 &&
               static_cast<unsigned char>(s[i + 2]) <= 0x99) {
      // Full-width digits U+FF10..U+FF19 are EF BC 90..99 in UTF-8.
      out.push_back(static_cast<char>('0' + (static_cast<unsigned char>(s[i + 2]) - 0x90)));
      i += 2;
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace pgveil::masking
