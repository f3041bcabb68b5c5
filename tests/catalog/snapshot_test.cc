// Snapshot and Relation lookups, without a server.
#include "pgveil/catalog/snapshot.h"

#include <gtest/gtest.h>

namespace pgveil::catalog {
namespace {

Column Col(const char* name, int16_t attnum) {
  Column c;
  c.name = name;
  c.attnum = attnum;
  c.type_oid = c.base_type_oid = 25;
  return c;
}

Relation Rel(uint32_t oid, const char* schema, const char* name, std::vector<Column> columns) {
  Relation r;
  r.oid = oid;
  r.schema = schema;
  r.name = name;
  r.columns = std::move(columns);
  return r;
}

TEST(Relation, FindColumnByAttnumSkipsDroppedColumns) {
  // attnum 2 was dropped: index 1 holds attnum 3.
  Relation rel = Rel(1, "s", "t", {Col("a", 1), Col("c", 3), Col("d", 4)});
  EXPECT_EQ(rel.FindColumn(int16_t{1})->name, "a");
  EXPECT_EQ(rel.FindColumn(int16_t{2}), nullptr);
  EXPECT_EQ(rel.FindColumn(int16_t{3})->name, "c");
  EXPECT_EQ(rel.FindColumn(int16_t{4})->name, "d");
  EXPECT_EQ(rel.FindColumn(int16_t{5}), nullptr);
  EXPECT_EQ(rel.FindColumn(int16_t{0}), nullptr);
  EXPECT_EQ(rel.FindColumn(int16_t{-1}), nullptr);  // system columns are not listed
  EXPECT_EQ(rel.FindColumn(int16_t{32767}), nullptr);
}

TEST(Relation, FindColumnByNameIsExact) {
  Relation rel = Rel(1, "s", "t", {Col("Id", 1), Col("id", 2), Col("", 3)});
  EXPECT_EQ(rel.FindColumn(std::string_view("Id"))->attnum, 1);
  EXPECT_EQ(rel.FindColumn(std::string_view("id"))->attnum, 2);
  EXPECT_EQ(rel.FindColumn(std::string_view("ID")), nullptr);
  EXPECT_EQ(rel.FindColumn(std::string_view("\"id\"")), nullptr);
  EXPECT_EQ(rel.FindColumn(std::string_view("id ")), nullptr);
}

TEST(Relation, EmptyRelationHasNoColumns) {
  Relation rel = Rel(1, "s", "t", {});
  EXPECT_EQ(rel.FindColumn(int16_t{1}), nullptr);
  EXPECT_EQ(rel.FindColumn(std::string_view("")), nullptr);
}

TEST(Snapshot, FindsRelationsByOidAndName) {
  Snapshot snap({Rel(100, "crm", "members", {Col("id", 1)}), Rel(200, "crm", "notes", {})}, 7);
  EXPECT_EQ(snap.version(), 7);
  ASSERT_EQ(snap.relations().size(), 2u);
  EXPECT_EQ(snap.FindRelation(100)->name, "members");
  EXPECT_EQ(snap.FindRelation(200)->name, "notes");
  EXPECT_EQ(snap.FindRelation(300), nullptr);
  EXPECT_EQ(snap.FindRelation(0), nullptr);
  EXPECT_EQ(snap.FindRelation("crm", "members"), snap.FindRelation(100));
  EXPECT_EQ(snap.FindRelation("crm", "Members"), nullptr);
  EXPECT_EQ(snap.FindRelation("public", "members"), nullptr);
  EXPECT_EQ(snap.FindRelation("crm.members", ""), nullptr);
  EXPECT_EQ(snap.FindRelation("", "crm.members"), nullptr);
}

TEST(Snapshot, DottedNamesDoNotCollide) {
  Snapshot snap({Rel(1, "a.b", "c", {}), Rel(2, "a", "b.c", {}), Rel(3, "a.b.c", "", {})}, 1);
  EXPECT_EQ(snap.FindRelation("a.b", "c")->oid, 1u);
  EXPECT_EQ(snap.FindRelation("a", "b.c")->oid, 2u);
  EXPECT_EQ(snap.FindRelation("a.b.c", "")->oid, 3u);
  EXPECT_EQ(snap.FindRelation("a", "b"), nullptr);
}

TEST(Snapshot, SortsColumnsByAttnum) {
  Snapshot snap({Rel(1, "s", "t", {Col("c", 3), Col("a", 1), Col("b", 2)})}, 1);
  const Relation* rel = snap.FindRelation(1);
  ASSERT_NE(rel, nullptr);
  ASSERT_EQ(rel->columns.size(), 3u);
  EXPECT_EQ(rel->columns[0].name, "a");
  EXPECT_EQ(rel->columns[1].name, "b");
  EXPECT_EQ(rel->columns[2].name, "c");
  EXPECT_EQ(rel->FindColumn(int16_t{2})->name, "b");
}

TEST(Snapshot, FirstOfDuplicatesWins) {
  Snapshot snap({Rel(1, "s", "t", {Col("first", 1)}), Rel(1, "s", "t", {Col("second", 1)})}, 1);
  EXPECT_EQ(snap.FindRelation(1)->columns[0].name, "first");
  EXPECT_EQ(snap.FindRelation("s", "t")->columns[0].name, "first");
}

TEST(Snapshot, EmptySnapshot) {
  Snapshot snap({}, 0);
  EXPECT_TRUE(snap.relations().empty());
  EXPECT_EQ(snap.FindRelation(1), nullptr);
  EXPECT_EQ(snap.FindRelation("", ""), nullptr);
}

}  // namespace
}  // namespace pgveil::catalog
