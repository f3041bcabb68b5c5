// The guard's verdicts for the sales policy of the shipped rules over the demo schema:
// what is served, what is refused (and that refusals never quote the statement), the
// lineage of result columns, and pseudonyms turned back into real values.
#include "pgveil/guard/analyzer.h"

#include <gtest/gtest.h>

#include "demo_policy.h"
#include "pgveil/guard/copy_inspect.h"

namespace pgveil::guard {
namespace {

using policy::FieldLineage;

class GuardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { policy_ = new auto(testing::DemoPolicy("sales")); }
  static void TearDownTestSuite() { delete policy_; }

  std::shared_ptr<const Verdict> Check(const std::string& sql) {
    return Analyzer::For(*policy_)->AnalyzeUncached(sql);
  }
  const catalog::Relation& Rel(const char* name) {
    return *(*policy_)->snapshot()->FindRelation("crm", name);
  }
  // A member id's pseudonym as the sales policy shows it.
  std::string Pseudonym(int64_t id) {
    const auto& m = (*policy_)->ForColumn(Rel("members").oid, 1);
    std::string out;
    bool is_null = false;
    EXPECT_TRUE(
        m.transform->Apply(20, mask::Format::kText, std::to_string(id), &out, &is_null).ok());
    return out;
  }

  static std::shared_ptr<const policy::Policy>* policy_;
};
std::shared_ptr<const policy::Policy>* GuardTest::policy_ = nullptr;

struct Case {
  const char* sql;
  const char* sqlstate;  // "" when served
};

// Served: the CRM's everyday statements.
const Case kServed[] = {
    {"SELECT member_id, nickname, city, phone FROM crm.members LIMIT 20", ""},
    // Fields of allowed functions' composite results, and a function's single value.
    {"SELECT (information_schema._pg_expandarray(ARRAY[3, 4])).x, j.key, g.g FROM "
     "json_each('{}') j, generate_series(1, 2) g",
     ""},
    {"SELECT count(*) FROM crm.members WHERE monthly_income >= 8000::bigint", ""},
    {"SELECT count(*) FROM crm.members WHERE height_cm >= pg_catalog.int2 '170'", ""},
    {"PREPARE p(bigint) AS SELECT nickname FROM crm.members WHERE member_id = $1", ""},
    {"PREPARE p(numeric) AS SELECT nickname FROM crm.members WHERE monthly_income >= $1", ""},
    {"SELECT * FROM crm.members", ""},
    {"SELECT m.* FROM crm.members m WHERE m.city = 'Shanghai'", ""},
    {"SELECT nickname FROM crm.members WHERE monthly_income >= 8000", ""},
    {"SELECT nickname FROM crm.members WHERE monthly_income >= 8000 AND monthly_income < 12000",
     ""},
    {"SELECT nickname FROM crm.members WHERE monthly_income BETWEEN 8000 AND 11999", ""},
    {"SELECT nickname FROM crm.members WHERE 8000 <= monthly_income", ""},
    {"SELECT nickname FROM crm.members WHERE monthly_income > 7999", ""},
    {"SELECT nickname FROM crm.members WHERE height_cm >= 160 AND height_cm < 170", ""},
    {"SELECT nickname FROM crm.members WHERE birth_date <= '1995-12-01'", ""},
    {"SELECT nickname FROM crm.members WHERE birth_date >= DATE '1990-12-02'", ""},
    {"SELECT city, count(*) FROM crm.members GROUP BY city ORDER BY 2 DESC", ""},
    {"SELECT city, count(phone) FROM crm.members GROUP BY city", ""},
    {"SELECT gender, grade, count(*) AS n FROM crm.members GROUP BY 1, 2 ORDER BY n", ""},
    {"SELECT nickname, upper(city) FROM crm.members ORDER BY nickname LIMIT 10 OFFSET 20", ""},
    {"SELECT c.member_id, c.pool, m.nickname FROM crm.resource_claims c JOIN crm.members m "
     "ON m.member_id = c.member_id WHERE c.status = 'open'",
     ""},
    {"SELECT viewer_id, viewed_at FROM crm.profile_views WHERE viewed_id IN (SELECT member_id "
     "FROM crm.members WHERE city = 'Beijing')",
     ""},
    {"SELECT body FROM crm.chat_messages WHERE sender_id = $1 OR receiver_id = $1", ""},
    {"WITH pool AS (SELECT member_id, city FROM crm.members WHERE grade = 'A') SELECT * FROM pool",
     ""},
    {"SELECT s.nickname FROM (SELECT nickname, city FROM crm.members) s WHERE s.city = 'x'", ""},
    {"SELECT member_id FROM crm.members UNION ALL SELECT member_id FROM crm.resource_claims", ""},
    {"SELECT member_id FROM crm.members UNION SELECT viewer_id FROM crm.profile_views", ""},
    {"SELECT phone::text FROM crm.members", ""},
    {"SELECT (SELECT count(*) FROM crm.chat_messages c WHERE c.sender_id = m.member_id) FROM "
     "crm.members m",
     ""},
    {"SELECT count(*) FILTER (WHERE grade = 'A') FROM crm.members", ""},
    {"SELECT row_number() OVER (PARTITION BY city ORDER BY nickname), nickname FROM crm.members",
     ""},
    {"SELECT * FROM crm.staff", ""},
    {"SELECT nickname FROM members WHERE member_id = 12345", ""},
    {"SELECT * FROM crm.stores s JOIN crm.staff USING (store_id)", ""},
    {"SELECT n FROM generate_series(1, 3) AS g(n)", ""},
    // JDBC's type lookup (TypeInfoCache.getSQLType): USING with a column of a catalog.
    {"SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid "
     "FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from "
     "pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from "
     "generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname "
     ") ) as sp ON sp.nspoid = typnamespace WHERE pg_type.oid = $1 ORDER BY sp.r, pg_type.oid "
     "DESC",
     ""},
    {"SELECT oid, c.relname, n.nspname FROM pg_class c JOIN pg_namespace n USING (oid)", ""},
    // JDBC's DatabaseMetaData.getPrimaryKeys.
    {"SELECT a.attname, (information_schema._pg_expandarray(i.indkey)).n AS key_seq FROM "
     "pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid WHERE "
     "i.indisprimary",
     ""},
    {"SELECT 1", ""},
    {"VALUES (1, 'a'), (2, 'b')", ""},
    {"SELECT now(), current_date, version()", ""},
    {"SELECT member_id, nickname, phone FROM crm.member_cards", ""},
    {"SELECT nickname FROM crm.member_cards WHERE city = 'x'", ""},
    {"SELECT EXISTS (SELECT 1 FROM crm.members WHERE member_id = $1)", ""},
    {"SELECT m.nickname, l.n FROM crm.members m, LATERAL (SELECT count(*) AS n FROM "
     "crm.contact_log c WHERE c.member_id = m.member_id) l",
     ""},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note) VALUES (7, $1, "
     "'call', 'no answer', 'called about the event')",
     ""},
    {"UPDATE crm.resource_claims SET staff_id = 7, status = 'contacted' WHERE member_id = $1", ""},
    {"UPDATE crm.resource_claims SET member_id = $2 WHERE member_id = $1", ""},
    {"UPDATE crm.resource_claims SET member_id = NULL WHERE member_id = $1", ""},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (7, 4242, 'call'), "
     "(8, DEFAULT, 'sms')",
     ""},
    {"UPDATE crm.members SET grade = 'B' WHERE member_id = $1 RETURNING member_id, phone", ""},
    {"DELETE FROM crm.contact_log WHERE contact_id = 5", ""},
    {"INSERT INTO crm.resource_claims (member_id, pool, status) SELECT member_id, 'city', 'open' "
     "FROM crm.members WHERE city = 'x'",
     ""},
    {"BEGIN", ""},
    {"COMMIT", ""},
    {"ROLLBACK", ""},
    {"SET application_name = 'crm'", ""},
    {"SET TIME ZONE 'Asia/Shanghai'", ""},
    {"SET statement_timeout = 5000", ""},
    {"RESET ALL", ""},
    {"SHOW search_path", ""},
    {"SET search_path = crm, public", ""},
    {"SET search_path TO \"$user\", crm", ""},
    {"SELECT set_config('search_path', '', false)", ""},
    {"SELECT set_config('search_path', 'pg_catalog, crm', false)", ""},
    {"DISCARD ALL", ""},
    {"LISTEN crm_events", ""},
    {"UNLISTEN *", ""},
    {"EXPLAIN SELECT nickname FROM crm.members WHERE city = 'x'", ""},
    {"PREPARE card(bigint) AS SELECT * FROM crm.members WHERE member_id = $1", ""},
    {"DEALLOCATE card", ""},
    {"DECLARE c CURSOR FOR SELECT member_id, phone FROM crm.members", ""},
    {"FETCH 10 FROM c", ""},
    {"CLOSE c", ""},
    {"COPY crm.members TO STDOUT", ""},
    {"COPY (SELECT member_id, phone, upper(city) FROM crm.members WHERE monthly_income >= 8000) "
     "TO STDOUT (FORMAT csv)",
     ""},
    {"COPY crm.contact_log (staff_id, channel, outcome) FROM STDIN", ""},
    {"SET DateStyle = ISO, DMY", ""},
    {"SELECT set_config('datestyle', 'ISO, MDY', false)", ""},
    {"COPY crm.contact_log (staff_id, member_id, channel) FROM STDIN", ""},
    {"COPY crm.resource_claims FROM STDIN (FORMAT csv, HEADER, DELIMITER ';')", ""},
    {"SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relnamespace = 'crm'::regnamespace", ""},
    {"SELECT n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class "
     "c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
     "pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1, 2",
     ""},
    {"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM "
     "pg_catalog.pg_attribute "
     "a WHERE a.attrelid = 16402 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
     ""},
    {"SELECT 1; SELECT 2", ""},
    {"SELECT * FROM crm.members JOIN crm.resource_claims USING (member_id) WHERE grade = 'A'", ""},
    {"SELECT nickname FROM crm.phone_prefixes", ""},
    {"SELECT row_to_json(s) FROM crm.stores s", ""},
    {"SELECT set_config('application_name', 'crm-ui', false)", ""},
    // Upserts, multi-column SET, NATURAL and aliased joins.
    {"INSERT INTO crm.members (member_id, nickname) VALUES ($1, 'x') ON CONFLICT (member_id) "
     "DO UPDATE SET nickname = EXCLUDED.nickname, city = crm.members.city RETURNING member_id",
     ""},
    {"INSERT INTO crm.members AS m (member_id, phone) VALUES ($1, $2) ON CONFLICT (member_id) "
     "DO UPDATE SET phone = EXCLUDED.phone WHERE m.city = 'Shanghai'",
     ""},
    {"INSERT INTO crm.resource_claims (member_id, pool, status) VALUES ($1, 'store', 'open') ON "
     "CONFLICT DO NOTHING",
     ""},
    {"UPDATE crm.resource_claims SET (status, pool) = ('contacted', 'assigned') WHERE member_id "
     "= $1",
     ""},
    {"UPDATE crm.resource_claims SET (status, staff_id) = (SELECT 'open', staff_id FROM "
     "crm.staff WHERE staff_id = 7) WHERE member_id = $1",
     ""},
    {"SELECT nickname, pool, status FROM crm.members NATURAL JOIN crm.resource_claims WHERE "
     "member_id = $1",
     ""},
    {"SELECT * FROM crm.members NATURAL LEFT JOIN crm.resource_claims", ""},
    {"SELECT j.nickname, j.pool FROM (crm.members m JOIN crm.resource_claims c USING "
     "(member_id)) AS j WHERE j.member_id = $1",
     ""},
    {"SELECT j.a, j.b FROM (crm.stores s JOIN crm.staff f USING (store_id)) AS j(sid, a, b)", ""},
};

// Refused, each with its SQLSTATE.
const Case kRefused[] = {
    {"SELECT phone || '' FROM crm.members", "42501"},
    // Casts that turn a boundary into another value, and declared types of pseudonyms.
    {"SELECT count(*) FROM crm.members WHERE monthly_income >= '12000'::varchar(4)::int", "42501"},
    {"SELECT count(*) FROM crm.members WHERE monthly_income >= 8000::bit(12)::int4", "42501"},
    {"SELECT count(*) FROM crm.members WHERE monthly_income >= $1::varchar(4)::int", "42501"},
    {"SELECT count(*) FROM crm.members WHERE height_cm < 175::numeric(3,-1)", "42501"},
    {"PREPARE p(smallint) AS SELECT nickname FROM crm.members WHERE member_id = $1", "42501"},
    {"PREPARE p(float4) AS SELECT nickname FROM crm.members WHERE monthly_income >= $1", "42501"},
    {"SELECT nickname FROM crm.members WHERE phone LIKE '138%'", "42501"},
    {"SELECT row_to_json(m) FROM crm.members m", "42501"},
    {"SELECT to_jsonb(m.*) FROM crm.members m", "42501"},
    {"SELECT m FROM crm.members m", "42501"},
    {"SELECT m::text FROM crm.members m", "42501"},
    {"SELECT nickname FROM crm.members UNION SELECT phone FROM crm.members", "42501"},
    {"SELECT max(monthly_income) FROM crm.members WHERE member_id = 5", "42501"},
    {"SELECT * FROM pg_stats", "42501"},
    {"SELECT * FROM pg_catalog.pg_statistic", "42501"},
    {"SELECT query FROM pg_stat_activity", "42501"},
    {"SELECT rolpassword FROM pg_authid", "42501"},
    {"SELECT nickname FROM crm.members WHERE monthly_income > 8123", "42501"},
    {"SELECT nickname FROM crm.members WHERE monthly_income = 8000", "42501"},
    {"SELECT nickname FROM crm.members WHERE monthly_income BETWEEN 8000 AND 12000", "42501"},
    {"SELECT nickname FROM crm.members WHERE height_cm >= 163", "42501"},
    {"SELECT nickname FROM crm.members WHERE birth_date < '1990-06-15'", "42501"},
    {"SELECT nickname FROM crm.members ORDER BY monthly_income", "42501"},
    {"SELECT nickname FROM crm.members ORDER BY phone", "42501"},
    {"SELECT nickname FROM crm.members ORDER BY member_id", "42501"},
    {"SELECT phone, count(*) FROM crm.members GROUP BY phone", "42501"},
    {"SELECT DISTINCT phone FROM crm.members", "42501"},
    {"SELECT CASE WHEN phone LIKE '138%' THEN 1 ELSE 0 END FROM crm.members", "42501"},
    {"SELECT CASE WHEN city = 'x' THEN phone END FROM crm.members", "42501"},
    {"SELECT length(phone) FROM crm.members", "42501"},
    {"SELECT substr(phone, 1, 3) FROM crm.members", "42501"},
    {"SELECT phone::bigint FROM crm.members", "42501"},
    {"SELECT monthly_income + 0 FROM crm.members", "42501"},
    {"SELECT monthly_income / 0 FROM crm.members", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id > 100", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = staff_id", "42501"},
    {"SELECT x FROM (SELECT phone AS x FROM crm.members) s WHERE x LIKE '1%'", "42501"},
    {"WITH p AS (SELECT phone FROM crm.members) SELECT * FROM p WHERE phone = '1'", "42501"},
    {"SELECT (SELECT phone FROM crm.members LIMIT 1) LIKE '1%'", "42501"},
    {"SELECT nickname FROM crm.members WHERE EXISTS (SELECT 1 FROM crm.members m2 WHERE "
     "m2.phone LIKE '13%')",
     "42501"},
    {"SELECT 1 FROM crm.members HAVING max(monthly_income) > 0", "42501"},
    {"SELECT prefix FROM crm.phone_prefixes", "42501"},
    {"SELECT nickname FROM crm.phone_prefixes WHERE prefix = '138'", "42501"},
    {"SELECT count(DISTINCT prefix) FROM crm.phone_prefixes", "42501"},
    {"SELECT set_config('role', 'matcher', false)", "42501"},
    {"SELECT set_config(nickname, 'x', false) FROM crm.members", "42501"},
    {"SELECT nickname FROM crm.member_cards WHERE phone LIKE '1%'", "42501"},
    {"SELECT query_to_xml('select phone from crm.members', true, true, '')", "42501"},
    {"SELECT table_to_xml('crm.members', true, true, '')", "42501"},
    {"SELECT set_config('search_path', 'crm, pg_catalog', false)", "42501"},
    {"SELECT set_config('search_path', 'pg_temp', false)", "42501"},
    {"SELECT set_config('search_path', $1, false)", "42501"},
    {"SELECT pg_sleep(1) FROM crm.members WHERE monthly_income >= 8000", "42501"},
    {"SELECT pg_notify('c', phone) FROM crm.members", "42501"},
    {"SELECT pg_read_file('/etc/passwd')", "42501"},
    {"SELECT lo_import('/etc/passwd')", "42501"},
    {"SELECT crm.some_function(1)", "42501"},
    {"SELECT dblink('x', 'y')", "42501"},
    {"SET ROLE postgres", "42501"},
    {"SET SESSION AUTHORIZATION postgres", "42501"},
    {"SET search_path = crm, pg_catalog", "42501"},
    {"SET search_path = pg_temp, crm", "42501"},
    {"SET search_path = 1, pg_catalog", "42501"},
    {"SET LOCAL search_path = \"crm\", pg_temp_2", "42501"},
    {"SET standard_conforming_strings = off", "42501"},
    {"SET backslash_quote = on", "42501"},
    {"SET client_encoding = 'SJIS'", "42501"},
    {"SET DateStyle = SQL, DMY", "42501"},
    {"SET datestyle TO 'German'", "42501"},
    {"SELECT set_config('DateStyle', 'Postgres, MDY', false)", "42501"},
    {"SELECT set_config('DateStyle', 'SQL' || '', false)", "42501"},
    {"RESET ROLE", "42501"},
    {"DO $$ BEGIN PERFORM 1; END $$", "42501"},
    {"CALL crm.p()", "42501"},
    {"CREATE TABLE t (a int)", "42501"},
    {"CREATE TEMP TABLE t AS SELECT phone FROM crm.members", "42501"},
    {"SELECT phone INTO TEMP t FROM crm.members", "42501"},
    {"DROP TABLE crm.members", "42501"},
    {"ALTER TABLE crm.members ADD COLUMN x int", "42501"},
    {"TRUNCATE crm.contact_log", "42501"},
    {"GRANT SELECT ON crm.members TO sales", "42501"},
    {"LOCK TABLE crm.members", "42501"},
    {"VACUUM crm.members", "42501"},
    {"ANALYZE crm.members", "42501"},
    {"LOAD 'plpgsql'", "42501"},
    {"COPY crm.members TO '/tmp/x'", "42501"},
    {"COPY crm.members TO PROGRAM 'cat'", "42501"},
    {"COPY (SELECT phone || '' FROM crm.members) TO STDOUT", "42501"},
    {"COPY (SELECT * FROM pg_class) TO STDOUT", "0A000"},
    {"COPY crm.contact_log (staff_id, member_id, channel) FROM STDIN (FORMAT csv, FORCE_NULL "
     "(member_id))",
     "0A000"},
    {"COPY crm.resource_claims FROM STDIN WITH (DEFAULT 'x')", "0A000"},
    {"EXPLAIN ANALYZE SELECT * FROM crm.members", "42501"},
    {"EXPLAIN (ANALYZE) SELECT * FROM crm.members", "42501"},
    {"EXPLAIN SELECT nickname FROM crm.members WHERE phone = '1'", "42501"},
    {"SELECT 1; SELECT phone || 'x' FROM crm.members", "42501"},
    {"SELECT * FROM crm.nope", "42501"},
    {"UPDATE crm.contact_log SET note = (SELECT phone FROM crm.members LIMIT 1)", "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel, note) SELECT 1, member_id, "
     "'call', "
     "phone FROM crm.members",
     "42501"},
    {"UPDATE crm.members SET nickname = phone", "42501"},
    {"DELETE FROM crm.members WHERE phone = '13800000000'", "42501"},
    {"SELECT member_id FROM crm.members WHERE member_id = $1 AND phone = $2", "42501"},
    {"DECLARE c CURSOR FOR SELECT phone || '' FROM crm.members", "42501"},
    {"PREPARE p AS SELECT upper(phone) FROM crm.members", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = E'123'", "42501"},
    {"SELEC 1", "42601"},
    {"EXPLAIN SELECT nickname FROM crm.members WHERE member_id = 4242", "0A000"},
    {"EXPLAIN SELECT nickname FROM crm.members WHERE member_id = $1", "0A000"},
    {"EXPLAIN EXECUTE card(4242)", "0A000"},
    {"SELECT statement FROM pg_prepared_statements", "42501"},
    {"SELECT statement FROM pg_catalog.pg_cursors", "42501"},
    {"MERGE INTO crm.members m USING crm.staff s ON false WHEN MATCHED THEN DELETE", "42501"},
    {"SELECT (SELECT phone FROM pg_class LIMIT 1) FROM crm.members", "42501"},
    {"SELECT array_agg(phone) FROM crm.members", "42501"},
    {"SELECT string_agg(nickname, phone) FROM crm.members", "42501"},
    {"SELECT nickname FROM crm.members WHERE wechat_id IS NOT NULL", "42501"},
    {"SELECT coalesce(phone, '') FROM crm.members", "42501"},
    {"SELECT ARRAY[phone] FROM crm.members", "42501"},
    {"SELECT * FROM unnest(ARRAY(SELECT phone FROM crm.members))", "42501"},
    {"SELECT information_schema._pg_expandarray(ARRAY[phone]) FROM crm.members", "42501"},
    // A value written into a pseudonym column that is not itself a pseudonym would be
    // stored as a real id, and read back as that id's pseudonym.
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT 7, 1 + 0, 'call'", "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT 7, $1 + 0, 'call'",
     "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT 7, 'x', 'call'", "42501"},
    // A parameter turned back into a real id may not be read anywhere else.
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT 7, $1, 'call' "
     "WHERE $1::text LIKE '1%'",
     "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT 7, $1, 'call' "
     "UNION ALL SELECT 7, $1, 'sms'",
     "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (7, 1 + 0, 'call')",
     "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (7, (SELECT 1), 'call')",
     "42501"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (7, $1, 'call') "
     "ORDER BY 1",
     "42501"},
    {"UPDATE crm.resource_claims SET member_id = 2 + 0 WHERE member_id = $1", "42501"},
    {"UPDATE crm.resource_claims SET (member_id, pool) = (SELECT 2, 'city') WHERE member_id = $1",
     "42501"},
    {"SELECT * FROM information_schema._pg_expandarray(ARRAY(SELECT phone FROM crm.members))",
     "42501"},
    {"SELECT _pg_expandarray(ARRAY[1, 2])", "42501"},
    {"SELECT count(*) FROM pg_namespace JOIN (SELECT phone AS nspname FROM crm.members) m "
     "USING (nspname)",
     "42501"},
    {"SELECT count(*) FROM (SELECT 1 AS x) a JOIN (SELECT monthly_income AS x FROM crm.members) "
     "m USING (x)",
     "42501"},
    {"SELECT information_schema._pg_truetypid(a, t) FROM pg_attribute a, pg_type t", "42501"},
    {"INSERT INTO crm.members (member_id, nickname) VALUES ($1, 'x') ON CONFLICT (member_id) "
     "DO UPDATE SET nickname = crm.members.phone",
     "42501"},
    {"INSERT INTO crm.members (member_id, nickname) VALUES ($1, 'x') ON CONFLICT (member_id) "
     "DO UPDATE SET nickname = EXCLUDED.nickname WHERE crm.members.phone LIKE '138%'",
     "42501"},
    {"INSERT INTO crm.members (member_id, nickname) VALUES ($1, 'x') ON CONFLICT (member_id) "
     "DO UPDATE SET about_me = EXCLUDED.phone",
     "42501"},
    {"INSERT INTO crm.members (member_id) VALUES ($1) ON CONFLICT (member_id) DO UPDATE SET "
     "nickname = 'x' WHERE EXCLUDED.monthly_income > 8123",
     "42501"},
    {"UPDATE crm.members SET (nickname, about_me) = (phone, 'x') WHERE member_id = $1", "42501"},
    {"UPDATE crm.members SET (nickname, city) = (SELECT phone, city FROM crm.members WHERE "
     "member_id = $1) WHERE member_id = $2",
     "42501"},
    {"SELECT phone FROM crm.members NATURAL JOIN crm.resource_claims WHERE phone LIKE '138%'",
     "42501"},
    {"SELECT j FROM (crm.members m JOIN crm.resource_claims c USING (member_id)) AS j", "42501"},
    {"SELECT count(*) FROM (crm.members m JOIN crm.resource_claims c USING (member_id)) AS j "
     "WHERE j.monthly_income > 8123",
     "42501"},
    {"SELECT x FROM (crm.members m JOIN crm.resource_claims c USING (member_id)) AS j(a, b, x) "
     "WHERE x LIKE '138%'",
     "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY($1::int4[])", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY($1::text[]::int8[])", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY($1::int8[][])", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id > ANY($1)", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ALL($1)", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY(string_to_array($1, ',')::int8[])",
     "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY('{1,2}'::int4[])", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY('{{1},{2}}')", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY('[1:2]={1,2}')", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY('{-1}')", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = $1::int4", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = $1::text", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = $1::numeric(3,0)", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY($1) AND member_id = $1", "42501"},
    {"SELECT nickname FROM crm.members WHERE member_id = ANY($1) AND monthly_income >= $1",
     "42501"},
    {"SELECT nickname FROM crm.members m WHERE (m.member_id, 1) IN (SELECT member_id, 1 FROM "
     "crm.contact_log)",
     "0A000"},
    // (expression).* makes several values where the walk would count one.
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES ((ROW(1001, 1::bigint, "
     "'call')).*)",
     "0A000"},
    {"INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT (v).* FROM (VALUES "
     "(1001, 1::bigint, 'call')) v",
     "0A000"},
    // x.* in VALUES or ROW(...) stands for as many values as x has columns (none here).
    {"SELECT v.column2 FROM (SELECT) z, crm.members m, LATERAL (VALUES (z.*, m.nickname, "
     "m.phone::varchar)) v",
     "0A000"},
    {"UPDATE crm.resource_claims r SET (claimed_at, member_id) = ROW(z.*, NULL, 1::bigint) FROM "
     "(SELECT) z WHERE r.staff_id = 1001",
     "0A000"},
    // Functions called in attribute notation: t.f and (expression).f are f(t).
    {"SELECT ('SELECT to_tsvector(''simple'', phone) FROM crm.members'::text).ts_stat", "42501"},
    {"SELECT x.ts_stat FROM CAST('SELECT 1' AS text) x", "42501"},
    {"SELECT b.pg_stat_get_activity FROM pg_backend_pid() b", "42501"},
    {"SELECT (c.outcome).ts_stat FROM crm.contact_log c", "42501"},
};

TEST_F(GuardTest, ServesTheCrmsStatements) {
  for (const auto& c : kServed) {
    auto v = Check(c.sql);
    EXPECT_FALSE(v->refused) << c.sql << "\n  -> " << v->sqlstate << " " << v->message;
  }
}

TEST_F(GuardTest, RefusesEveryWayAroundTheMasks) {
  for (const auto& c : kRefused) {
    auto v = Check(c.sql);
    EXPECT_TRUE(v->refused) << c.sql;
    if (!v->refused) continue;
    EXPECT_EQ(v->sqlstate, c.sqlstate) << c.sql << "\n  -> " << v->message;
    EXPECT_FALSE(v->message.empty());
    // Never a literal of the statement in what the client is told.
    for (const char* lit : {"138", "13800000000", "8123", "/etc/passwd", "SJIS", "1990-06-15"}) {
      if (std::string(c.sql).find(lit) == std::string::npos) continue;
      EXPECT_EQ(v->message.find(lit), std::string::npos) << c.sql << ": " << v->message;
      EXPECT_EQ(v->hint.find(lit), std::string::npos) << c.sql << ": " << v->hint;
    }
  }
}

TEST_F(GuardTest, CorpusSizes) {
  EXPECT_GE(std::size(kServed), 60u);
  EXPECT_GE(std::size(kRefused), 90u);
}

TEST_F(GuardTest, RefusalNamesTheColumnAndConstruct) {
  auto v = Check("SELECT nickname FROM crm.members WHERE phone LIKE '138%'");
  ASSERT_TRUE(v->refused);
  EXPECT_NE(v->message.find("crm.members.phone"), std::string::npos) << v->message;
  EXPECT_NE(v->message.find("LIKE"), std::string::npos) << v->message;
  EXPECT_FALSE(v->hint.empty());
}

TEST_F(GuardTest, LineageOfResultColumns) {
  auto v = Check("SELECT member_id, upper(city), phone::text, count(*) OVER () FROM crm.members");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->statements.size(), 1u);
  const auto& f = v->statements[0].shape->fields;
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].kind, FieldLineage::Kind::kColumn);
  EXPECT_EQ(f[0].table_oid, Rel("members").oid);
  EXPECT_EQ(f[0].attnum, 1);
  EXPECT_EQ(f[1].kind, FieldLineage::Kind::kValue);
  EXPECT_EQ(f[2].kind, FieldLineage::Kind::kCastText);
  EXPECT_EQ(f[2].attnum, 6);
  EXPECT_EQ(f[3].kind, FieldLineage::Kind::kValue);
}

TEST_F(GuardTest, LineageThroughSubqueriesCtesViewsAndUnions) {
  for (const char* sql : {"SELECT x FROM (SELECT phone AS x FROM crm.members) s",
                          "WITH p AS (SELECT phone FROM crm.members) SELECT phone FROM p",
                          "SELECT phone FROM crm.member_cards",
                          "SELECT phone FROM crm.members UNION ALL SELECT phone FROM crm.members",
                          "SELECT (SELECT phone FROM crm.members LIMIT 1)"}) {
    auto v = Check(sql);
    ASSERT_FALSE(v->refused) << sql << ": " << v->message;
    const auto& f = v->statements[0].shape->fields;
    ASSERT_EQ(f.size(), 1u) << sql;
    EXPECT_EQ(f[0].kind, FieldLineage::Kind::kColumn) << sql;
    EXPECT_EQ(f[0].table_oid, Rel("members").oid) << sql;
    EXPECT_EQ(f[0].attnum, 6) << sql;
  }
}

TEST_F(GuardTest, StarOfAUsingJoinListsTheMergedColumnOnce) {
  auto v = Check("SELECT * FROM crm.members m JOIN crm.resource_claims c USING (member_id)");
  ASSERT_FALSE(v->refused) << v->message;
  const auto& f = v->statements[0].shape->fields;
  ASSERT_EQ(f.size(), Rel("members").columns.size() + Rel("resource_claims").columns.size() - 1);
  EXPECT_EQ(f[0].table_oid, Rel("members").oid);
  EXPECT_EQ(f[0].attnum, 1);
  EXPECT_EQ(f[1].attnum, 2);  // nickname
  EXPECT_EQ(f.back().table_oid, Rel("resource_claims").oid);
}

TEST_F(GuardTest, EveryRefusalHasAHint) {
  for (const auto& c : kRefused) {
    auto v = Check(c.sql);
    if (v->refused) {
      EXPECT_FALSE(v->hint.empty()) << c.sql;
    }
  }
}

TEST_F(GuardTest, StarOverSystemCatalogIsOpen) {
  auto v = Check("SELECT m.nickname, c.* FROM crm.members m, pg_catalog.pg_class c");
  ASSERT_FALSE(v->refused) << v->message;
  const auto& s = *v->statements[0].shape;
  EXPECT_TRUE(s.open);
  EXPECT_EQ(s.open_at, 1u);
  EXPECT_TRUE(Check("SELECT * FROM pg_class, pg_namespace")->refused);
}

TEST_F(GuardTest, PseudonymLiteralsBecomeRealIds) {
  const std::string p = Pseudonym(1000042);
  auto v = Check("SELECT nickname FROM crm.members WHERE member_id = " + p + " OR member_id IN ('" +
                 Pseudonym(1000043) + "', " + Pseudonym(7) + ")");
  ASSERT_FALSE(v->refused) << v->message;
  EXPECT_TRUE(v->rewritten);
  EXPECT_EQ(v->sql,
            "SELECT nickname FROM crm.members WHERE member_id = 1000042 OR member_id IN "
            "('1000043', 7)");
  auto ins = Check("INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (3, " + p +
                   ", 'call')");
  ASSERT_FALSE(ins->refused) << ins->message;
  EXPECT_EQ(ins->sql,
            "INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES (3, "
            "1000042, 'call')");
  // From the select list of a plain INSERT ... SELECT, as from VALUES.
  auto ins_select =
      Check("INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT staff_id, " + p +
            ", 'call' FROM crm.staff WHERE staff_id = 3");
  ASSERT_FALSE(ins_select->refused) << ins_select->message;
  EXPECT_EQ(ins_select->sql,
            "INSERT INTO crm.contact_log (staff_id, member_id, channel) SELECT staff_id, "
            "1000042, 'call' FROM crm.staff WHERE staff_id = 3");
  auto upd = Check("UPDATE crm.resource_claims SET staff_id = 3 WHERE member_id = " + p);
  ASSERT_FALSE(upd->refused) << upd->message;
  EXPECT_NE(upd->sql.find("= 1000042"), std::string::npos) << upd->sql;
  // In an upsert's VALUES, DO UPDATE SET and WHERE; in a SET (columns) = (...) row.
  auto upsert = Check("INSERT INTO crm.resource_claims (member_id, pool, status) VALUES (" + p +
                      ", 'store', 'open') ON CONFLICT DO NOTHING");
  ASSERT_FALSE(upsert->refused) << upsert->message;
  EXPECT_NE(upsert->sql.find("(1000042, 'store'"), std::string::npos) << upsert->sql;
  auto doupd =
      Check("INSERT INTO crm.members (member_id, nickname) VALUES (" + p +
            ", 'x') ON CONFLICT (member_id) DO UPDATE SET member_id = " + Pseudonym(1000043) +
            " WHERE crm.members.member_id = " + Pseudonym(7));
  ASSERT_FALSE(doupd->refused) << doupd->message;
  EXPECT_EQ(doupd->sql,
            "INSERT INTO crm.members (member_id, nickname) VALUES (1000042, 'x') ON CONFLICT "
            "(member_id) DO UPDATE SET member_id = 1000043 WHERE crm.members.member_id = 7");
  auto multi = Check("UPDATE crm.resource_claims SET (member_id, status) = (" + p +
                     ", 'open') WHERE member_id = " + Pseudonym(7));
  ASSERT_FALSE(multi->refused) << multi->message;
  EXPECT_EQ(multi->sql,
            "UPDATE crm.resource_claims SET (member_id, status) = (1000042, 'open') WHERE "
            "member_id = 7");
}

TEST_F(GuardTest, ALiteralWalkedTwiceIsRewrittenOnce) {
  // The arms of a recursive WITH query are walked more than once; a second replacement
  // of the same span would cut the text after it (what follows the literal, here a
  // comment, would reach the server unchecked).
  const std::string p = Pseudonym(7);
  const std::string tail = " /*xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx UNION ALL SELECT 1) SELECT 2 */";
  auto v =
      Check("WITH RECURSIVE t(id) AS (SELECT member_id FROM crm.members WHERE member_id = " + p +
            tail + " UNION ALL SELECT id FROM t WHERE false) SELECT count(*) FROM t");
  ASSERT_FALSE(v->refused) << v->message;
  EXPECT_EQ(v->sql,
            "WITH RECURSIVE t(id) AS (SELECT member_id FROM crm.members WHERE member_id = 7" +
                tail + " UNION ALL SELECT id FROM t WHERE false) SELECT count(*) FROM t");
  // A parameter is listed once however often it is compared (each entry becomes one edit
  // of an EXECUTE argument).
  auto twice = Check("SELECT nickname FROM crm.members WHERE member_id = $1 OR member_id = $1");
  ASSERT_FALSE(twice->refused) << twice->message;
  EXPECT_EQ(twice->params.size(), 1u);
  auto rec = Check(
      "WITH RECURSIVE t(id) AS (SELECT member_id FROM crm.members WHERE member_id = $1 UNION "
      "ALL SELECT id FROM t WHERE false) SELECT count(*) FROM t");
  ASSERT_FALSE(rec->refused) << rec->message;
  EXPECT_EQ(rec->params.size(), 1u);
}

TEST_F(GuardTest, OrdinalsPastAStarOfUnknownWidthMayMeanAnyLaterColumn) {
  // generate_series(...) g has as many columns as PostgreSQL says: ORDER BY 2 may be
  // monthly_income.
  EXPECT_TRUE(Check("SELECT g.*, m.monthly_income, m.nickname FROM crm.members m, "
                    "generate_series(1, 1) g ORDER BY 2")
                  ->refused);
  EXPECT_TRUE(Check("SELECT g.*, m.monthly_income, count(*) FROM crm.members m, "
                    "generate_series(1, 1) g GROUP BY 1, 2")
                  ->refused);
  EXPECT_TRUE(Check("SELECT DISTINCT ON (3) c.*, m.phone FROM crm.members m, pg_catalog.pg_class c")
                  ->refused);
  auto ok =
      Check("SELECT m.nickname, g.* FROM crm.members m, generate_series(1, 2) g ORDER BY 1, 2");
  EXPECT_FALSE(ok->refused) << ok->message;
}

TEST_F(GuardTest, SearchAndCycleColumnsCarryTheirSources) {
  EXPECT_TRUE(Check("WITH RECURSIVE t(id, ph) AS (SELECT member_id, phone FROM crm.members UNION "
                    "ALL SELECT id, ph FROM t WHERE false) CYCLE ph SET c USING p SELECT * FROM t")
                  ->refused);
  EXPECT_TRUE(Check("WITH RECURSIVE t(id, i) AS (SELECT member_id, monthly_income FROM "
                    "crm.members UNION ALL SELECT id, i FROM t WHERE false) SEARCH DEPTH FIRST BY "
                    "i SET o SELECT id FROM t ORDER BY o")
                  ->refused);
  auto ok = Check(
      "WITH RECURSIVE t(n, c) AS (SELECT 1, city FROM crm.members UNION ALL SELECT n + 1, c FROM "
      "t WHERE n < 3) SEARCH BREADTH FIRST BY c SET o CYCLE c SET y USING p SELECT * FROM t");
  ASSERT_FALSE(ok->refused) << ok->message;
  ASSERT_TRUE(ok->statements[0].shape);
  EXPECT_EQ(ok->statements[0].shape->fields.size(), 5u);  // n, c, o, y, p
}

TEST_F(GuardTest, DataModifyingWithQueriesSeeTheClausesOtherQueries) {
  // `stores` is the WITH query, not crm.stores, inside the INSERT too.
  EXPECT_TRUE(Check("WITH stores AS (SELECT phone AS name FROM crm.members), x AS (INSERT INTO "
                    "crm.contact_log (staff_id, member_id, channel, outcome) SELECT 1, "
                    "m.member_id, 'call', s.name FROM crm.members m, stores s RETURNING outcome) "
                    "SELECT * FROM x")
                  ->refused);
  auto ok = Check(
      "WITH c AS (SELECT member_id FROM crm.members), x AS (INSERT INTO crm.contact_log "
      "(staff_id, member_id, channel) SELECT 1, c.member_id, 'call' FROM c RETURNING member_id) "
      "SELECT * FROM x");
  EXPECT_FALSE(ok->refused) << ok->message;
}

TEST_F(GuardTest, LineageFollowsARecursiveQueryUntilItSettles) {
  // phone moves one column further each round: d holds it from the fourth row on.
  EXPECT_TRUE(Check("WITH RECURSIVE t(n, a, b, c, d) AS (SELECT 1, phone, '', '', '' FROM "
                    "crm.members UNION ALL SELECT n + 1, '', a, b, c FROM t WHERE n < 5) SELECT "
                    "d FROM t")
                  ->refused);
  auto ok = Check(
      "WITH RECURSIVE t(n, a, b, c, d) AS (SELECT 1, city, '', '', '' FROM crm.members UNION "
      "ALL SELECT n + 1, '', a, b, c FROM t WHERE n < 5) SELECT d FROM t");
  EXPECT_FALSE(ok->refused) << ok->message;
}

TEST_F(GuardTest, AStringThatContinuesOnTheNextLineIsNotAPlainLiteral) {
  // '8000' <newline> '1' is the constant '80001' to PostgreSQL.
  EXPECT_TRUE(
      Check("SELECT count(*) FROM crm.members WHERE monthly_income >= '8000'\n'1'")->refused);
  EXPECT_TRUE(
      Check("SELECT nickname FROM crm.members WHERE member_id = '" + Pseudonym(7) + "'\r\n  '5'")
          ->refused);
  auto whole = Check("SELECT count(*) FROM crm.members WHERE monthly_income >= '80'\n'00'");
  EXPECT_FALSE(whole->refused) << whole->message;
  auto apart = Check(
      "SELECT count(*) FROM crm.members WHERE monthly_income >= '8000' AND "
      "city <> 'x'\n");
  EXPECT_FALSE(apart->refused) << apart->message;
}

TEST_F(GuardTest, CountOfAFunctionsWholeRowCountsItsValues) {
  // A function in FROM that returns one value: t.* is that value, so count(t.*) counts
  // where it is not NULL, as count(qq) would. Unaliased, the item is named as PostgreSQL
  // names a result column of the function (`CAST(m.qq AS text)` is qq).
  for (const char* sql : {
           "SELECT count(x.*) FROM crm.members m, CAST(m.qq AS text) x",
           "SELECT count(x.*) FROM crm.members m, ROWS FROM (CAST(m.qq AS varchar)) x",
           "SELECT count(qq.*) FROM crm.members m, CAST(m.qq AS text)",
           "SELECT count(x.*) FROM crm.members m LEFT JOIN LATERAL CAST((SELECT m.id_card_no) AS "
           "text) x ON true",
           "SELECT (SELECT count(x.*) FROM crm.stores s) FROM crm.members m, CAST(m.qq AS text) x",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "42501") << sql << ": " << v->message;
  }
  for (const char* sql : {
           "SELECT count(g.*) FROM generate_series(1, 3) g",
           "SELECT count(c.*) FROM crm.chat_messages c",
           "SELECT count(s.*) FROM (SELECT qq FROM crm.members) s",
           "SELECT count(x.*) FROM crm.members m, CAST(m.city AS text) x",
       }) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, AnUnaliasedFunctionInFromHasTheServersName) {
  // PostgreSQL names `CAST(m.phone AS text)` in FROM phone; phone.* is then its value.
  // pgveil knew the item by no name and took phone.* for a reference the server rejects.
  for (const char* sql : {
           "SELECT left(phone.*, 11) FROM crm.members m, CAST(m.phone AS text)",
           "SELECT count(*) FROM crm.members m, CAST(m.phone AS text) WHERE phone.* LIKE '138%'",
           "SELECT count(*) FROM crm.members m, CAST(m.monthly_income AS text) WHERE "
           "monthly_income.*::int = 8123",
           "SELECT upper(about_me.*) FROM crm.members m, ROWS FROM (CAST(m.about_me AS text))",
           "SELECT count(*) FROM crm.members m, CAST((SELECT m.qq) AS varchar) WHERE qq.* IS NULL",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "42501") << sql << ": " << v->message;
  }
  // A whole-row reference to a name pgveil does not know, with protected columns in
  // sight, is refused rather than left to the server.
  auto unknown = Check("SELECT upper(zz.*) FROM crm.members m");
  EXPECT_TRUE(unknown->refused);
  EXPECT_EQ(unknown->sqlstate, "0A000") << unknown->message;
  for (const char* sql : {"SELECT upper(city.*) FROM crm.members m, CAST(m.city AS text)",
                          "SELECT upper(zz.*) FROM crm.stores s"}) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, ASchemaQualifiedReferenceNamesOnlyAnUnaliasedRelation) {
  // PostgreSQL matches `crm.members.x` by the relation's OID, against tables written
  // without an alias only: `crm.stores AS members` is not it, and the search goes on to
  // an outer crm.members. pgveil took the alias for the table and served its columns.
  for (const char* sql : {
           "SELECT (SELECT row_to_json(crm.members.*) FROM crm.stores AS members LIMIT 1) "
           "FROM crm.members",
           "SELECT count(*) FROM crm.members WHERE EXISTS (SELECT 1 FROM crm.stores members "
           "WHERE crm.members.phone LIKE '138%')",
           "SELECT x.phone || '' FROM crm.members, LATERAL (SELECT crm.members.* FROM "
           "crm.stores AS members) x",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
  }
  // The outer phone, masked as a result column.
  auto outer = Check(
      "SELECT (SELECT crm.members.phone FROM crm.stores AS members LIMIT 1) FROM crm.members");
  ASSERT_FALSE(outer->refused) << outer->message;
  ASSERT_EQ(outer->statements.size(), 1u);
  ASSERT_EQ(outer->statements[0].shape->fields.size(), 1u);
  const auto& f = outer->statements[0].shape->fields[0];
  EXPECT_EQ(f.kind, FieldLineage::Kind::kColumn);
  EXPECT_EQ(f.table_oid, Rel("members").oid);
  EXPECT_EQ(f.attnum, 6);
  for (const char* sql : {
           "SELECT crm.members.city, crm.members.phone FROM crm.members",
           "SELECT count(crm.members.*) FROM crm.members",
           "SELECT (SELECT crm.stores.city FROM crm.stores LIMIT 1) FROM crm.members AS stores",
           "SELECT pg_catalog.pg_class.relname FROM pg_class",
           "SELECT (SELECT crm.members.qq FROM crm.members AS members LIMIT 1) FROM "
           "crm.members",
       }) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, JoinConditionsAndSampleArgumentsSeeOnlyWhatTheServerShows) {
  // JOIN ... ON sees the join's two sides and outer queries, TABLESAMPLE's arguments
  // outer queries only: a name of an earlier FROM item (or of the sampled table) there is
  // the outer query's. pgveil resolved it to the item beside them and served the filter.
  for (const char* sql : {
           "SELECT (SELECT count(*) FROM (SELECT 'a'::text AS phone) x, crm.stores s1 JOIN "
           "crm.stores s2 ON phone LIKE '138%') FROM crm.members",
           "SELECT (SELECT count(*) FROM crm.stores members, crm.stores s1 JOIN crm.stores s2 "
           "ON members.phone LIKE '138%') FROM crm.members",
           "SELECT (SELECT count(*) FROM crm.stores AS s(height_cm) TABLESAMPLE BERNOULLI "
           "(height_cm - 100)) FROM crm.members",
           "SELECT (SELECT count(*) FROM (SELECT 1 AS monthly_income) x, crm.stores "
           "TABLESAMPLE BERNOULLI (0) REPEATABLE (monthly_income)) FROM crm.members",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "42501") << sql << ": " << v->message;
  }
  for (const char* sql : {
           "SELECT count(*) FROM crm.stores s0, crm.members m JOIN crm.staff f ON m.city = "
           "f.team",
           "SELECT count(*) FROM crm.members m JOIN crm.contact_log c ON c.member_id = "
           "m.member_id JOIN crm.staff f ON f.staff_id = c.staff_id AND m.city <> ''",
           "SELECT (SELECT count(*) FROM crm.stores TABLESAMPLE BERNOULLI (100) REPEATABLE "
           "(length(m.city))) FROM crm.members m",
       }) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, AJoinUsingAliasNamesTheMergedColumns) {
  // `JOIN ... USING (member_id) AS u` names the merged column u.member_id. pgveil knew no
  // item u there and looked the name up in the outer query, where u was a constant.
  for (const char* sql : {
           "SELECT (SELECT count(*) FROM crm.members m JOIN crm.contact_log c USING (member_id) "
           "AS u WHERE u.member_id < 100) FROM (SELECT 1 AS member_id) u",
           "SELECT row_to_json(u) FROM crm.members m JOIN crm.contact_log c USING (member_id) "
           "AS u",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "42501") << sql << ": " << v->message;
  }
  auto v = Check(
      "SELECT u.member_id, u.* FROM crm.members m JOIN crm.contact_log c USING (member_id) AS u "
      "WHERE u.member_id = 5");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->statements.size(), 1u);
  const auto& f = v->statements[0].shape->fields;
  ASSERT_EQ(f.size(), 2u);
  for (const auto& field : f) {
    EXPECT_EQ(field.kind, FieldLineage::Kind::kColumn);
    EXPECT_EQ(field.table_oid, Rel("members").oid);
    EXPECT_EQ(field.attnum, 1);
  }
  // The merged id, not the outer constant: masked as a pseudonym.
  auto cast = Check(
      "SELECT (SELECT u.member_id FROM crm.members m JOIN crm.contact_log c USING (member_id) "
      "AS u LIMIT 1)::text FROM (SELECT 1 AS member_id) u");
  ASSERT_FALSE(cast->refused) << cast->message;
  ASSERT_EQ(cast->statements.size(), 1u);
  EXPECT_EQ(cast->statements[0].shape->fields[0].kind, FieldLineage::Kind::kCastText);
  EXPECT_EQ(cast->statements[0].shape->fields[0].attnum, 1);
}

TEST(CopyOptions, AreReadAsTheServerReadsThem) {
  // The server takes an option's value from a number as well as from a string: `QUOTE 3`
  // quotes with 3 (and doubles every 3 in a value). pgveil read strings only and parsed
  // the rows with '"', so redaction saw altered numbers.
  struct OptionCase {
    const char* sql;
    char delimiter, quote, escape;
    const char* null_string;
  };
  for (const OptionCase& c : {
           OptionCase{"COPY (SELECT 1) TO STDOUT (FORMAT csv, QUOTE 3)", ',', '3', '3', ""},
           OptionCase{"COPY (SELECT 1) TO STDOUT (FORMAT csv, QUOTE 0, ESCAPE 7)", ',', '0', '7',
                      ""},
           OptionCase{"COPY (SELECT 1) TO STDOUT (FORMAT csv, DELIMITER 5, NULL 1.5)", '5', '"',
                      '"', "1.5"},
           OptionCase{"COPY (SELECT 1) TO STDOUT (FORMAT csv, NULL 12)", ',', '"', '"', "12"},
       }) {
    auto r = InspectStatements(c.sql);
    ASSERT_TRUE(r.ok()) << c.sql;
    ASSERT_EQ(r->copies.size(), 1u) << c.sql;
    const CopyStatement& copy = r->copies[0];
    EXPECT_EQ(copy.delimiter, c.delimiter) << c.sql;
    EXPECT_EQ(copy.quote, c.quote) << c.sql;
    EXPECT_EQ(copy.escape, c.escape) << c.sql;
    EXPECT_EQ(copy.null_string, c.null_string) << c.sql;
    EXPECT_TRUE(copy.unreadable_option.empty()) << c.sql;
  }
  // `*` and a list are not read at all: the statement is refused (copy_options_test.cc).
  for (const char* sql : {"COPY (SELECT 1) TO STDOUT (FORMAT csv, QUOTE *)",
                          "COPY (SELECT 1) TO STDOUT (FORMAT csv, QUOTE ('3'), DELIMITER ('5'))"}) {
    auto r = InspectStatements(sql);
    ASSERT_TRUE(r.ok()) << sql;
    ASSERT_EQ(r->copies.size(), 1u) << sql;
    EXPECT_FALSE(r->copies[0].unreadable_option.empty()) << sql;
  }
}

TEST_F(GuardTest, ListSettingsAreSplitAsTheServerSplitsThem) {
  // SplitIdentifierString skips form feeds and vertical tabs as white space, and takes a
  // double-quoted DateStyle word as the word.
  for (const char* sql : {
           "SELECT set_config('search_path', E'crm,\\fpg_catalog', false)",
           "SELECT set_config('search_path', E'crm,\\x0bpg_catalog', false)",
           "SELECT set_config('search_path', E'crm,\\fpg_temp', true)",
           "SET DateStyle = '\nSQL'",
           "SET DateStyle = '\"SQL\"'",
           "SELECT set_config('datestyle', E'ISO\\f,\\fPostgres', false)",
       }) {
    auto v = Check(sql);
    EXPECT_TRUE(v->refused) << sql;
    EXPECT_EQ(v->sqlstate, "42501") << sql << ": " << v->message;
  }
  for (const char* sql : {"SET search_path = crm, E'\\fpg_catalog'",
                          "SELECT set_config('search_path', E'crm,\\f public', false)",
                          "SET DateStyle = '\fISO,\fDMY'"}) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, ClientMinMessagesStaysAtNoticeOrAbove) {
  // LOG and DEBUG messages quote the statement as the server received it: with the real
  // ids behind pseudonyms ("parse <unnamed>: ... member_id = 7").
  for (const char* sql : {"SET client_min_messages = debug2", "SET client_min_messages TO 'log'",
                          "SET LOCAL client_min_messages = DEBUG5",
                          "SELECT set_config('client_min_messages', 'debug1', false)",
                          "SELECT set_config('client_min_messages', lower('LOG'), true)"}) {
    EXPECT_TRUE(Check(sql)->refused) << sql;
  }
  for (const char* sql : {"SET client_min_messages = warning", "RESET client_min_messages",
                          "SET client_min_messages TO DEFAULT",
                          "SELECT set_config('client_min_messages', 'notice', false)"}) {
    auto v = Check(sql);
    EXPECT_FALSE(v->refused) << sql << ": " << v->message;
  }
}

TEST_F(GuardTest, OpenColumnsKeepTheirPlace) {
  // generate_series(...) g.* comes first: its column is s.a, phone is s.b, and s.* lists
  // g's column before phone.
  EXPECT_TRUE(Check("SELECT s.b FROM (SELECT g.*, m.phone::varchar FROM generate_series(1, 1) g, "
                    "crm.members m) AS s(a, b)")
                  ->refused);
  auto star = Check(
      "SELECT s.* FROM (SELECT g.*, m.phone::varchar FROM generate_series(1, 1) g, crm.members "
      "m) AS s");
  ASSERT_FALSE(star->refused) << star->message;
  ASSERT_TRUE(star->statements[0].shape);
  EXPECT_TRUE(star->statements[0].shape->open);
  EXPECT_EQ(star->statements[0].shape->open_at, 0u);
  // INSERT ... SELECT *: the function's columns go into member_id.
  EXPECT_TRUE(Check("INSERT INTO crm.resource_claims (member_id, pool, status) SELECT * FROM ROWS "
                    "FROM (generate_series(1::bigint, 3::bigint), unnest(ARRAY['store']), "
                    "unnest(ARRAY['open']))")
                  ->refused);
  EXPECT_TRUE(Check("WITH w(a, b) AS (SELECT g.*, m.phone::varchar FROM generate_series(1, 1) g, "
                    "crm.members m) SELECT w.b FROM w")
                  ->refused);
  auto ok = Check(
      "SELECT s.a, s.b FROM (SELECT g.*, m.city FROM generate_series(1, 1) g, crm.members m) AS "
      "s(a, b)");
  EXPECT_FALSE(ok->refused) << ok->message;
}

TEST_F(GuardTest, ParametersComparedWithPseudonymsAreListed) {
  auto v = Check("SELECT body FROM crm.chat_messages WHERE sender_id = $2 AND message_id > $1");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->params.size(), 1u);
  EXPECT_EQ(v->params[0].index, 1);
  EXPECT_EQ(v->params[0].type_oid, 20u);
  std::string real;
  ASSERT_TRUE(ReversePseudonym(v->params[0], mask::Format::kText, Pseudonym(1000001), &real).ok());
  EXPECT_EQ(real, "1000001");
  EXPECT_FALSE(ReversePseudonym(v->params[0], mask::Format::kText, "abc", &real).ok());
}

TEST_F(GuardTest, ArraysOfPseudonymsAreTurnedBackElementByElement) {
  for (const char* sql : {"SELECT nickname FROM crm.members WHERE member_id = ANY($1)",
                          "SELECT nickname FROM crm.members WHERE member_id = ANY($1::bigint[])",
                          "SELECT nickname FROM crm.members WHERE member_id <> ALL($1::int8[])"}) {
    auto v = Check(sql);
    ASSERT_FALSE(v->refused) << sql << ": " << v->message;
    ASSERT_EQ(v->params.size(), 1u) << sql;
    EXPECT_TRUE(v->params[0].array) << sql;
    EXPECT_EQ(v->params[0].type_oid, 20u);
    EXPECT_EQ(ArrayTypeOid(v->params[0].type_oid), 1016u);
  }
  auto v = Check("SELECT nickname FROM crm.members WHERE member_id = ANY($1)");
  const auto& rev = v->params[0];
  std::string real;
  const std::string text = " { " + Pseudonym(1000001) + " ,\"" + Pseudonym(7) + "\", null } ";
  ASSERT_TRUE(ReversePseudonymArray(rev, mask::Format::kText, text, &real).ok());
  EXPECT_EQ(real, "{1000001,7,NULL}");
  ASSERT_TRUE(ReversePseudonymArray(rev, mask::Format::kText, "{}", &real).ok());
  EXPECT_EQ(real, "{}");
  // A quoted "NULL" is a string, not a pseudonym; so are other dimensions and bounds.
  for (const std::string& bad :
       std::vector<std::string>{"{\"NULL\"}", "{" + Pseudonym(1) + "", "{" + Pseudonym(1) + ",}",
                                "{{" + Pseudonym(1) + "}}", "[1:1]={" + Pseudonym(1) + "}", "{-1}",
                                "{abc}", "{" + Pseudonym(1) + "} x", Pseudonym(1), "{,}",
                                "{" + Pseudonym(1) + " " + Pseudonym(2) + "}"}) {
    EXPECT_FALSE(ReversePseudonymArray(rev, mask::Format::kText, bad, &real).ok()) << bad;
  }
  // Binary: ndim 1, a NULL, element type int8.
  auto be32 = [](uint32_t x) {
    return std::string{static_cast<char>(x >> 24), static_cast<char>(x >> 16),
                       static_cast<char>(x >> 8), static_cast<char>(x)};
  };
  auto be64 = [&](uint64_t x) {
    return be32(static_cast<uint32_t>(x >> 32)) + be32(static_cast<uint32_t>(x));
  };
  const uint64_t pseudo = std::stoull(Pseudonym(1000001));
  std::string bin =
      be32(1) + be32(1) + be32(20) + be32(2) + be32(1) + be32(8) + be64(pseudo) + be32(0xFFFFFFFFu);
  ASSERT_TRUE(ReversePseudonymArray(rev, mask::Format::kBinary, bin, &real).ok());
  EXPECT_EQ(real, be32(1) + be32(1) + be32(20) + be32(2) + be32(1) + be32(8) + be64(1000001) +
                      be32(0xFFFFFFFFu));
  std::string wrong_type = be32(1) + be32(0) + be32(23) + be32(1) + be32(1) + be32(4) + be32(5);
  EXPECT_FALSE(ReversePseudonymArray(rev, mask::Format::kBinary, wrong_type, &real).ok());
  std::string two_dims =
      be32(2) + be32(0) + be32(20) + be32(1) + be32(1) + be32(1) + be32(1) + be32(8) + be64(pseudo);
  EXPECT_FALSE(ReversePseudonymArray(rev, mask::Format::kBinary, two_dims, &real).ok());
  EXPECT_FALSE(ReversePseudonymArray(rev, mask::Format::kBinary, bin + "x", &real).ok());
  EXPECT_FALSE(
      ReversePseudonymArray(rev, mask::Format::kBinary, bin.substr(0, bin.size() - 1), &real).ok());

  // Literal arrays and casts of single parameters.
  auto lit = Check("SELECT nickname FROM crm.members WHERE member_id = ANY('{" +
                   Pseudonym(1000042) + ", " + Pseudonym(7) + "}'::bigint[])");
  ASSERT_FALSE(lit->refused) << lit->message;
  EXPECT_EQ(lit->sql,
            "SELECT nickname FROM crm.members WHERE member_id = ANY('{1000042,7}'::bigint[])");
  auto cast = Check("SELECT nickname FROM crm.members WHERE member_id = $1::bigint");
  ASSERT_FALSE(cast->refused) << cast->message;
  ASSERT_EQ(cast->params.size(), 1u);
  EXPECT_FALSE(cast->params[0].array);
  auto arr = Check("SELECT nickname FROM crm.members WHERE member_id = ANY(ARRAY[$1::int8, " +
                   Pseudonym(7) + "])");
  ASSERT_FALSE(arr->refused) << arr->message;
  EXPECT_EQ(arr->params.size(), 1u);
}

TEST_F(GuardTest, ParametersComparedWithAlignedColumnsAreCheckedAtBind) {
  auto v = Check(
      "SELECT count(*) FROM crm.members WHERE monthly_income >= $1 AND height_cm BETWEEN $2 AND "
      "$3 AND $4 > birth_date");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->params.size(), 4u);
  const auto& income = v->params[0];
  EXPECT_EQ(income.aligned_op, ">=");
  EXPECT_EQ(v->params[1].aligned_op, ">=");
  EXPECT_EQ(v->params[2].aligned_op, "<=");
  EXPECT_EQ(v->params[3].aligned_op, "<");  // as the column sees it: birth_date < $4
  auto text = [&](const std::string& value) {
    return CheckAlignedParam(income, 0, mask::Format::kText, value).ok();
  };
  EXPECT_TRUE(text("8000"));
  EXPECT_TRUE(text("50000"));
  EXPECT_FALSE(text("8123"));
  EXPECT_FALSE(text(" 8000"));
  EXPECT_FALSE(text("8000.0"));
  EXPECT_FALSE(text("abc"));
  // Binary int8 (declared by the client) and binary int4 (the column's own type).
  const std::string b8000("\0\0\0\0\0\0\x1f\x40", 8), b8001("\0\0\0\0\0\0\x1f\x41", 8);
  EXPECT_TRUE(CheckAlignedParam(income, 20, mask::Format::kBinary, b8000).ok());
  EXPECT_FALSE(CheckAlignedParam(income, 20, mask::Format::kBinary, b8001).ok());
  EXPECT_TRUE(CheckAlignedParam(income, 0, mask::Format::kBinary, b8000.substr(4)).ok());
  EXPECT_FALSE(CheckAlignedParam(income, 0, mask::Format::kBinary, b8000).ok());  // bad size
  // BETWEEN must end at a bucket's top: height buckets are 5 cm wide.
  EXPECT_TRUE(CheckAlignedParam(v->params[2], 0, mask::Format::kText, "174").ok());
  EXPECT_FALSE(CheckAlignedParam(v->params[2], 0, mask::Format::kText, "175").ok());
  // Not available: a parameter both as a pseudonym and in an aligned comparison; an
  // equality with an aligned column; an EXPLAIN of aligned parameters is fine.
  EXPECT_TRUE(
      Check("SELECT 1 FROM crm.members WHERE member_id = $1 AND monthly_income >= $1")->refused);
  EXPECT_TRUE(
      Check("SELECT 1 FROM crm.members WHERE monthly_income >= $1 AND member_id = $1")->refused);
  EXPECT_TRUE(Check("SELECT 1 FROM crm.members WHERE monthly_income = $1")->refused);
  EXPECT_FALSE(Check("EXPLAIN SELECT 1 FROM crm.members WHERE monthly_income >= $1")->refused);
}

TEST_F(GuardTest, PreparedStatementsKeepTheirOwnParameters) {
  auto v = Check("PREPARE card(bigint) AS SELECT nickname FROM crm.members WHERE member_id = $1");
  ASSERT_FALSE(v->refused) << v->message;
  ASSERT_EQ(v->statements.size(), 1u);
  EXPECT_EQ(v->statements[0].kind, StatementVerdict::Kind::kPrepare);
  EXPECT_EQ(v->statements[0].params.size(), 1u);
  EXPECT_TRUE(v->params.empty());
  auto e = Check("EXECUTE card('" + Pseudonym(5) + "')");
  ASSERT_FALSE(e->refused) << e->message;
  ASSERT_EQ(e->statements[0].execute_arg_text.size(), 1u);
  EXPECT_EQ(e->statements[0].execute_arg_text[0], Pseudonym(5));
}

TEST_F(GuardTest, NotAPseudonymIsRefusedWithoutEcho) {
  // Integer pseudonyms are a permutation of the non-negative numbers: every one of them
  // is some member's pseudonym; a negative number or text is not.
  for (const char* lit : {"-31337", "'ab31337'"}) {
    auto v = Check(std::string("SELECT nickname FROM crm.members WHERE member_id = ") + lit);
    ASSERT_TRUE(v->refused) << lit;
    EXPECT_EQ(v->message.find("31337"), std::string::npos) << v->message;
  }
}

TEST_F(GuardTest, DeeplyNestedStatementsGetAVerdictNotACrash) {
  std::string casts = "SELECT count(*) FROM crm.members WHERE monthly_income >= $1";
  for (int i = 0; i < 20000; ++i) casts += "::int";
  std::string parens = "SELECT " + std::string(20000, '(') + "1" + std::string(20000, ')');
  std::string sums = "SELECT count(*) FROM crm.members WHERE height_cm > 1";
  for (int i = 0; i < 20000; ++i) sums += " + 1";
  for (const std::string& sql : {casts, parens, sums}) {
    auto v = Check(sql);
    ASSERT_NE(v, nullptr);
    if (v->refused) {
      EXPECT_FALSE(v->message.empty());
    }
  }
}

TEST_F(GuardTest, VerdictsAreCached) {
  auto a = Analyzer::For(*policy_);
  auto v1 = a->Analyze("SELECT nickname FROM crm.members");
  auto v2 = a->Analyze("SELECT nickname FROM crm.members");
  EXPECT_EQ(v1.get(), v2.get());
  EXPECT_EQ(Analyzer::For(*policy_).get(), a.get());
  // Age bands move every day: a birth date aligned today may not be tomorrow, so such a
  // verdict is decided again each time.
  const std::string dated =
      "SELECT count(*) FROM crm.members WHERE birth_date >= '1990-01-01' AND city = 'x'";
  auto d1 = a->Analyze(dated);
  auto d2 = a->Analyze(dated);
  EXPECT_TRUE(d1->dated);
  EXPECT_NE(d1.get(), d2.get());
  EXPECT_FALSE(a->Analyze("SELECT count(*) FROM crm.members WHERE monthly_income >= 8000")->dated);
  EXPECT_EQ(d1->dated_day, UtcDay());
  // A prepared statement keeps the day it was checked on: EXECUTE and Bind on a later
  // day are refused (proxy/masked_stream.cc).
  // (The demo policy's age bands are those of 2025-12-01.)
  auto prepared =
      a->Analyze("PREPARE pd AS SELECT count(*) FROM crm.members WHERE birth_date <= '1995-12-01'");
  ASSERT_FALSE(prepared->refused) << prepared->message;
  ASSERT_EQ(prepared->statements.size(), 1u);
  EXPECT_EQ(prepared->statements[0].dated_day, UtcDay());
  EXPECT_EQ(a->Analyze("PREPARE pn AS SELECT 1")->statements[0].dated_day, -1);
  // A cursor's parameter is checked at Bind against that day's bands, but the cursor may
  // be read on a later day: DECLARE with such a parameter is refused.
  auto cursor = a->Analyze(
      "DECLARE c CURSOR WITH HOLD FOR SELECT count(*) FROM crm.members WHERE birth_date <= $1");
  EXPECT_TRUE(cursor->refused);
  EXPECT_EQ(cursor->sqlstate, "0A000") << cursor->message;
  EXPECT_FALSE(
      a->Analyze("DECLARE c CURSOR FOR SELECT count(*) FROM crm.members WHERE height_cm >= $1")
          ->refused);
}

}  // namespace
}  // namespace pgveil::guard
