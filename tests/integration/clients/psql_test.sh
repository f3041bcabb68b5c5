#!/usr/bin/env bash
# psql through pgveil: meta-commands (\d and friends), queries, errors, \copy out and in.
# The same script runs directly and through pgveil; output and exported files must be
# identical. Run under with_stack.sh.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

psql_as() {  # USER PORT ARGS...
  local user=$1 port=$2
  shift 2
  local pw=
  [[ $user == it_md5 ]] && pw=$IT_MD5_PASSWORD
  [[ $user == it_scram ]] && pw=$IT_SCRAM_PASSWORD
  PGPASSWORD=$pw PGAPPNAME=psql-test psql -X -h 127.0.0.1 -p "$port" -U "$user" -d pgveil_it "$@"
}

# Schema and data, created directly by the owner.
psql_as it_trust "$IT_PG_PORT" -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE members (
  id bigint PRIMARY KEY, nickname text NOT NULL, city text, born date,
  height_cm smallint CHECK (height_cm BETWEEN 100 AND 250), income numeric(12,2),
  tags text[], profile jsonb, photo bytea);
COMMENT ON TABLE members IS 'registered members';
CREATE INDEX members_city ON members (city);
CREATE VIEW member_cities AS SELECT city, count(*) AS n FROM members GROUP BY city;
INSERT INTO members
SELECT g, 'nick_' || g, (ARRAY['Beijing','Shanghai','Chengdu',NULL])[1 + g % 4],
       date '1980-01-01' + g, 150 + g % 50, g * 10.5,
       ARRAY['a' || g % 3, 'tab	in', 'quote"d'], jsonb_build_object('g', g, 'note', E'line\nbreak'),
       decode(md5(g::text), 'hex')
FROM generate_series(1, 20000) g;
GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC;
SQL

run_script() {  # USER PORT OUTDIR
  local user=$1 port=$2 out=$3
  mkdir -p "$out"
  sed "s|@OUT@|$out|g" >"$out/script.sql" <<'SQL'
\pset pager off
\d
\d members
\d+ member_cities
\di
\dt+ members
\dv
\dn
\du it_*
\df lower
SELECT count(*), sum(income), min(born), max(height_cm) FROM members;
SELECT * FROM members WHERE id % 5000 = 0 ORDER BY id;
SELECT * FROM member_cities ORDER BY city NULLS FIRST;
\x on
SELECT * FROM members WHERE id = 42;
\x off
SELECT 1/0;
SELECT nickname FROM members WHERE id = 7 \gset
\echo :nickname
BEGIN;
CREATE TEMP TABLE members_in (LIKE members);
\copy members TO '@OUT@/members.tsv'
\copy (SELECT * FROM members ORDER BY id) TO '@OUT@/members.csv' WITH (FORMAT csv, HEADER)
\copy members_in FROM '@OUT@/members.tsv'
\copy members_in FROM '@OUT@/members.csv' WITH (FORMAT csv, HEADER)
SELECT count(*), count(DISTINCT id), md5(string_agg(m::text, '|' ORDER BY m::text)) FROM members_in m;
\copy members_in FROM '@OUT@/missing-file.tsv'
COMMIT;
SELECT 'done' AS status;
SQL
  # psql's own messages name the file; make the output independent of the directory.
  psql_as "$user" "$port" -f "$out/script.sql" 2>&1 | sed "s|$out|OUT|g" >"$out/stdout.txt" || true
}

for user in it_trust it_md5 it_scram; do
  run_script "$user" "$IT_PG_PORT" "$IT_TMP/direct-$user"
  run_script "$user" "$IT_PROXY_PORT" "$IT_TMP/proxied-$user"
  d=$IT_TMP/direct-$user
  p=$IT_TMP/proxied-$user
  grep -q 'Table "public.members"' "$d/stdout.txt" || fail "direct run has no \\d output"
  grep -q '^ 20000 |' "$d/stdout.txt" || fail "direct run has no count"
  grep -q 'division by zero' "$d/stdout.txt" || fail "direct run has no error"
  grep -q '^ done' "$d/stdout.txt" || fail "direct run did not finish"
  diff -u "$d/stdout.txt" "$p/stdout.txt" || fail "psql output through pgveil differs ($user)"
  for f in members.tsv members.csv; do
    [[ $(wc -l <"$d/$f") -ge 20000 ]] || fail "direct $f too short"
    cmp "$d/$f" "$p/$f" || fail "\\copy out $f through pgveil differs ($user)"
  done
  echo "ok: psql as $user: $(wc -l <"$p/stdout.txt") output lines identical, \\copy files identical"
done

# One-shot invocations as tools use them.
a=$(psql_as it_scram "$IT_PG_PORT" -At -c '\d members' -c 'SELECT count(*) FROM members')
b=$(psql_as it_scram "$IT_PROXY_PORT" -At -c '\d members' -c 'SELECT count(*) FROM members')
[[ $a == "$b" ]] || fail "psql -c output differs"
[[ $b == *20000 ]] || fail "psql -c gave no count"
echo "ok: psql -c"
