// RowPlan: rows masked together (AppendDataRows) come out byte for byte as rows masked
// one at a time (AppendDataRow), whatever the mix of formats, NULLs and unreadable values.
#include "pgveil/policy/row_plan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "pgveil/mask/transforms.h"
#include "pgveil/mask/types.h"
#include "pgveil/wire/writer.h"

namespace pgveil::policy {
namespace {

constexpr uint32_t kRel = 16500;
constexpr uint32_t kText = 25;

std::shared_ptr<const Policy> TestPolicy() {
  catalog::Relation rel;
  rel.oid = kRel;
  rel.schema = "crm";
  rel.name = "members";
  rel.columns = {{"id8", 1, mask::oid::kInt8, mask::oid::kInt8, -1, "bigint"},
                 {"id4", 2, mask::oid::kInt4, mask::oid::kInt4, -1, "integer"},
                 {"uid", 3, mask::oid::kUuid, mask::oid::kUuid, -1, "uuid"},
                 {"phone", 4, kText, kText, -1, "text"},
                 {"city", 5, kText, kText, -1, "text"},
                 {"secret", 6, kText, kText, -1, "text"},
                 {"nick", 7, kText, kText, -1, "text"}};
  auto snap = std::make_shared<catalog::Snapshot>(std::vector<catalog::Relation>{rel}, 1);
  mask::PseudonymOptions po;
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  po.key = mask::Key(key);
  po.domain = "member";
  auto pseudonym = mask::MakePseudonym(po);
  mask::PartialOptions pa;
  pa.keep_last = 4;
  auto partial = mask::MakePartial(pa);
  EXPECT_TRUE(pseudonym.ok() && partial.ok());
  mask::TransformPtr p = *pseudonym, q = *partial;
  return Policy::Masked("sales", snap, [p, q](const auto&, const catalog::Column& c) {
    if (c.name == "id8" || c.name == "id4" || c.name == "uid" || c.name == "nick") {
      return ColumnMask{Action::kTransform, p};
    }
    if (c.name == "phone") return ColumnMask{Action::kTransform, q};
    if (c.name == "city") return ColumnMask{Action::kPass, nullptr};
    return ColumnMask{Action::kNull, nullptr};
  });
}

wire::RowDescription Desc(int16_t format) {
  wire::RowDescription d;
  const uint32_t types[] = {
      mask::oid::kInt8, mask::oid::kInt4, mask::oid::kUuid, kText, kText, kText, kText};
  for (int16_t i = 0; i < 7; ++i) {
    d.fields.push_back({"f", kRel, static_cast<int16_t>(i + 1), types[i], -1, -1, format});
  }
  return d;
}

// A value of field `i` in the given format: mostly valid, sometimes NULL, negative or
// garbage.
std::optional<std::string> Value(size_t i, bool binary, std::mt19937_64& rng) {
  const int dice = static_cast<int>(rng() % 20);
  if (dice == 0) return std::nullopt;
  if (dice == 1) return std::string("\x01not a value", binary ? 5 : 12);
  if (dice == 2 && i <= 1) return binary ? std::string(i == 0 ? 8 : 4, '\xff') : "-42";
  const uint64_t v = rng();
  auto be = [](uint64_t x, int bytes) {
    std::string s(bytes, '\0');
    for (int k = bytes - 1; k >= 0; --k, x >>= 8) s[k] = static_cast<char>(x);
    return s;
  };
  switch (i) {
    case 0:
      return binary ? be(v >> 1, 8) : std::to_string(v >> 1);
    case 1:
      return binary ? be(v >> 33, 4) : std::to_string(v >> 33);
    case 2: {
      if (binary) return be(v, 8) + be(rng(), 8);
      char buf[40];
      snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(v),
               static_cast<unsigned>(v >> 32) & 0xffff, static_cast<unsigned>(v >> 48),
               static_cast<unsigned>(rng() & 0xffff),
               static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
      return std::string(buf);
    }
    default:
      return "138" + std::to_string(v % 100000000);
  }
}

std::string Row(const std::vector<std::optional<std::string>>& values) {
  std::string b;
  wire::Writer w(&b);
  w.Int16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    if (!v) {
      w.Int32(-1);
    } else {
      std::string_view sv = *v;
      w.Value(&sv);
    }
  }
  return b;
}

TEST(RowPlan, RowsMaskedTogetherEqualRowsMaskedOneByOne) {
  auto policy = TestPolicy();
  std::mt19937_64 rng(7);
  for (int16_t format : {0, 1}) {
    auto plan = RowPlan::Compile(Desc(format), policy, nullptr);
    ASSERT_TRUE(plan);
    for (size_t count : {1, 2, 7, 8, 9, 64, 300}) {
      std::vector<std::string> rows;
      for (size_t r = 0; r < count; ++r) {
        std::vector<std::optional<std::string>> values;
        for (size_t i = 0; i < 7; ++i) {
          // Binary text columns are text; only the typed ones differ.
          values.push_back(Value(i, format == 1 && i <= 2, rng));
        }
        rows.push_back(Row(values));
      }
      std::string one_by_one = "prefix";
      for (const auto& row : rows) ASSERT_TRUE(plan->AppendDataRow(row, &one_by_one).ok());
      std::vector<std::string_view> views(rows.begin(), rows.end());
      std::string together = "prefix";
      ASSERT_TRUE(plan->AppendDataRows(views, &together).ok());
      EXPECT_EQ(together, one_by_one) << "format " << format << ", " << count << " rows";
    }
  }
}

TEST(RowPlan, PseudonymsChangeTheValues) {
  auto plan = RowPlan::Compile(Desc(0), TestPolicy(), nullptr);
  std::string row = Row({"123456789", "4242", "00000000-0000-0000-0000-000000000001", "13812345678",
                         "Lhasa", "s3cret", "nick"});
  std::vector<std::string_view> views{row, row};
  std::string out;
  ASSERT_TRUE(plan->AppendDataRows(views, &out).ok());
  EXPECT_EQ(out.find("123456789"), std::string::npos);
  EXPECT_EQ(out.find("4242"), std::string::npos);
  EXPECT_EQ(out.find("s3cret"), std::string::npos);
  EXPECT_NE(out.find("Lhasa"), std::string::npos);
  EXPECT_NE(out.find("5678"), std::string::npos);  // partial keeps the last four
  EXPECT_EQ(out.substr(0, out.size() / 2), out.substr(out.size() / 2));  // deterministic
}

TEST(RowPlan, AMalformedRowAppendsNothing) {
  auto plan = RowPlan::Compile(Desc(0), TestPolicy(), nullptr);
  std::string good = Row({"1", "2", std::nullopt, "3", "4", "5", "6"});
  std::string short_row = good.substr(0, good.size() - 1);
  std::string wrong_count = Row({"1", "2"});
  for (const std::string& bad : {short_row, wrong_count}) {
    std::vector<std::string_view> views{good, bad, good};
    std::string out = "kept";
    EXPECT_FALSE(plan->AppendDataRows(views, &out).ok());
    EXPECT_EQ(out, "kept");
  }
}

}  // namespace
}  // namespace pgveil::policy
