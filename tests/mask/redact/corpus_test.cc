// Runs the labelled chat corpus (tests/data/redact-corpus.tsv): every line's input must
// redact to exactly its expected output.
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pgveil/mask/redact.h"

namespace pgveil::mask {
namespace {

struct CorpusLine {
  int line_no;
  std::string input;
  std::string expected;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Resolves \n \r \t \\ and \xHH; anything else is a broken corpus line.
bool Unescape(const std::string& in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out->push_back(in[i]);
      continue;
    }
    if (++i >= in.size()) return false;
    switch (in[i]) {
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case 'x': {
        if (i + 2 >= in.size()) return false;
        const int hi = HexDigit(in[i + 1]);
        const int lo = HexDigit(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::vector<CorpusLine> LoadCorpus() {
  std::ifstream file(PGVEIL_REDACT_CORPUS);
  EXPECT_TRUE(file.is_open()) << PGVEIL_REDACT_CORPUS;
  std::vector<CorpusLine> lines;
  std::string raw;
  int no = 0;
  while (std::getline(file, raw)) {
    ++no;
    if (raw.empty() || raw[0] == '#') continue;
    const size_t tab = raw.find('\t');
    CorpusLine line{no, {}, {}};
    EXPECT_NE(tab, std::string::npos) << "corpus line " << no << " has no TAB";
    if (tab == std::string::npos) continue;
    EXPECT_TRUE(Unescape(raw.substr(0, tab), &line.input)) << "corpus line " << no;
    EXPECT_TRUE(Unescape(raw.substr(tab + 1), &line.expected)) << "corpus line " << no;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::shared_ptr<const Redactor> AllDetectorsRedactor() {
  RedactOptions options;
  options.detectors = AllDetectors();
  auto r = Redactor::Create(options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

TEST(RedactCorpusTest, EveryLineRedactsExactly) {
  const auto corpus = LoadCorpus();
  const auto redactor = AllDetectorsRedactor();
  for (const CorpusLine& line : corpus) {
    std::string out;
    const size_t n = redactor->Redact(line.input, &out);
    EXPECT_EQ(out, line.expected) << "corpus line " << line.line_no;
    // Find() agrees with Redact() on how many spans there are.
    EXPECT_EQ(redactor->Find(line.input).size(), n) << "corpus line " << line.line_no;
  }
}

TEST(RedactCorpusTest, OutputIsAFixedPoint) {
  // Redacting redacted text changes nothing: labels never read as values, and nothing
  // is left behind that a second pass would still find.
  const auto redactor = AllDetectorsRedactor();
  for (const CorpusLine& line : LoadCorpus()) {
    std::string again;
    EXPECT_EQ(redactor->Redact(line.expected, &again), 0u) << "corpus line " << line.line_no;
    EXPECT_EQ(again, line.expected) << "corpus line " << line.line_no;
  }
}

TEST(RedactCorpusTest, CoversEveryDetectorAndInnocentText) {
  const auto corpus = LoadCorpus();
  EXPECT_GE(corpus.size(), 200u);
  size_t innocent = 0;
  for (const CorpusLine& line : corpus) innocent += line.input == line.expected;
  EXPECT_GE(innocent, 60u);
  for (Detector d : AllDetectors()) {
    const std::string label(DefaultLabel(d));
    size_t lines_with_label = 0;
    for (const CorpusLine& line : corpus) {
      lines_with_label += line.expected.find(label) != std::string::npos;
    }
    EXPECT_GE(lines_with_label, 4u) << DetectorName(d);
  }
}

}  // namespace
}  // namespace pgveil::mask
