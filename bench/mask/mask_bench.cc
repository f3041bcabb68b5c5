// ns per value for every transform, text and binary where it matters.
//   cmake --build BUILD --target mask_bench && BUILD/bench/mask/mask_bench
// Each iteration transforms one value into a reused output buffer, as the proxy does.
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mask/codec.h"
#include "pgveil/mask/transforms.h"

namespace pgveil::mask {
namespace {

Key BenchKey() {
  std::array<uint8_t, 32> b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 7 + 1);
  return Key(b);
}

TransformPtr Must(StatusOr<TransformPtr> t) {
  if (!t.ok()) std::abort();
  return *t;
}

// Values vary across iterations so nothing is cached by accident.
std::vector<std::string> Values(uint32_t type, Format f, const std::vector<std::string>& text) {
  std::vector<std::string> out;
  for (const auto& t : text) {
    std::string v;
    if (!codec::EncodeLiteral(type, f, t, &v).ok()) std::abort();
    out.push_back(v);
  }
  return out;
}

void Run(benchmark::State& state, const Transform& t, uint32_t type, Format f,
         const std::vector<std::string>& text) {
  const auto values = Values(type, f, text);
  std::string out;
  out.reserve(1 << 16);
  bool is_null;
  size_t i = 0;
  for (auto _ : state) {
    if (out.size() > (1 << 15)) out.clear();
    Status s = t.Apply(type, f, values[i], &out, &is_null);
    benchmark::DoNotOptimize(s);
    if (++i == values.size()) i = 0;
  }
  benchmark::DoNotOptimize(out.data());
}

const std::vector<std::string> kPhones = {"13812345678", "15900001111", "18611112222",
                                          "13700003333"};
const std::vector<std::string> kNames = {"张三丰", "李小龙", "王菲", "欧阳娜娜"};
const std::vector<std::string> kInts = {"8500", "12000", "3100", "52000"};
const std::vector<std::string> kIds = {"10001", "9876543210", "424242", "77"};
const std::vector<std::string> kTs = {"2024-03-05 14:23:11.5+08", "1969-07-20 20:17:40+00",
                                      "2001-01-01 00:00:00+00", "2024-12-31 23:59:59.999999+08"};
const std::vector<std::string> kDates = {"1990-06-15", "1985-01-31", "2001-12-01", "1969-07-20"};

void BM_Show(benchmark::State& s) { Run(s, *MakeShow(), oid::kText, Format::kText, kPhones); }
void BM_Null(benchmark::State& s) { Run(s, *MakeNull(), oid::kText, Format::kText, kPhones); }
void BM_Constant(benchmark::State& s) {
  Run(s, *Must(MakeConstant({.value = "0"})), oid::kInt4, Format::kBinary, kInts);
}
void BM_PartialPhone(benchmark::State& s) {
  Run(s, *Must(MakePartial({.keep_first = 3, .keep_last = 4})), oid::kText, Format::kText, kPhones);
}
void BM_PartialName(benchmark::State& s) {
  Run(s, *Must(MakePartial({.keep_first = 1})), oid::kText, Format::kText, kNames);
}
void BM_BucketText(benchmark::State& s) {
  Run(s, *Must(MakeBucket({.bounds = {0, 3000, 5000, 8000, 12000, 20000, 30000, 50000}})),
      oid::kInt4, Format::kText, kInts);
}
void BM_BucketBinary(benchmark::State& s) {
  Run(s, *Must(MakeBucket({.bounds = {0, 3000, 5000, 8000, 12000, 20000, 30000, 50000}})),
      oid::kInt4, Format::kBinary, kInts);
}
void BM_RoundInt(benchmark::State& s) {
  Run(s, *Must(MakeRound({.multiple = 100})), oid::kInt4, Format::kText, kInts);
}
void BM_TruncateTsText(benchmark::State& s) {
  Run(s, *Must(MakeTruncate({TruncateUnit::kHour})), oid::kTimestampTz, Format::kText, kTs);
}
void BM_TruncateTsBinary(benchmark::State& s) {
  Run(s, *Must(MakeTruncate({TruncateUnit::kMonth})), oid::kTimestampTz, Format::kBinary, kTs);
}
void BM_AgeBand(benchmark::State& s) {
  Run(s, *Must(MakeAgeBand({.width = 5, .today = [] { return 8932; }})), oid::kDate, Format::kText,
      kDates);
}
void BM_Map(benchmark::State& s) {
  Run(s, *Must(MakeMap({.table = {{"张三丰", "a"}, {"王菲", "b"}}, .default_value = "c"})),
      oid::kText, Format::kText, kNames);
}
void BM_HashText(benchmark::State& s) {
  Run(s, *Must(MakeHash({.key = BenchKey(), .length = 16})), oid::kText, Format::kText, kPhones);
}
void BM_PseudonymText(benchmark::State& s) {
  Run(s, *Must(MakePseudonym({.key = BenchKey(), .domain = "m", .prefix = "m_"})), oid::kText,
      Format::kText, kNames);
}
void BM_PseudonymInt8Text(benchmark::State& s) {
  Run(s, *Must(MakePseudonym({.key = BenchKey(), .domain = "m"})), oid::kInt8, Format::kText, kIds);
}
void BM_PseudonymInt8Binary(benchmark::State& s) {
  Run(s, *Must(MakePseudonym({.key = BenchKey(), .domain = "m"})), oid::kInt8, Format::kBinary,
      kIds);
}
// The same column of 256 rows at once (ApplyBatch), as the proxy masks consecutive
// DataRows; time per value.
void BM_PseudonymInt8BinaryBatch(benchmark::State& s) {
  auto t = Must(MakePseudonym({.key = BenchKey(), .domain = "m"}));
  std::vector<std::string> text;
  for (int i = 0; i < 256; ++i) text.push_back(std::to_string(1000003LL * i + 17));
  const auto values = Values(oid::kInt8, Format::kBinary, text);
  std::vector<std::optional<std::string_view>> in(values.begin(), values.end());
  std::string out;
  std::vector<int32_t> lengths;
  for (auto _ : s) {
    out.clear();
    lengths.clear();
    t->ApplyBatch(oid::kInt8, Format::kBinary, in, &out, &lengths);
    benchmark::DoNotOptimize(out.data());
  }
  s.SetItemsProcessed(s.iterations() * static_cast<int64_t>(in.size()));
  s.counters["ns_per_value"] =
      benchmark::Counter(static_cast<double>(s.iterations() * in.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_PseudonymUuid(benchmark::State& s) {
  Run(s, *Must(MakePseudonym({.key = BenchKey(), .domain = "m"})), oid::kUuid, Format::kBinary,
      {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000001"});
}

BENCHMARK(BM_Show);
BENCHMARK(BM_Null);
BENCHMARK(BM_Constant);
BENCHMARK(BM_PartialPhone);
BENCHMARK(BM_PartialName);
BENCHMARK(BM_BucketText);
BENCHMARK(BM_BucketBinary);
BENCHMARK(BM_RoundInt);
BENCHMARK(BM_TruncateTsText);
BENCHMARK(BM_TruncateTsBinary);
BENCHMARK(BM_AgeBand);
BENCHMARK(BM_Map);
BENCHMARK(BM_HashText);
BENCHMARK(BM_PseudonymText);
BENCHMARK(BM_PseudonymInt8Text);
BENCHMARK(BM_PseudonymInt8Binary);
BENCHMARK(BM_PseudonymInt8BinaryBatch);
BENCHMARK(BM_PseudonymUuid);

}  // namespace
}  // namespace pgveil::mask

BENCHMARK_MAIN();
