"""psycopg 3 through pgveil: text and binary results, pipeline mode, server-side
cursors, prepared statements and COPY. Every scenario runs on a direct connection and
through pgveil; the Python values (and COPY bytes) must be identical.

Run under with_stack.sh (it sets IT_PG_PORT and IT_PROXY_PORT).
"""
import os
import sys
import unittest

import psycopg
from psycopg import errors

PG_PORT = int(os.environ["IT_PG_PORT"])
PROXY_PORT = int(os.environ["IT_PROXY_PORT"])
PASSWORDS = {
    "it_trust": None,
    "it_md5": os.environ["IT_MD5_PASSWORD"],
    "it_scram": os.environ["IT_SCRAM_PASSWORD"],
}


def connect(port, user="it_trust", **kwargs):
    return psycopg.connect(host="127.0.0.1", port=port, dbname="pgveil_it", user=user,
                           password=PASSWORDS[user], application_name="psycopg-test",
                           **kwargs)


ROWS_SQL = """
SELECT g AS id, 'name ' || g AS name, g * 1.5::numeric AS price, g %% 2 = 0 AS even,
       date '2024-02-29' + g AS day, timestamptz '2024-01-01 00:00+08' + g * interval '1 min' AS ts,
       ARRAY[g, g + 1] AS pair, jsonb_build_object('g', g) AS doc,
       decode(md5(g::text), 'hex') AS digest, md5(g::text)::uuid AS uid,
       CASE WHEN g %% 10 = 0 THEN NULL ELSE g::float8 / 3 END AS maybe
FROM generate_series(1, %(n)s) g
"""


class PsycopgTest(unittest.TestCase):
    def both(self, scenario, user="it_trust"):
        """Runs scenario(conn) directly and through pgveil; returns the (equal) result."""
        with connect(PG_PORT, user) as direct:
            want = scenario(direct)
        with connect(PROXY_PORT, user) as proxied:
            got = scenario(proxied)
        self.assertEqual(got, want)
        return want

    @classmethod
    def setUpClass(cls):
        with connect(PG_PORT) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS events (id int PRIMARY KEY, kind text, "
                         "payload jsonb)")
            conn.execute("TRUNCATE events")
            conn.execute("INSERT INTO events SELECT g, 'k' || g % 5, "
                         "jsonb_build_object('v', g) FROM generate_series(1, 5000) g")
            conn.execute("GRANT ALL ON events TO PUBLIC")

    def test_text_results(self):
        rows = self.both(lambda c: c.execute(ROWS_SQL, {"n": 3000}).fetchall(), user="it_md5")
        self.assertEqual(len(rows), 3000)
        self.assertIsNone(rows[9][-1])

    def test_binary_results(self):
        def scenario(conn):
            with conn.cursor(binary=True) as cur:
                cur.execute(ROWS_SQL, {"n": 3000})
                return cur.fetchall()
        binary = self.both(scenario, user="it_scram")
        with connect(PG_PORT) as conn:
            text = conn.execute(ROWS_SQL, {"n": 3000}).fetchall()
        self.assertEqual(binary, text)  # same values whichever format travelled

    def test_pipeline_mode(self):
        def scenario(conn):
            out = []
            with conn.pipeline():
                curs = [conn.execute("SELECT %s::int * 2, %s::text", (i, f"p{i}"))
                        for i in range(200)]
            out.extend(c.fetchone() for c in curs)
            # An error inside a pipeline: later statements are aborted, then it recovers.
            try:
                with conn.pipeline():
                    conn.execute("SELECT 1")
                    conn.execute("SELECT 1 / 0")
                    conn.execute("SELECT 2")
            except errors.DivisionByZero as e:
                out.append(("error", e.sqlstate))
            conn.rollback()  # the implicit transaction failed with the pipeline
            out.append(conn.execute("SELECT 'recovered'").fetchone())
            return out
        out = self.both(scenario)
        self.assertEqual(out[199], (398, "p199"))
        self.assertEqual(out[-2:], [("error", "22012"), ("recovered",)])

    def test_server_side_cursors(self):
        def scenario(conn):
            out = []
            with conn.transaction():
                with conn.cursor(name="events_cur") as cur:
                    cur.itersize = 333
                    cur.execute("SELECT * FROM events ORDER BY id")
                    out.append(sum(row[0] for row in cur))
                with conn.cursor(name="scroll_cur", scrollable=True) as cur:
                    cur.execute("SELECT id, kind FROM events ORDER BY id")
                    out.append(cur.fetchmany(5))
                    cur.scroll(1000, mode="absolute")
                    out.append(cur.fetchone())
                    cur.scroll(-10)
                    out.append(cur.fetchmany(2))
            with conn.cursor(name="binary_cur", binary=True) as cur:
                cur.execute(ROWS_SQL, {"n": 1000})
                out.append(cur.fetchall())
            return out
        out = self.both(scenario, user="it_scram")
        self.assertEqual(out[0], 5000 * 5001 // 2)
        self.assertEqual(out[2], (1001, "k1"))

    def test_prepared_statements(self):
        def scenario(conn):
            return [conn.execute("SELECT kind, payload FROM events WHERE id = %s", (i,),
                                 prepare=True).fetchone() for i in range(1, 50)]
        self.assertEqual(len(self.both(scenario, user="it_md5")), 49)

    def test_copy_out_and_in(self):
        def scenario(conn):
            chunks = []
            with conn.cursor() as cur:
                with cur.copy("COPY (SELECT * FROM events ORDER BY id) TO STDOUT") as copy:
                    for data in copy:
                        chunks.append(bytes(data))
                cur.execute("CREATE TEMP TABLE ev_in (LIKE events)")
                with cur.copy("COPY ev_in FROM STDIN (FORMAT binary)") as copy:
                    copy.set_types(["int4", "text", "jsonb"])
                    for i in range(1, 2001):
                        copy.write_row((i, f"w{i}", psycopg.types.json.Jsonb({"i": i})))
                cur.execute("SELECT count(*), sum(id), max(payload::text) FROM ev_in")
                summary = cur.fetchone()
            return b"".join(chunks), summary
        data, summary = self.both(scenario)
        self.assertEqual(data.count(b"\n"), 5000)
        self.assertEqual(summary[0], 2000)

    def test_notices_and_parameter_status(self):
        def scenario(conn):
            notices = []
            conn.add_notice_handler(lambda d: notices.append((d.sqlstate, d.message_primary)))
            conn.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 7; END $$")
            conn.execute("SET application_name = 'renamed'")
            return notices, conn.info.parameter_status("application_name")
        notices, name = self.both(scenario)
        self.assertEqual(notices, [("00000", "hello 7")])
        self.assertEqual(name, "renamed")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
