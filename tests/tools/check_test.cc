// pgveil check and keygen: offline, and against a real PostgreSQL.
#include "pgveil/tools/check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/pg_fixture.h"

namespace pgveil::tools {
namespace {

namespace fs = std::filesystem;

// The CRM demo schema and roles of CRM-DEMO.md (structure only; the real demo loads data).
constexpr char kCrmSchema[] = R"(
  CREATE ROLE sales; CREATE ROLE sales_lead; CREATE ROLE matcher;
  CREATE SCHEMA crm;
  CREATE TABLE crm.stores (store_id int PRIMARY KEY, city text, name text);
  CREATE TABLE crm.staff (staff_id int PRIMARY KEY, login name UNIQUE, display_name text,
    store_id int REFERENCES crm.stores, team text, tier char(1));
  CREATE TABLE crm.members (member_id bigint PRIMARY KEY, nickname text, real_name text,
    gender char(1), birth_date date, phone text, wechat_id text, qq text, email text,
    id_card_no text, province text, city text, height_cm smallint, weight_kg smallint,
    education text, occupation text, monthly_income integer, marital_status text,
    has_house boolean, has_car boolean, photo_url text, about_me text,
    registered_at timestamptz, last_login_at timestamptz, grade char(1),
    do_not_contact boolean NOT NULL DEFAULT false);
  CREATE TABLE crm.chat_messages (message_id bigint PRIMARY KEY, sender_id bigint REFERENCES crm.members,
    receiver_id bigint REFERENCES crm.members, sent_at timestamptz, body text);
  CREATE TABLE crm.profile_views (viewer_id bigint, viewed_id bigint, viewed_at timestamptz);
  CREATE TABLE crm.resource_claims (member_id bigint, staff_id int, pool text, claimed_at timestamptz, status text);
  CREATE TABLE crm.contact_log (contact_id bigserial PRIMARY KEY, staff_id int, member_id bigint,
    channel text, contacted_at timestamptz DEFAULT now(), outcome text, note text);
)";

class Check : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pgveil-check-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    keys_ = (dir_ / "keys.json").string();
    fs::copy_file(PGVEIL_SOURCE_DIR "/demo/keys.json", keys_, fs::copy_options::overwrite_existing);
    ::chmod(keys_.c_str(), 0600);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Run(const CheckOptions& o) {
    out_.str("");
    err_.str("");
    return RunCheck(o, out_, err_);
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p) << content;
    return p;
  }

  fs::path dir_;
  std::string keys_;
  std::ostringstream out_, err_;
  const std::string crm_ = PGVEIL_SOURCE_DIR "/masking-rules/crm.json";
};

TEST_F(Check, OfflineExitStatuses) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({.rules = {crm_}, .keys_file = keys_}), 0) << err_.str();
  EXPECT_NE(out_.str().find("rules OK: 5 policies"), std::string::npos);
  // Without keys: key names unchecked, a warning, still 0.
  EXPECT_EQ(Run({.rules = {crm_}}), 0);
  EXPECT_NE(err_.str().find("warning: key \"crm\" not checked"), std::string::npos);
  const std::string bad = Write("bad.json", R"({"policies": {"default": {}, "s": {"roles": ["s"]}},
      "types": {"t": {"s": {"transform": "partail"}}}})");
  EXPECT_EQ(Run({.rules = {bad}}), 1);
  EXPECT_NE(
      err_.str().find(
          bad +
          ": /types/t/s/transform: unknown transform \"partail\" (did you mean \"partial\"?)"),
      std::string::npos)
      << err_.str();
  // A key file that others can read is refused.
  ::chmod(keys_.c_str(), 0644);
  EXPECT_EQ(Run({.rules = {crm_}, .keys_file = keys_}), 1);
  EXPECT_NE(err_.str().find("chmod 600"), std::string::npos);
}

TEST_F(Check, Keygen) {
  std::ostringstream out, err;
  const std::string p = (dir_ / "new-keys.json").string();
  EXPECT_EQ(RunKeygen({}, out, err), 2);
  EXPECT_EQ(RunKeygen({.out_file = p, .names = {"crm"}}, out, err), 0);
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(RunKeygen({.out_file = p, .names = {"crm"}}, out, err), 1);  // exists
  EXPECT_EQ(Run({.rules = {crm_}, .keys_file = p}), 0) << err_.str();
}

TEST_F(Check, AgainstPostgres) {
  testing::PgCluster pg;
  std::string error;
  ASSERT_TRUE(pg.Start(&error)) << error;
  pg.Exec(kCrmSchema);

  // The shipped CRM rules match the CRM schema.
  EXPECT_EQ(Run({.rules = {crm_}, .keys_file = keys_, .db = pg.Conninfo()}), 0) << err_.str();
  EXPECT_NE(out_.str().find("coverage: 7 relations (7 listed)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("coverage: 7 relations (7 listed), 55 columns (37 listed)"),
            std::string::npos);
  EXPECT_NE(out_.str().find("policy dba: unmasked"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("policy sales: 30 shown, 20 transformed, 5 NULL"), std::string::npos);
  EXPECT_NE(out_.str().find("policy default: 9 shown, 0 transformed, 46 NULL"), std::string::npos)
      << out_.str();

  // A view over protected columns without rules of its own is reported.
  pg.Exec("CREATE VIEW crm.member_phones AS SELECT member_id, phone FROM crm.members");
  EXPECT_EQ(Run({.rules = {crm_}, .keys_file = keys_, .db = pg.Conninfo()}), 0);
  EXPECT_NE(err_.str().find("view crm.member_phones reads protected column crm.members."),
            std::string::npos)
      << err_.str();

  // Missing columns, relations and roles, wrong types: each reported, exit 1.
  const std::string broken = Write("broken.json", R"({
    "policies": {"default": {}, "ops": {"roles": ["opps"]}},
    "relations": {
      "crm.members": {"columns": {
        "phonee": {"*": "null"},
        "member_id": {"*": {"transform": "partial", "keep_first": 1}},
        "birth_date": {"pg_type": "timestamp", "*": {"transform": "truncate", "unit": "year"}}}},
      "crm.member": {"default": {"*": "null"}}
    }})");
  EXPECT_EQ(Run({.rules = {broken}, .db = pg.Conninfo()}), 1);
  const std::string e = err_.str();
  EXPECT_NE(e.find(broken + ": /policies/ops/roles/0: role \"opps\" does not exist"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(broken + ": /relations/crm.members/columns/phonee: column crm.members.phonee "
                            "does not exist (did you mean \"phone\"?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(broken + ": /relations/crm.member: relation crm.member does not exist (did you "
                            "mean \"crm.members\"?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("/relations/crm.members/columns/member_id: policy default: partial does not "
                   "apply to crm.members.member_id (bigint)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("/relations/crm.members/columns/birth_date/pg_type: declared timestamp without "
                   "time zone but the column is date"),
            std::string::npos)
      << e;

  // An unreachable database is an error, not a crash.
  EXPECT_EQ(Run({.rules = {crm_},
                 .keys_file = keys_,
                 .db = "host=127.0.0.1 port=1 user=postgres connect_timeout=2"}),
            1);
  EXPECT_NE(err_.str().find("cannot read the catalog"), std::string::npos);
}

}  // namespace
}  // namespace pgveil::tools
