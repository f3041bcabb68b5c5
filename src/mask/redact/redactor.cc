// The Redactor: one RE2::Set pass tells which textual patterns occur at all; only those
// are run again for positions and handed to their validators. Numbers go through the
// number scanner. Everything is found on the normalized text and mapped back at the end.
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "mask/redact/contacts.h"
#include "mask/redact/numbers.h"
#include "mask/redact/patterns.h"
#include "mask/redact/spans.h"
#include "mask/redact/text.h"
#include "pgveil/mask/redact.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace pgveil::mask {

using redact_internal::BuiltinPattern;
using redact_internal::Context;
using redact_internal::NormalizeResult;
using redact_internal::NumberDetectors;
using redact_internal::NumberScanner;
using redact_internal::PatternKind;
using redact_internal::Rank;
using redact_internal::Span;

namespace {

constexpr size_t kDetectorCount = static_cast<size_t>(Detector::kCustom) + 1;
constexpr int64_t kMaxMem = 64 << 20;
// Scratch buffers above this size are released after use.
constexpr size_t kKeepScratch = 1 << 20;
// Long texts are matched against the pattern set in blocks of whole lines of about this size.
constexpr size_t kBlock = 512;

struct CompiledPattern {
  PatternKind kind;
  uint32_t custom;  // index into Impl::custom for kCustom
  std::unique_ptr<RE2> re;
};

struct Scratch {
  std::string norm;
  std::vector<uint32_t> weak;
  std::vector<Span> spans;
  std::vector<Context> contexts;
  std::vector<int> set_hits;
  NumberScanner numbers;

  void Trim() {
    if (norm.capacity() > kKeepScratch) std::string().swap(norm);
    if (weak.capacity() > kKeepScratch / 4) std::vector<uint32_t>().swap(weak);
    if (spans.capacity() > kKeepScratch / 16) std::vector<Span>().swap(spans);
    if (contexts.capacity() > kKeepScratch / 16) std::vector<Context>().swap(contexts);
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

RE2::Options PatternOptions() {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingUTF8);
  o.set_log_errors(false);
  o.set_max_mem(kMaxMem);
  return o;
}

bool ValidUtf8(std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto d = redact_internal::DecodeUtf8(p, end);
    if (!d.valid) return false;
    p += d.len;
  }
  return true;
}

// True if the pattern can match the empty string somewhere: tried at every position of
// a few small texts, so that assertions (^ $ \b \B) get every kind of context.
bool MatchesEmpty(const RE2& re) {
  static constexpr std::string_view kProbes[] = {"",   "a",  "ab", "a b",  " ",    "1",
                                                 "12", "\n", "中", "中文", "a1 中"};
  for (std::string_view probe : kProbes) {
    for (size_t pos = 0; pos <= probe.size(); ++pos) {
      // Cutting the text at pos means an empty match is the only one possible; RE2 still
      // sees the text before pos, so \b and ^ are judged in context.
      if (re.Match(re2::StringPiece(probe.data(), probe.size()), pos, pos, RE2::ANCHOR_BOTH,
                   nullptr, 0)) {
        return true;
      }
    }
  }
  return false;
}

// The detector whose values a context word introduces; kCustom if it is no context word.
Detector ContextDetector(PatternKind k) {
  switch (k) {
    case PatternKind::kWeChatWord:
    case PatternKind::kWeChatGeneric:
      return Detector::kWeChat;
    case PatternKind::kQQWord:
      return Detector::kQQ;
    case PatternKind::kIdCardWord:
      return Detector::kIdCard;
    case PatternKind::kBankCardWord:
      return Detector::kBankCard;
    default:
      return Detector::kCustom;
  }
}

size_t CodePointLen(std::string_view s, size_t pos) {
  return redact_internal::DecodeUtf8(s.data() + pos, s.data() + s.size()).len;
}

// Moves b back and e forward to code point boundaries (a custom \C may split one).
void SnapToCodePoints(std::string_view s, size_t* b, size_t* e) {
  auto cont = [&](size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  while (*b > 0 && cont(*b)) --*b;
  while (cont(*e)) ++*e;
}

}  // namespace

struct Redactor::Impl {
  std::vector<CompiledPattern> patterns;  // index == index in `set`
  std::unique_ptr<RE2::Set> set;
  std::array<bool, kDetectorCount> enabled{};
  std::array<std::string, kDetectorCount> labels;
  std::vector<CustomPattern> custom;
  NumberDetectors numbers;

  bool Enabled(Detector d) const { return enabled[static_cast<size_t>(d)]; }
  void Detect(std::string_view text, Scratch* s, NormalizeResult* nr) const;
  void FindPatterns(std::string_view norm, size_t begin, size_t end, Scratch* s) const;
  void RunPattern(const CompiledPattern& p, std::string_view norm, size_t begin, size_t end,
                  Scratch* s) const;
};

void Redactor::Impl::RunPattern(const CompiledPattern& p, std::string_view norm, size_t begin,
                                size_t end, Scratch* s) const {
  const re2::StringPiece input(norm.data(), norm.size());
  size_t pos = begin;
  re2::StringPiece m;
  while (pos <= end && p.re->Match(input, pos, end, RE2::UNANCHORED, &m, 1)) {
    size_t b = static_cast<size_t>(m.data() - norm.data());
    size_t e = b + m.size();
    bool accepted = true;
    switch (p.kind) {
      case PatternKind::kEmail:
      case PatternKind::kEmailSpelled:
        s->spans.push_back({uint32_t(b), uint32_t(e), Detector::kEmail, Rank::kEmail});
        break;
      case PatternKind::kUrl:
        e = redact_internal::TrimUrlEnd(norm, b, e);
        s->spans.push_back({uint32_t(b), uint32_t(e), Detector::kUrl, Rank::kUrl});
        break;
      case PatternKind::kIPv4:
        accepted = redact_internal::IsStandaloneIPv4(norm, b, e);
        if (accepted) s->spans.push_back({uint32_t(b), uint32_t(e), Detector::kIPv4, Rank::kIPv4});
        break;
      case PatternKind::kWeChatSystemId:
        s->spans.push_back({uint32_t(b), uint32_t(e), Detector::kWeChat, Rank::kWeChatId});
        break;
      case PatternKind::kWeChatWord:
      case PatternKind::kWeChatGeneric:
      case PatternKind::kQQWord:
      case PatternKind::kIdCardWord:
      case PatternKind::kBankCardWord: {
        const auto value = redact_internal::ContextValueStart(norm, b, e);
        accepted = value.has_value();
        if (!accepted) break;
        const bool strong = p.kind != PatternKind::kWeChatGeneric;
        const Detector d = ContextDetector(p.kind);
        s->contexts.push_back({uint32_t(b), uint32_t(value->pos), d, strong});
        if (d == Detector::kWeChat) {
          // Letters-only IDs only after a Han word (微信 sunnyday) or real filler
          // (wechat: sunnyday); "wechat more than" is prose.
          const bool plain = value->introduced || static_cast<unsigned char>(norm[e - 1]) >= 0x80;
          if (auto id = redact_internal::WeChatIdAt(norm, value->pos, strong, plain)) {
            s->spans.push_back(*id);
          }
        }
        e = std::max(e, b + 1);
        break;
      }
      case PatternKind::kCustom:
        SnapToCodePoints(norm, &b, &e);
        accepted = e > b;
        if (accepted) {
          s->spans.push_back(
              {uint32_t(b), uint32_t(e), Detector::kCustom, Rank::kCustom, p.custom});
        }
        break;
    }
    pos = (accepted && e > b) ? e : b + (b < norm.size() ? CodePointLen(norm, b) : 1);
    if (ContextDetector(p.kind) != Detector::kCustom) {
      pos = b + (b < norm.size() ? CodePointLen(norm, b) : 1);  // words may overlap: 加vx
    }
  }
}

void Redactor::Impl::FindPatterns(std::string_view norm, size_t begin, size_t end,
                                  Scratch* s) const {
  s->set_hits.clear();
  RE2::Set::ErrorInfo info{RE2::Set::kNoError};
  if (!set->Match(re2::StringPiece(norm.data() + begin, end - begin), &s->set_hits, &info) &&
      info.kind != RE2::Set::kNoError) {
    // The DFA gave up (memory): fail closed by running every pattern.
    s->set_hits.clear();
    for (size_t i = 0; i < patterns.size(); ++i) s->set_hits.push_back(static_cast<int>(i));
  }
  std::sort(s->set_hits.begin(), s->set_hits.end());
  for (int i : s->set_hits) RunPattern(patterns[i], norm, begin, end, s);
}

void Redactor::Impl::Detect(std::string_view text, Scratch* s, NormalizeResult* nr) const {
  *nr = redact_internal::Normalize(text, &s->norm, &s->weak);
  s->spans.clear();
  s->contexts.clear();
  const std::string_view norm = s->norm;
  if (!patterns.empty() && (nr->has_trigger || !custom.empty())) {
    // Built-in patterns never cross a line break, so a long text is searched in blocks
    // of lines: the individual patterns then only run over blocks the set matched.
    // Custom patterns might cross lines; with them the text is one block.
    size_t begin = 0;
    while (begin < norm.size() || begin == 0) {
      size_t end = norm.size();
      if (custom.empty() && norm.size() - begin > kBlock) {
        const size_t nl = norm.find('\n', begin + kBlock);
        if (nl != std::string_view::npos) end = nl + 1;
      }
      FindPatterns(norm, begin, end, s);
      if (end >= norm.size()) break;
      begin = end;
    }
    std::sort(s->contexts.begin(), s->contexts.end(),
              [](const Context& a, const Context& b) { return a.begin < b.begin; });
  }
  if (nr->has_digit) s->numbers.Scan(norm, s->weak, s->contexts, numbers, &s->spans);
  // Keep only what is enabled (context digits carry their own detector).
  std::erase_if(s->spans,
                [&](const Span& sp) { return !Enabled(sp.detector) || sp.end <= sp.begin; });
  redact_internal::MergeSpans(&s->spans);
  for (size_t i = 0; i < s->spans.size(); ++i) {
    const size_t limit = i + 1 < s->spans.size() ? s->spans[i + 1].begin : norm.size();
    uint32_t& e = s->spans[i].end;
    while (e < limit) {
      const auto d = redact_internal::DecodeUtf8(norm.data() + e, norm.data() + norm.size());
      if (!redact_internal::IsCombining(d.cp)) break;
      e += d.len;
    }
  }
}

StatusOr<std::shared_ptr<const Redactor>> Redactor::Create(const RedactOptions& options) {
  auto impl = std::make_unique<Impl>();
  if (options.detectors.empty() && options.custom.empty()) {
    return InvalidArgument("redact: no detector enabled");
  }
  for (Detector d : options.detectors) {
    if (d == Detector::kCustom) {
      return InvalidArgument("redact: \"custom\" is not a built-in detector; add a pattern");
    }
    impl->enabled[static_cast<size_t>(d)] = true;
  }
  for (size_t i = 0; i < kDetectorCount; ++i) {
    impl->labels[i] = std::string(DefaultLabel(static_cast<Detector>(i)));
  }
  for (const auto& [d, label] : options.labels) {
    if (d == Detector::kCustom) {
      return InvalidArgument("redact: custom patterns take their label from the pattern");
    }
    if (!ValidUtf8(label)) {
      return InvalidArgument("redact: label of \"" + std::string(DetectorName(d)) +
                             "\" is not valid UTF-8");
    }
    impl->labels[static_cast<size_t>(d)] = label;
  }
  impl->numbers = {impl->Enabled(Detector::kMobile), impl->Enabled(Detector::kIdCard),
                   impl->Enabled(Detector::kBankCard)};

  const RE2::Options re_options = PatternOptions();
  impl->set = std::make_unique<RE2::Set>(re_options, RE2::UNANCHORED);
  auto add = [&](PatternKind kind, uint32_t custom, std::string_view regex,
                 std::string_view what) -> Status {
    auto re = std::make_unique<RE2>(re2::StringPiece(regex.data(), regex.size()), re_options);
    if (!re->ok()) {
      return InvalidArgument("redact: " + std::string(what) + " does not compile: " + re->error());
    }
    if (kind == PatternKind::kCustom && MatchesEmpty(*re)) {
      return InvalidArgument("redact: " + std::string(what) + " can match the empty string");
    }
    std::string error;
    if (impl->set->Add(re2::StringPiece(regex.data(), regex.size()), &error) < 0) {
      return InvalidArgument("redact: " + std::string(what) + " does not compile: " + error);
    }
    impl->patterns.push_back({kind, custom, std::move(re)});
    return Status::Ok();
  };

  size_t count = 0;
  const BuiltinPattern* builtins = redact_internal::BuiltinPatterns(&count);
  for (size_t i = 0; i < count; ++i) {
    const PatternKind k = builtins[i].kind;
    const bool want = ((k == PatternKind::kEmail || k == PatternKind::kEmailSpelled) &&
                       impl->Enabled(Detector::kEmail)) ||
                      (k == PatternKind::kUrl && impl->Enabled(Detector::kUrl)) ||
                      (k == PatternKind::kIPv4 && impl->Enabled(Detector::kIPv4)) ||
                      ((k == PatternKind::kWeChatWord || k == PatternKind::kWeChatGeneric ||
                        k == PatternKind::kWeChatSystemId) &&
                       impl->Enabled(Detector::kWeChat)) ||
                      (k == PatternKind::kQQWord && impl->Enabled(Detector::kQQ)) ||
                      (k == PatternKind::kIdCardWord && impl->Enabled(Detector::kIdCard)) ||
                      (k == PatternKind::kBankCardWord && impl->Enabled(Detector::kBankCard));
    if (!want) continue;
    if (Status st = add(k, 0, builtins[i].regex, "built-in pattern"); !st.ok()) {
      return Internal(st.message());
    }
  }

  for (size_t i = 0; i < options.custom.size(); ++i) {
    const CustomPattern& c = options.custom[i];
    if (c.name.empty())
      return InvalidArgument("redact: custom pattern #" + std::to_string(i + 1) + " has no name");
    const std::string what = "custom pattern \"" + c.name + "\"";
    for (size_t j = 0; j < i; ++j) {
      if (options.custom[j].name == c.name) return InvalidArgument("redact: duplicate " + what);
    }
    if (c.pattern.empty()) return InvalidArgument("redact: " + what + " is empty");
    if (!ValidUtf8(c.label))
      return InvalidArgument("redact: label of " + what + " is not valid UTF-8");
    impl->custom.push_back(c);
    if (impl->custom.back().label.empty()) {
      impl->custom.back().label = std::string(DefaultLabel(Detector::kCustom));
    }
    if (Status st = add(PatternKind::kCustom, static_cast<uint32_t>(i), c.pattern, what);
        !st.ok()) {
      return st;
    }
  }
  if (!options.custom.empty()) impl->enabled[static_cast<size_t>(Detector::kCustom)] = true;
  if (!impl->patterns.empty() && !impl->set->Compile()) {
    return Internal("redact: the pattern set is too large to compile");
  }
  return std::shared_ptr<const Redactor>(new Redactor(std::move(impl)));
}

Redactor::Redactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Redactor::~Redactor() = default;

size_t Redactor::Redact(std::string_view text, std::string* out) const {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    // Offsets are 32-bit; PostgreSQL values are at most 1 GB. Fail closed.
    out->append(DefaultLabel(Detector::kCustom));
    return 1;
  }
  Scratch& s = ThreadScratch();
  NormalizeResult nr;
  impl_->Detect(text, &s, &nr);
  if (s.spans.empty()) {
    if (nr.valid_utf8) {
      out->append(text);
    } else {
      redact_internal::AppendSanitized(text, out);
    }
    s.Trim();
    return 0;
  }
  redact_internal::OffsetMapper mapper(text);
  auto orig = [&](uint32_t n) -> size_t { return nr.identical ? n : mapper.ToInput(n); };
  auto copy = [&](std::string_view part) {
    if (nr.valid_utf8) {
      out->append(part);
    } else {
      redact_internal::AppendSanitized(part, out);
    }
  };
  size_t prev = 0;
  for (const Span& sp : s.spans) {
    const size_t b = orig(sp.begin);
    copy(text.substr(prev, b - prev));
    out->append(sp.detector == Detector::kCustom ? impl_->custom[sp.custom].label
                                                 : impl_->labels[static_cast<size_t>(sp.detector)]);
    prev = orig(sp.end);
  }
  copy(text.substr(prev));
  const size_t n = s.spans.size();
  s.Trim();
  return n;
}

std::vector<RedactHit> Redactor::Find(std::string_view text) const {
  std::vector<RedactHit> hits;
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    hits.push_back({Detector::kCustom, "oversize", 0, text.size()});
    return hits;
  }
  Scratch& s = ThreadScratch();
  NormalizeResult nr;
  impl_->Detect(text, &s, &nr);
  hits.reserve(s.spans.size());
  redact_internal::OffsetMapper mapper(text);
  for (const Span& sp : s.spans) {
    const size_t begin = nr.identical ? sp.begin : mapper.ToInput(sp.begin);
    const size_t end = nr.identical ? sp.end : mapper.ToInput(sp.end);
    RedactHit h{sp.detector, {}, begin, end};
    if (sp.detector == Detector::kCustom) h.custom_name = impl_->custom[sp.custom].name;
    hits.push_back(h);
  }
  s.Trim();
  return hits;
}

}  // namespace pgveil::mask
