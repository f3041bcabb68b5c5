#include "proxy/copy_in.h"

#include <cstring>

#include "pgveil/policy/copy_text.h"
#include "pgveil/wire/frame.h"

namespace pgveil::proxy {
namespace {

constexpr char kBinarySignature[] = "PGCOPY\n\377\r\n";  // + '\0': 11 bytes
constexpr size_t kBinaryHeader = 19;                     // signature, flags, extension length
// The longest row kept while it has not ended: the proxy's memory is the limit here.
constexpr size_t kMaxOpenRow = 64u << 20;

}  // namespace

CopyInTranslator::CopyInTranslator(std::shared_ptr<const guard::Verdict> verdict,
                                   const guard::CopyIn* in)
    : verdict_(std::move(verdict)),
      in_(in),
      header_pending_(in->copy.header || in->copy.format == guard::CopyFormat::kBinary) {}

Status CopyInTranslator::Feed(std::string_view data, std::string* out) {
  if (ended_) return Status::Ok();  // after the end of data: the server reads no more
  buf_.append(data);
  if (in_->copy.format != guard::CopyFormat::kBinary &&
      data.find_first_of("\n\r.") == std::string_view::npos) {
    // Text and CSV rows end only at a line break (or "\."): without one this piece ends
    // no row, and the open row is not read again (a long row sent in small pieces would
    // be read once per piece).
    return OpenRowFits();
  }
  return Take(/*at_end=*/false, out);
}

Status CopyInTranslator::OpenRowFits() const {
  if (buf_.size() - pos_ > kMaxOpenRow) {
    return InvalidArgument("a COPY row into a pseudonym column is longer than 64 MB");
  }
  return Status::Ok();
}

Status CopyInTranslator::Finish(std::string* out) {
  if (ended_) return Status::Ok();
  return Take(/*at_end=*/true, out);
}

Status CopyInTranslator::Take(bool at_end, std::string* out) {
  for (;;) {
    if (ended_ || pos_ >= buf_.size()) break;
    StatusOr<size_t> used = size_t{0};
    switch (in_->copy.format) {
      case guard::CopyFormat::kText:
        used = TextRow(at_end, out);
        break;
      case guard::CopyFormat::kCsv:
        used = CsvRow(at_end, out);
        break;
      case guard::CopyFormat::kBinary:
        used = BinaryPart(at_end, out);
        break;
    }
    if (!used.ok()) return used.status();
    if (*used == 0) break;
    pos_ += *used;
  }
  if (at_end && !ended_ && pos_ < buf_.size()) {
    return InvalidArgument("COPY data ends inside a row");
  }
  if (Status st = OpenRowFits(); !st.ok()) return st;
  // Keep the unfinished row only.
  if (pos_ > 0 && (pos_ >= buf_.size() || pos_ > 65536)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return Status::Ok();
}

Status CopyInTranslator::Field(size_t k, bool is_null, std::string* value) {
  if (k >= in_->fields.size()) return InvalidArgument("a COPY row has more fields than columns");
  const guard::ParamReversal& f = in_->fields[k];
  if (is_null || !f.transform || header_pending_) return Status::Ok();
  if (value->empty()) return Status::Ok();  // not a number or uuid: the server refuses it
  scratch_.clear();
  if (!guard::ReversePseudonym(f, mask::Format::kText, *value, &scratch_).ok()) {
    return InvalidArgument("a value for column " + f.column +
                           " is not a pseudonym of its domain; use the identifiers pgveil "
                           "shows to this login");
  }
  value->swap(scratch_);
  return Status::Ok();
}

void CopyInTranslator::EndTextRow(std::string* out) {
  const guard::CopyStatement& c = in_->copy;
  for (size_t k = 0; k < row_.size(); ++k) {
    if (k > 0) out->push_back(c.delimiter);
    if (!row_[k]) {
      out->append(c.null_string);
      continue;
    }
    if (c.format == guard::CopyFormat::kCsv) {
      if (row_.size() == 1 && *row_[k] == "\\.") {
        out->append(1, c.quote).append("\\.").append(1, c.quote);  // not the end marker
        continue;
      }
      policy::QuoteCopyCsv(*row_[k], c, out);
      continue;
    }
    const size_t start = out->size();
    policy::EscapeCopyText(*row_[k], c.delimiter, out);
    if (std::string_view(*out).substr(start) == c.null_string && !row_[k]->empty()) {
      // A value spelled like the NULL marker: its first byte as an octal escape.
      const auto b = static_cast<unsigned char>((*out)[start]);
      const char octal[] = {'\\', static_cast<char>('0' + (b >> 6)),
                            static_cast<char>('0' + ((b >> 3) & 7)),
                            static_cast<char>('0' + (b & 7))};
      out->replace(start, 1, octal, 4);
    }
  }
  out->push_back('\n');
}

StatusOr<size_t> CopyInTranslator::TextRow(bool at_end, std::string* out) {
  const guard::CopyStatement& c = in_->copy;
  const std::string_view b = std::string_view(buf_).substr(pos_);
  // Where the row ends: a line end that no backslash escapes (PostgreSQL skips the byte
  // after every backslash), or "\." (the end of the data).
  size_t i = 0, row_end = std::string_view::npos, next = 0;
  bool marker = false;
  while (i < b.size()) {
    const char ch = b[i];
    if (ch == '\\') {
      if (i + 1 >= b.size()) break;
      if (b[i + 1] == '.') {
        marker = true;
        row_end = i;
        next = b.size();
        break;
      }
      i += 2;
      continue;
    }
    if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 >= b.size() && !at_end) break;  // "\r\n" split in two
      row_end = i;
      next = i + 1 + (ch == '\r' && i + 1 < b.size() && b[i + 1] == '\n' ? 1 : 0);
      break;
    }
    ++i;
  }
  if (row_end == std::string_view::npos) {
    if (!at_end) return size_t{0};
    row_end = b.size();
    next = b.size();
  }
  const std::string_view row = b.substr(0, row_end);
  if (!(marker && row.empty())) {
    row_.clear();
    size_t start = 0;
    for (size_t j = 0;; ++j) {
      if (j < row.size() && row[j] == '\\') {
        ++j;  // the escaped byte is data, even a delimiter
        continue;
      }
      if (j < row.size() && row[j] != c.delimiter) continue;
      const std::string_view raw = row.substr(start, j - start);
      const bool is_null = raw == c.null_string;
      std::string value;
      if (!is_null) policy::UnescapeCopyText(raw, &value);
      if (Status st = Field(row_.size(), is_null, &value); !st.ok()) return st;
      if (is_null) {
        row_.emplace_back(std::nullopt);
      } else {
        row_.emplace_back(std::move(value));
      }
      if (j >= row.size()) break;
      start = j + 1;
    }
    if (!header_pending_ && row_.size() != in_->fields.size()) {
      return InvalidArgument("a COPY row has fewer fields than columns");
    }
    header_pending_ = false;
    EndTextRow(out);
  }
  if (marker) {
    out->append("\\.\n");
    ended_ = true;
  }
  return next;
}

StatusOr<size_t> CopyInTranslator::CsvRow(bool at_end, std::string* out) {
  const guard::CopyStatement& c = in_->copy;
  const std::string_view b = std::string_view(buf_).substr(pos_);
  // "\." alone on a line, outside quotes: the end of the data.
  if (b.size() >= 2 && b[0] == '\\' && b[1] == '.' &&
      (b.size() > 2 ? (b[2] == '\n' || b[2] == '\r') : at_end)) {
    out->append("\\.\n");
    ended_ = true;
    return b.size();
  }
  if (b.size() < 3 && !at_end && !b.empty() && b[0] == '\\') return size_t{0};
  row_.clear();
  size_t i = 0;
  for (;;) {
    // One field, as PostgreSQL reads CSV: quotes may open and close anywhere in it.
    std::string value;
    bool quoted = false, in_quote = false;
    const size_t start = i;
    for (;;) {
      if (i >= b.size()) {
        if (!at_end) return size_t{0};
        if (in_quote) return InvalidArgument("COPY data ends inside a quoted CSV field");
        break;
      }
      const char ch = b[i];
      if (in_quote) {
        if (ch == c.escape && i + 1 < b.size() && (b[i + 1] == c.quote || b[i + 1] == c.escape) &&
            !(c.escape == c.quote && b[i + 1] != c.quote)) {
          value.push_back(b[i + 1]);
          i += 2;
          continue;
        }
        if (ch == c.escape && i + 1 >= b.size() && !at_end) return size_t{0};
        if (ch == c.quote) {
          in_quote = false;
          ++i;
          continue;
        }
        value.push_back(ch);
        ++i;
        continue;
      }
      if (ch == c.delimiter || ch == '\n' || ch == '\r') break;
      if (ch == c.quote) {
        quoted = in_quote = true;
        ++i;
        continue;
      }
      value.push_back(ch);
      ++i;
    }
    const bool is_null = !quoted && b.substr(start, i - start) == c.null_string;
    if (Status st = Field(row_.size(), is_null, &value); !st.ok()) return st;
    if (is_null) {
      row_.emplace_back(std::nullopt);
    } else {
      row_.emplace_back(std::move(value));
    }
    if (i >= b.size()) break;  // the last row, without a line end
    if (b[i] == c.delimiter) {
      ++i;
      continue;
    }
    if (b[i] == '\r') {
      if (i + 1 >= b.size() && !at_end) return size_t{0};
      ++i;
      if (i < b.size() && b[i] == '\n') ++i;
    } else {
      ++i;
    }
    break;
  }
  if (!header_pending_ && row_.size() != in_->fields.size()) {
    return InvalidArgument("a COPY row has fewer fields than columns");
  }
  header_pending_ = false;
  EndTextRow(out);
  return i;
}

StatusOr<size_t> CopyInTranslator::BinaryPart(bool /*at_end*/, std::string* out) {
  const std::string_view b = std::string_view(buf_).substr(pos_);
  if (header_pending_) {
    if (b.size() < kBinaryHeader) return size_t{0};
    if (std::memcmp(b.data(), kBinarySignature, 11) != 0) {
      return InvalidArgument("COPY binary data without its signature");
    }
    const uint32_t ext = wire::ReadU32(b.data() + 15);
    if (ext > (1u << 20)) return InvalidArgument("COPY binary header extension too long");
    if (b.size() < kBinaryHeader + ext) return size_t{0};
    out->append(b.substr(0, kBinaryHeader + ext));
    header_pending_ = false;
    return kBinaryHeader + ext;
  }
  if (b.size() < 2) return size_t{0};
  const auto n = static_cast<int16_t>(wire::ReadU16(b.data()));
  if (n == -1) {  // the trailer: nothing after it is read
    out->append(b.substr(0, 2));
    ended_ = true;
    return b.size();
  }
  if (n < 0 || static_cast<size_t>(n) != in_->fields.size()) {
    return InvalidArgument("a COPY binary row does not have one field per column");
  }
  // The whole row first: its fields are translated only once all have arrived.
  size_t i = 2;
  for (int f = 0; f < n; ++f) {
    if (b.size() - i < 4) return size_t{0};
    const auto len = static_cast<int32_t>(wire::ReadU32(b.data() + i));
    i += 4;
    if (len < -1) return InvalidArgument("a COPY binary field has a negative length");
    if (len > 0) {
      if (b.size() - i < static_cast<size_t>(len)) return size_t{0};
      i += static_cast<size_t>(len);
    }
  }
  char word[4];
  out->append(b.substr(0, 2));
  i = 2;
  for (size_t f = 0; f < static_cast<size_t>(n); ++f) {
    const auto len = static_cast<int32_t>(wire::ReadU32(b.data() + i));
    i += 4;
    const guard::ParamReversal& field = in_->fields[f];
    if (len == -1 || !field.transform) {
      out->append(b.substr(i - 4, 4 + (len > 0 ? static_cast<size_t>(len) : 0)));
      if (len > 0) i += static_cast<size_t>(len);
      continue;
    }
    scratch_.clear();
    if (!guard::ReversePseudonym(field, mask::Format::kBinary,
                                 b.substr(i, static_cast<size_t>(len)), &scratch_)
             .ok()) {
      return InvalidArgument("a value for column " + field.column +
                             " is not a pseudonym of its domain; use the identifiers pgveil "
                             "shows to this login");
    }
    i += static_cast<size_t>(len);
    wire::WriteU32(word, static_cast<uint32_t>(scratch_.size()));
    out->append(word, 4);
    out->append(scratch_);
  }
  return i;
}

}  // namespace pgveil::proxy
