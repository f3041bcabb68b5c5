// Table-driven checks for transforms: each case runs in the text format and, unless it
// is text-only, in the binary format (input encoded with the type's send format, output
// decoded back to text before comparing).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "mask/codec.h"
#include "pgveil/mask/transform.h"

namespace pgveil::mask::testing {

struct Case {
  uint32_t type;
  std::optional<std::string> in;    // text form; nullopt = NULL
  std::optional<std::string> want;  // text form of the output; nullopt = NULL
  bool error = false;               // Apply must fail (and leave the buffer alone)
  bool text_only = false;           // the input has no binary form (e.g. malformed text)
  std::optional<std::string> want_binary = std::nullopt;  // when binary differs (zones)
};

inline std::string Show(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "NULL"; }

inline void RunCases(const Transform& t, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    for (Format f : {Format::kText, Format::kBinary}) {
      if (f == Format::kBinary && c.text_only) continue;
      SCOPED_TRACE(std::string(t.Name()) + " " + std::string(TypeName(c.type)) + " " + Show(c.in) +
                   (f == Format::kBinary ? " binary" : " text"));
      std::optional<std::string> input;
      if (c.in) {
        input.emplace();
        if (f == Format::kText) {
          *input = *c.in;
        } else {
          ASSERT_TRUE(codec::EncodeLiteral(c.type, f, *c.in, &*input).ok());
        }
      }
      std::string out = "prefix";
      bool is_null = false;
      Status s = t.Apply(c.type, f, input ? std::optional<std::string_view>(*input) : std::nullopt,
                         &out, &is_null);
      if (c.error) {
        EXPECT_FALSE(s.ok());
        EXPECT_EQ(out, "prefix");
        EXPECT_TRUE(is_null);
        continue;
      }
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(out.compare(0, 6, "prefix"), 0);
      std::optional<std::string> got;
      if (!is_null) {
        std::string_view raw = std::string_view(out).substr(6);
        got.emplace();
        const uint32_t out_oid = t.Output(c.type, -1).oid;
        ASSERT_TRUE(codec::Canonical(out_oid, f, raw, &*got).ok());
      } else {
        EXPECT_EQ(out, "prefix");
      }
      const auto& want = (f == Format::kBinary && c.want_binary) ? c.want_binary : c.want;
      EXPECT_EQ(Show(got), Show(want));
    }
  }
}

}  // namespace pgveil::mask::testing
