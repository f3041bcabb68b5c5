-- The dating-CRM demo schema, roles, logins and grants (docs: CRM-DEMO.md).
--
--   psql -X -v ON_ERROR_STOP=1 -U postgres -d DB -f demo/schema.sql
--
-- Run as the superuser `postgres` (tables are owned by it). Re-runnable: both schemas are
-- dropped and recreated (all data in them is lost); roles are created when missing and
-- their passwords, memberships and attributes are reset. Roles are cluster-wide, schemas
-- per database: loading the demo into a second database reuses the same roles.
--
-- Every demo login has the password `veil-demo`. These are demo credentials only.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
-- Passwords below are stored as SCRAM verifiers whatever the server default is.
SET password_encryption = 'scram-sha-256';

BEGIN;
-- Whoever runs this, the objects belong to postgres.
SET LOCAL ROLE postgres;

DROP SCHEMA IF EXISTS crm CASCADE;
DROP SCHEMA IF EXISTS crm_truth CASCADE;

CREATE SCHEMA crm AUTHORIZATION postgres;
COMMENT ON SCHEMA crm IS 'Dating-platform CRM demo data (pgveil demo).';

CREATE TABLE crm.stores (
  store_id int PRIMARY KEY,
  city     text NOT NULL,
  name     text NOT NULL
);

CREATE TABLE crm.staff (
  staff_id     int PRIMARY KEY,
  login        name NOT NULL UNIQUE,
  display_name text NOT NULL,
  store_id     int REFERENCES crm.stores,
  team         text,
  tier         char(1) NOT NULL CHECK (tier IN ('X', 'Y', 'Z'))
);

CREATE TABLE crm.members (
  member_id      bigint PRIMARY KEY,
  nickname       text,
  real_name      text,
  gender         char(1) CHECK (gender IN ('M', 'F')),
  birth_date     date,
  phone          text UNIQUE,
  wechat_id      text,
  qq             text,
  email          text,
  id_card_no     text,
  province       text,
  city           text,
  height_cm      smallint CHECK (height_cm BETWEEN 100 AND 250),
  weight_kg      smallint CHECK (weight_kg BETWEEN 25 AND 250),
  education      text,
  occupation     text,
  monthly_income integer CHECK (monthly_income >= 0),
  marital_status text,
  has_house      boolean,
  has_car        boolean,
  photo_url      text,
  about_me       text,
  registered_at  timestamptz,
  last_login_at  timestamptz,
  grade          char(1) CHECK (grade IN ('A', 'B', 'C', 'D')),
  do_not_contact boolean NOT NULL DEFAULT false
);

CREATE TABLE crm.chat_messages (
  message_id  bigint PRIMARY KEY,
  sender_id   bigint NOT NULL REFERENCES crm.members,
  receiver_id bigint NOT NULL REFERENCES crm.members,
  sent_at     timestamptz NOT NULL,
  body        text NOT NULL
);

CREATE TABLE crm.profile_views (
  viewer_id bigint NOT NULL REFERENCES crm.members,
  viewed_id bigint NOT NULL REFERENCES crm.members,
  viewed_at timestamptz NOT NULL
);

-- One row per member known to the resource system. pool 'store' / 'city': the member sits
-- in that public pool (staff_id NULL, or the rep who last released it there); 'assigned':
-- the member is in staff_id's own resource list, claimed at claimed_at.
CREATE TABLE crm.resource_claims (
  member_id  bigint NOT NULL REFERENCES crm.members,
  staff_id   int REFERENCES crm.staff,
  pool       text NOT NULL CHECK (pool IN ('store', 'city', 'assigned')),
  claimed_at timestamptz,
  status     text NOT NULL
             CHECK (status IN ('open', 'contacted', 'visited', 'signed', 'no_service_needed')),
  CHECK (pool <> 'assigned' OR staff_id IS NOT NULL)
);

CREATE TABLE crm.contact_log (
  contact_id   bigserial PRIMARY KEY,
  staff_id     int NOT NULL REFERENCES crm.staff,
  member_id    bigint NOT NULL REFERENCES crm.members,
  channel      text NOT NULL CHECK (channel IN ('call', 'sms', 'wechat')),
  contacted_at timestamptz NOT NULL DEFAULT now(),
  outcome      text,
  note         text
);

-- Indexes for the demo screens and the usual CRM look-ups.
CREATE INDEX members_city_idx ON crm.members (city, monthly_income);
CREATE INDEX chat_messages_sender_idx ON crm.chat_messages (sender_id);
CREATE INDEX chat_messages_receiver_idx ON crm.chat_messages (receiver_id);
CREATE INDEX profile_views_viewed_idx ON crm.profile_views (viewed_id);
CREATE INDEX profile_views_viewer_idx ON crm.profile_views (viewer_id);
CREATE INDEX resource_claims_member_idx ON crm.resource_claims (member_id);
CREATE INDEX resource_claims_staff_idx ON crm.resource_claims (staff_id);
CREATE INDEX resource_claims_pool_idx ON crm.resource_claims (pool, status);
CREATE INDEX contact_log_member_idx ON crm.contact_log (member_id);
CREATE INDEX contact_log_staff_idx ON crm.contact_log (staff_id, contacted_at);

-- Ground truth of the generated data, for tests only: which free-text values embed which
-- contact or identity details, written exactly as they appear in the text (raw_fragment),
-- and which innocent numbers must survive redaction. Readable by postgres alone.
CREATE SCHEMA crm_truth AUTHORIZATION postgres;
COMMENT ON SCHEMA crm_truth IS 'Ground truth of the generated demo data; postgres only.';

-- kind: phone, wechat, qq, email, id_card, bank_card. style: how it is written -- plain;
-- phone: spaced (138 1234 5678), dashed, fullwidth (１３８…), plus86 (+86 138…),
-- plus86_tight (+86138…), chinese_numerals (一三八…), chinese_yao (幺三八…, 〇 for 0);
-- id_card: spaced (6 8 4); bank_card: spaced (groups of 4); email: fullwidth_at (＠).
CREATE TABLE crm_truth.chat_pii (
  message_id   bigint NOT NULL,
  kind         text NOT NULL,
  style        text NOT NULL,
  raw_fragment text NOT NULL
);
-- kind: price, age, date, time, order_no, steps, times, year, height.
CREATE TABLE crm_truth.chat_innocent (
  message_id bigint NOT NULL,
  kind       text NOT NULL,
  fragment   text NOT NULL
);
CREATE TABLE crm_truth.about_me_pii (
  member_id    bigint NOT NULL,
  kind         text NOT NULL,
  style        text NOT NULL,
  raw_fragment text NOT NULL
);
CREATE TABLE crm_truth.contact_note_pii (
  contact_id   bigint NOT NULL,
  kind         text NOT NULL,
  style        text NOT NULL,
  raw_fragment text NOT NULL
);
CREATE INDEX chat_pii_message_idx ON crm_truth.chat_pii (message_id);
CREATE INDEX chat_innocent_message_idx ON crm_truth.chat_innocent (message_id);
CREATE INDEX about_me_pii_member_idx ON crm_truth.about_me_pii (member_id);
CREATE INDEX contact_note_pii_contact_idx ON crm_truth.contact_note_pii (contact_id);

-- Roles. Groups cannot log in; logins inherit their group's privileges.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['sales', 'sales_lead', 'matcher', 'sales_li', 'sales_wang',
                           'lead_zhao', 'match_engine', 'intern_zhou', 'pgveil_catalog'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I', r);
    END IF;
  END LOOP;
END
$roles$;

ALTER ROLE sales NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD NULL;
ALTER ROLE sales_lead NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD NULL;
ALTER ROLE matcher NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD NULL;

ALTER ROLE sales_li LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD 'veil-demo';
ALTER ROLE sales_wang LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD 'veil-demo';
ALTER ROLE lead_zhao LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD 'veil-demo';
ALTER ROLE match_engine LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD 'veil-demo';
ALTER ROLE intern_zhou LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD 'veil-demo';

-- pgveil's catalog side connection: reads pg_catalog (role membership, relations,
-- attributes, types, view definitions) and nothing else. It holds no privilege on any crm
-- table; USAGE on the schema only lets it resolve qualified names (to_regclass), it grants
-- no access to rows. Sessions are read-only by default.
ALTER ROLE pgveil_catalog LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS CONNECTION LIMIT 32 PASSWORD 'veil-demo';
ALTER ROLE pgveil_catalog SET default_transaction_read_only = on;

-- Memberships: exactly the ones of CRM-DEMO.md (earlier runs may have added others).
DO $members$
DECLARE
  m record;
BEGIN
  FOR m IN
    SELECT g.rolname AS grp, u.rolname AS usr
    FROM pg_auth_members am
    JOIN pg_roles g ON g.oid = am.roleid
    JOIN pg_roles u ON u.oid = am.member
    WHERE u.rolname IN ('sales', 'sales_lead', 'matcher', 'sales_li', 'sales_wang',
                        'lead_zhao', 'match_engine', 'intern_zhou', 'pgveil_catalog')
  LOOP
    EXECUTE format('REVOKE %I FROM %I', m.grp, m.usr);
  END LOOP;
END
$members$;

GRANT sales TO sales_li, sales_wang;
GRANT sales_lead TO lead_zhao;
GRANT matcher TO match_engine;

-- Grants (CRM-DEMO.md, "Roles and logins").
GRANT USAGE ON SCHEMA crm TO sales, sales_lead, matcher, intern_zhou, pgveil_catalog;
GRANT SELECT ON ALL TABLES IN SCHEMA crm TO sales, sales_lead, matcher, intern_zhou;
GRANT INSERT ON crm.contact_log TO sales, sales_lead;
GRANT USAGE ON SEQUENCE crm.contact_log_contact_id_seq TO sales, sales_lead;
GRANT INSERT, UPDATE ON crm.resource_claims TO sales, sales_lead;

-- crm_truth: no grants at all; a new schema gives PUBLIC nothing, this makes it explicit.
REVOKE ALL ON SCHEMA crm_truth FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA crm_truth FROM PUBLIC;

COMMIT;
