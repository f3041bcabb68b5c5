// Catalog::Load() against a real PostgreSQL: what a snapshot holds, and how it follows
// the schema.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <set>
#include <string>

#include "catalog/catalog_env.h"
#include "catalog/catalog_test_util.h"
#include "harness/pq_util.h"
#include "pgveil/catalog/catalog.h"

namespace pgveil::catalog::testing {
namespace {

// Built-in type OIDs (pg_type.dat); fixed across PostgreSQL versions.
constexpr uint32_t kInt4 = 23;
constexpr uint32_t kInt8 = 20;
constexpr uint32_t kText = 25;
constexpr uint32_t kVarchar = 1043;
constexpr uint32_t kNumeric = 1700;
constexpr uint32_t kDate = 1082;
constexpr uint32_t kTimestamptz = 1184;

std::vector<std::string> ColumnNames(const Relation& rel) {
  std::vector<std::string> names;
  for (const Column& c : rel.columns) names.push_back(c.name);
  return names;
}

TEST(CatalogLoad, ReadsTablesWithColumnsTypesAndAttnums) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto snap = catalog.current();
  EXPECT_EQ(snap->version(), 1);

  const Relation* members = snap->FindRelation("crm", "members");
  ASSERT_NE(members, nullptr);
  EXPECT_EQ(members->oid, RelationOid("crm.members"));
  EXPECT_EQ(members->kind, 'r');
  EXPECT_EQ(members->view_definition, "");
  EXPECT_EQ(snap->FindRelation(members->oid), members);
  EXPECT_EQ(ColumnNames(*members),
            (std::vector<std::string>{"id", "name", "city", "phone", "score", "born"}));

  struct Expected {
    const char* name;
    int16_t attnum;
    uint32_t type_oid;
    int32_t typmod;
    const char* type_name;
  };
  const Expected expected[] = {
      {"id", 1, kInt8, -1, "bigint"},
      {"name", 2, kText, -1, "text"},
      {"city", 4, kVarchar, 40 + 4, "character varying(40)"},  // typmod = length + VARHDRSZ
      {"score", 6, kNumeric, ((6 << 16) | 2) + 4, "numeric(6,2)"},
      {"born", 7, kDate, -1, "date"},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.name);
    const Column* c = members->FindColumn(std::string_view(e.name));
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->attnum, e.attnum);
    EXPECT_EQ(members->FindColumn(e.attnum), c);
    EXPECT_EQ(c->type_oid, e.type_oid);
    EXPECT_EQ(c->base_type_oid, e.type_oid);
    EXPECT_EQ(c->typmod, e.typmod);
    EXPECT_EQ(c->base_typmod, e.typmod);
    EXPECT_EQ(c->type_name, e.type_name);
  }

  // The catalog login read all of this without any privilege on the data itself.
  auto data = it::QueryOnce(Env().ConnInfo(), "SELECT name FROM crm.members");
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("permission denied"), std::string::npos)
      << data.status().message();
}

TEST(CatalogLoad, DroppedColumnsAreAbsent) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  const Relation* members = catalog.current()->FindRelation("crm", "members");
  ASSERT_NE(members, nullptr);
  EXPECT_EQ(members->FindColumn(int16_t{3}), nullptr);  // "gone" was attnum 3
  EXPECT_EQ(members->FindColumn(std::string_view("gone")), nullptr);
  for (const Column& c : members->columns) {
    EXPECT_EQ(c.name.find("pg.dropped"), std::string::npos) << c.name;
    EXPECT_NE(c.attnum, 3);
  }
  EXPECT_EQ(members->columns.size(), 6u);
}

TEST(CatalogLoad, DomainOverDomainResolvesToItsBaseType) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  const Relation* members = catalog.current()->FindRelation("crm", "members");
  ASSERT_NE(members, nullptr);
  const Column* phone = members->FindColumn(std::string_view("phone"));
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->attnum, 5);
  EXPECT_EQ(phone->type_oid, TypeOid("crm.phone"));
  EXPECT_NE(phone->type_oid, TypeOid("crm.short_text"));
  EXPECT_EQ(phone->base_type_oid, kVarchar);
  EXPECT_EQ(phone->typmod, -1);
  EXPECT_EQ(phone->base_typmod, 20 + 4);  // from short_text's varchar(20)
  EXPECT_EQ(phone->type_name, "crm.phone");
}

TEST(CatalogLoad, ViewsAndMaterializedViewsCarryTheirDefinitions) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto snap = catalog.current();

  const Relation* view = snap->FindRelation("crm", "member_cities");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->kind, 'v');
  EXPECT_EQ(ColumnNames(*view), (std::vector<std::string>{"id", "city"}));
  EXPECT_EQ(view->view_definition,
            ServerValue("SELECT pg_get_viewdef('crm.member_cities'::regclass)"));
  EXPECT_NE(view->view_definition.find("crm.members"), std::string::npos) << view->view_definition;

  const Relation* matview = snap->FindRelation("crm", "city_counts");
  ASSERT_NE(matview, nullptr);
  EXPECT_EQ(matview->kind, 'm');
  EXPECT_EQ(ColumnNames(*matview), (std::vector<std::string>{"city", "n"}));
  EXPECT_EQ(matview->view_definition,
            ServerValue("SELECT pg_get_viewdef('crm.city_counts'::regclass)"));
  EXPECT_NE(matview->view_definition.find("count(*)"), std::string::npos)
      << matview->view_definition;
}

TEST(CatalogLoad, PartitionedForeignAndEmptyTables) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto snap = catalog.current();

  const Relation* parent = snap->FindRelation("crm", "messages");
  const Relation* partition = snap->FindRelation("crm", "messages_2024");
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(partition, nullptr);
  EXPECT_EQ(parent->kind, 'p');
  EXPECT_EQ(partition->kind, 'r');
  EXPECT_NE(parent->oid, partition->oid);
  for (const Relation* rel : {parent, partition}) {
    EXPECT_EQ(ColumnNames(*rel), (std::vector<std::string>{"id", "sent_at", "body"}));
    EXPECT_EQ(rel->FindColumn(int16_t{2})->type_oid, kTimestamptz);
  }

  const Relation* foreign = snap->FindRelation("crm", "remote_notes");
  ASSERT_NE(foreign, nullptr);
  EXPECT_EQ(foreign->kind, 'f');
  EXPECT_EQ(ColumnNames(*foreign), (std::vector<std::string>{"id", "note"}));
  EXPECT_EQ(foreign->columns[0].type_oid, kInt4);

  const Relation* empty = snap->FindRelation("crm", "empty_table");
  ASSERT_NE(empty, nullptr);
  EXPECT_TRUE(empty->columns.empty());
}

TEST(CatalogLoad, LeavesOutSystemToastIndexAndTemporaryRelations) {
  // A temporary table lives as long as its session: keep one open across the Load.
  auto temp_session = it::Connect(Env().cluster().ConnInfo(it::kSuperUser));
  ASSERT_TRUE(temp_session.ok()) << temp_session.status().ToString();
  it::PgResult created =
      it::Exec(temp_session->get(), "CREATE TEMP TABLE catalog_temp_probe (secret text)");
  ASSERT_EQ(PQresultStatus(created.get()), PGRES_COMMAND_OK);

  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto snap = catalog.current();
  const std::set<char> kinds = {'r', 'v', 'm', 'p', 'f'};
  for (const Relation& rel : snap->relations()) {
    SCOPED_TRACE(rel.schema + "." + rel.name);
    EXPECT_NE(rel.schema, "pg_catalog");
    EXPECT_NE(rel.schema, "information_schema");
    EXPECT_NE(rel.schema.rfind("pg_toast", 0), 0u);
    EXPECT_NE(rel.schema.rfind("pg_temp", 0), 0u);
    EXPECT_NE(rel.name, "catalog_temp_probe");
    EXPECT_EQ(kinds.count(rel.kind), 1u);
  }
  EXPECT_EQ(snap->FindRelation("crm", "members_pkey"), nullptr);  // an index
  EXPECT_EQ(snap->FindRelation("pg_catalog", "pg_class"), nullptr);
  EXPECT_EQ(snap->FindRelation(RelationOid("pg_catalog.pg_class")), nullptr);
  // And the user relations are all there: as many as the server counts.
  EXPECT_EQ(std::to_string(snap->relations().size()),
            ServerValue("SELECT count(*) FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname NOT IN"
                        " ('pg_catalog', 'information_schema', 'pg_toast')"
                        " AND c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT"
                        " c.relpersistence = 't'"));
}

TEST(CatalogLoad, NamesAreExactAndUnambiguous) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto snap = catalog.current();

  const Relation* dotted_schema = snap->FindRelation("a.b", "c");
  const Relation* dotted_table = snap->FindRelation("a", "b.c");
  ASSERT_NE(dotted_schema, nullptr);
  ASSERT_NE(dotted_table, nullptr);
  EXPECT_EQ(dotted_schema->oid, RelationOid("\"a.b\".c"));
  EXPECT_EQ(dotted_table->oid, RelationOid("a.\"b.c\""));
  EXPECT_EQ(dotted_schema->columns.at(0).name, "x");
  EXPECT_EQ(dotted_table->columns.at(0).name, "y");

  const Relation* mixed = snap->FindRelation("crm", "Mixed Case");
  ASSERT_NE(mixed, nullptr);
  EXPECT_EQ(snap->FindRelation("crm", "mixed case"), nullptr);
  EXPECT_EQ(snap->FindRelation("crm", "\"Mixed Case\""), nullptr);
  EXPECT_EQ(mixed->FindColumn(std::string_view("Id"))->attnum, 1);
  EXPECT_EQ(mixed->FindColumn(std::string_view("id"))->attnum, 2);
  EXPECT_EQ(snap->FindRelation("crm", "no_such_table"), nullptr);
}

// The snapshot must describe columns exactly as the server describes them in a
// RowDescription (table OID, attnum, type, typmod): that is what masking plans match on.
TEST(CatalogLoad, AgreesWithRowDescriptionsForEveryRelation) {
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto conn = it::Connect(Env().cluster().ConnInfo(it::kSuperUser));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  std::set<char> kinds_checked;
  for (const Relation& rel : catalog.current()->relations()) {
    if (rel.kind == 'f') continue;  // the test's foreign data wrapper cannot scan
    SCOPED_TRACE(rel.schema + "." + rel.name);
    it::PgResult res = it::Exec(conn->get(), "SELECT * FROM " + QuoteIdent(rel.schema) + "." +
                                                 QuoteIdent(rel.name) + " LIMIT 0");
    ASSERT_EQ(PQresultStatus(res.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(res.get());
    ASSERT_EQ(static_cast<size_t>(PQnfields(res.get())), rel.columns.size());
    for (int i = 0; i < PQnfields(res.get()); ++i) {
      const Column& col = rel.columns[i];
      EXPECT_EQ(PQfname(res.get(), i), col.name);
      EXPECT_EQ(PQftype(res.get(), i), col.base_type_oid) << col.name;
      EXPECT_EQ(PQfmod(res.get(), i), col.base_typmod) << col.name;
      if (rel.kind != 'v') {  // a view's columns name the tables under it
        EXPECT_EQ(PQftable(res.get(), i), rel.oid) << col.name;
        EXPECT_EQ(PQftablecol(res.get(), i), col.attnum) << col.name;
      }
    }
    kinds_checked.insert(rel.kind);
  }
  EXPECT_EQ(kinds_checked, (std::set<char>{'m', 'p', 'r', 'v'}));
}

TEST(CatalogLoad, RecreatedTableGetsANewOidAndTheVersionGrows) {
  CAT_EXEC("CREATE TABLE crm.recreated (a int)");
  Catalog catalog(Options());
  CAT_ASSERT_OK(catalog.Load());
  auto before = catalog.current();
  const Relation* old_rel = before->FindRelation("crm", "recreated");
  ASSERT_NE(old_rel, nullptr);
  const uint32_t old_oid = old_rel->oid;

  CAT_EXEC("DROP TABLE crm.recreated; CREATE TABLE crm.recreated (b text, a int)");
  CAT_ASSERT_OK(catalog.Load());
  auto after = catalog.current();
  EXPECT_EQ(after->version(), before->version() + 1);
  const Relation* new_rel = after->FindRelation("crm", "recreated");
  ASSERT_NE(new_rel, nullptr);
  EXPECT_NE(new_rel->oid, old_oid);
  EXPECT_EQ(new_rel->oid, RelationOid("crm.recreated"));
  EXPECT_EQ(after->FindRelation(old_oid), nullptr);
  EXPECT_EQ(ColumnNames(*new_rel), (std::vector<std::string>{"b", "a"}));

  // The old snapshot is immutable: whoever still holds it sees the old table.
  EXPECT_EQ(before->FindRelation(old_oid), old_rel);
  EXPECT_EQ(ColumnNames(*old_rel), (std::vector<std::string>{"a"}));
  CAT_EXEC("DROP TABLE crm.recreated");
}

TEST(CatalogLoad, BeforeAnyLoadTheSnapshotIsEmpty) {
  Catalog catalog(Options());
  auto snap = catalog.current();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->version(), 0);
  EXPECT_TRUE(snap->relations().empty());
}

}  // namespace
}  // namespace pgveil::catalog::testing
