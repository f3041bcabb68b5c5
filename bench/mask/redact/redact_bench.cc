// Redactor throughput in MB/s of input, per chat message (as the proxy calls it: one
// value at a time) and over one long text. Target: >= 100 MB/s on chat text with few
// matches.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "chat_corpus.h"
#include "pgveil/mask/redact.h"

namespace pgveil::mask {
namespace {

std::shared_ptr<const Redactor> AllDetectors() {
  RedactOptions options;
  options.detectors = pgveil::mask::AllDetectors();
  return *Redactor::Create(options);
}

size_t TotalBytes(const std::vector<std::string>& messages) {
  size_t n = 0;
  for (const auto& m : messages) n += m.size();
  return n;
}

// state.range(0): messages with contact details per 1000.
void BM_RedactChatMessages(benchmark::State& state) {
  const auto redactor = AllDetectors();
  const auto messages = bench::MakeChatCorpus(
      {.messages = 20000, .contact_share = static_cast<double>(state.range(0)) / 1000});
  std::string out;
  size_t replaced = 0;
  for (auto _ : state) {
    for (const auto& m : messages) {
      out.clear();
      replaced += redactor->Redact(m, &out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(messages)));
  state.counters["replaced/msg"] = benchmark::Counter(
      static_cast<double>(replaced) / static_cast<double>(state.iterations() * messages.size()));
}
BENCHMARK(BM_RedactChatMessages)->Arg(0)->Arg(20)->Arg(200)->Unit(benchmark::kMillisecond);

void BM_RedactLongText(benchmark::State& state) {
  const auto redactor = AllDetectors();
  std::string text;
  for (const auto& m : bench::MakeChatCorpus({.messages = 20000, .contact_share = 0.02})) {
    text += m;
    text += '\n';
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(redactor->Redact(text, &out));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_RedactLongText)->Unit(benchmark::kMillisecond);

void BM_FindChatMessages(benchmark::State& state) {
  const auto redactor = AllDetectors();
  const auto messages = bench::MakeChatCorpus({.messages = 20000, .contact_share = 0.02});
  for (auto _ : state) {
    for (const auto& m : messages) benchmark::DoNotOptimize(redactor->Find(m));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TotalBytes(messages)));
}
BENCHMARK(BM_FindChatMessages)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pgveil::mask

BENCHMARK_MAIN();
