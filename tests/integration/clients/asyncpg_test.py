"""asyncpg through pgveil: binary results of many types (and the same values in text
format), the driver's type introspection for enums, domains, composites and ranges,
prepared statements re-executed, executemany (many Bind/Execute before one Sync),
cursors with prefetch (row-limited Execute and PortalSuspended), errors, transactions and
savepoints, COPY out and in, LISTEN/NOTIFY, cancel on timeout, SCRAM and md5 logins with
and without SSL negotiation. Every scenario runs on a direct connection and through
pgveil; the Python values (and COPY bytes) must be identical.

Run under with_stack.sh (it sets IT_PG_PORT and IT_PROXY_PORT).
"""
import asyncio
import io
import os
import sys
import time
import unittest

import asyncpg

PG_PORT = int(os.environ["IT_PG_PORT"])
PROXY_PORT = int(os.environ["IT_PROXY_PORT"])
PASSWORDS = {
    "it_trust": None,
    "it_md5": os.environ["IT_MD5_PASSWORD"],
    "it_scram": os.environ["IT_SCRAM_PASSWORD"],
}

# One row per g; every column a different type, NULLs every tenth row.
TYPES_SQL = """
SELECT g::int2 AS i2, g * 100000 AS i4, g::int8 * 10000000000 AS i8,
       g * 1.25::numeric(20, 4) AS num, (g::numeric / 7) ^ 3 AS num_long,
       g::float4 / 3 AS f4, g::float8 / 3 AS f8, g % 2 = 0 AS flag,
       'näme ' || g || ' 名字 🙂' AS txt, repeat('x', g % 50)::varchar(60) AS vc,
       decode(md5(g::text), 'hex') AS bin,
       json_build_object('g', g, 's', 'ü') AS js, jsonb_build_object('g', g, 'a', ARRAY[g, -g]) AS jb,
       ARRAY[g, g + 1, NULL] AS int_arr, ARRAY['a' || g, NULL, 'ü'] AS text_arr,
       ARRAY[[g::float8, 0.5], [1e300, -0.0]] AS float_matrix,
       timestamptz '2024-01-01 00:00:00.123456+08' + g * interval '1 h 1 s' AS tstz,
       timestamp '1999-12-31 23:59:59' + g * interval '1 day' AS ts,
       date '2024-02-29' + g AS day, time '12:34:56.789' AS tm,
       make_interval(0, g, 0, g, g, 0, g / 7.0) AS iv,
       md5(g::text)::uuid AS uid, ('10.0.' || g % 256 || '.1/24')::inet AS addr,
       '192.168.0.0/16'::cidr AS net, numrange(g, g + 10) AS rng,
       CASE WHEN g % 10 = 0 THEN NULL ELSE g END AS maybe,
       'NaN'::numeric AS nan, 'infinity'::timestamptz AS inf, '\\x00ff'::bytea AS bx
FROM generate_series(1, $1::int) g
"""


def connect(port, user="it_trust", **kwargs):
    kwargs.setdefault("ssl", "disable")
    # JIT would compile asyncpg's type introspection query on every new connection (seconds).
    kwargs.setdefault("server_settings", {"jit": "off", "application_name": "asyncpg-test"})
    return asyncpg.connect(host="127.0.0.1", port=port, database="pgveil_it", user=user,
                           password=PASSWORDS[user], **kwargs)


def plain(rows):
    """Records as tuples (for readable diffs); other values unchanged."""
    if isinstance(rows, list):
        return [tuple(r) if isinstance(r, asyncpg.Record) else plain(r) for r in rows]
    if isinstance(rows, asyncpg.Record):
        return tuple(rows)
    return rows


def error_of(exc):
    return (type(exc).__name__, exc.sqlstate, str(exc))


class AsyncpgTest(unittest.TestCase):
    def both(self, scenario, user="it_trust", **kwargs):
        """Runs scenario(conn) directly and through pgveil; returns the (equal) result."""
        async def run(port):
            conn = await connect(port, user, **kwargs)
            try:
                return plain(await scenario(conn))
            finally:
                await conn.close()
        want = asyncio.run(run(PG_PORT))
        got = asyncio.run(run(PROXY_PORT))
        # repr: NaN equals itself there, and the types of the values count too.
        if repr(got) != repr(want):
            self.assertEqual(got, want)
            self.assertEqual(repr(got), repr(want))
        return want

    @classmethod
    def setUpClass(cls):
        async def setup():
            conn = await connect(PG_PORT)
            try:
                await conn.execute("""
                    DROP TABLE IF EXISTS items;
                    DROP TYPE IF EXISTS mood, pair CASCADE;
                    DROP DOMAIN IF EXISTS pos_int;
                    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
                    CREATE TYPE pair AS (label text, score numeric);
                    CREATE DOMAIN pos_int AS int CHECK (VALUE > 0);
                    CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, m mood,
                                        p pair, n pos_int, tags text[]);
                    INSERT INTO items SELECT g, 'item ' || g,
                        (ARRAY['sad', 'ok', 'happy']::mood[])[g % 3 + 1],
                        ROW('l' || g, g / 4.0)::pair, g, ARRAY['t' || g % 7]
                    FROM generate_series(1, 5000) g;
                    GRANT ALL ON items TO PUBLIC;
                    GRANT USAGE ON TYPE mood, pair, pos_int TO PUBLIC;
                """)
            finally:
                await conn.close()
        asyncio.run(setup())

    def test_binary_types(self):
        async def scenario(conn):
            rows = await conn.fetch(TYPES_SQL, 2000)
            # The same statement again: from asyncpg's statement cache (no new Parse).
            again = await conn.fetch(TYPES_SQL, 2000)
            self_check = repr(rows) == repr(again)
            return rows, self_check
        rows, self_check = self.both(scenario, user="it_scram")
        self.assertTrue(self_check)
        self.assertEqual(len(rows), 2000)
        self.assertIsNone(rows[9][-4])  # maybe

    def test_text_format(self):
        # Codecs with format='text' make asyncpg ask for text results of these types.
        async def scenario(conn):
            for t in ("numeric", "timestamptz", "interval", "jsonb", "uuid", "inet", "float8",
                      "int8", "date", "bytea"):
                await conn.set_type_codec(t, schema="pg_catalog", encoder=str, decoder=str,
                                          format="text")
            rows = await conn.fetch(
                "SELECT i2, i4, i8, num, num_long, f4, f8, txt, bin, js, jb, int_arr, "
                "float_matrix, tstz, day, iv, uid, addr, net, maybe, nan, inf "
                "FROM (" + TYPES_SQL + ") t", 500)
            text_cast = await conn.fetch(
                "SELECT i8::text, num::text, tstz::text, iv::text, jb::text, bin::text "
                "FROM (" + TYPES_SQL + ") t", 500)
            return rows, text_cast
        rows, text_cast = self.both(scenario, user="it_md5")
        self.assertEqual(rows[0][2], "10000000000")  # int8 as text
        self.assertEqual(len(text_cast), 500)

    def test_type_introspection(self):
        # Non-builtin types: asyncpg introspects pg_type (and its own helper queries)
        # the first time it sees them, then decodes in binary.
        async def scenario(conn):
            rows = await conn.fetch("SELECT id, name, m, p, n, tags, ARRAY[m, m] AS ms, "
                                    "ARRAY[p] AS ps FROM items WHERE id <= $1 ORDER BY id", 300)
            arg = await conn.fetchval("SELECT count(*) FROM items WHERE m = $1 AND n > $2",
                                      "happy", 10)
            comp = await conn.fetchval("SELECT $1::pair", ("x", 1.5))
            return rows, arg, comp
        rows, arg, comp = self.both(scenario)
        self.assertEqual(rows[0][2], "ok")
        self.assertGreater(arg, 0)

    def test_prepared_statements(self):
        async def scenario(conn):
            stmt = await conn.prepare("SELECT id, name, m, tags FROM items WHERE id = $1")
            out = [await stmt.fetchrow(i) for i in range(1, 301)]
            out.append([(a.name, a.type.name) for a in stmt.get_attributes()])
            out.append([p.name for p in stmt.get_parameters()])
            big = await conn.prepare(TYPES_SQL)
            for n in (1, 50, 200):
                out.append(await big.fetch(n))
            out.append(await big.fetchval(5, column=3))
            return out
        out = self.both(scenario, user="it_scram")
        self.assertEqual(out[0], (1, "item 1", "ok", ["t1"]))

    def test_executemany(self):
        async def scenario(conn):
            out = []
            await conn.execute("CREATE TEMP TABLE em (id int PRIMARY KEY, v text, d numeric)")
            await conn.executemany("INSERT INTO em VALUES ($1, $2, $3)",
                                   [(i, f"v{i} ü", i / 8) for i in range(1, 2001)])
            out.append(await conn.fetch("SELECT count(*), sum(id), max(v), sum(d) FROM em"))
            # A duplicate key in the middle: the whole batch fails, nothing is inserted.
            try:
                await conn.executemany("INSERT INTO em VALUES ($1, $2, $3)",
                                       [(i, "dup", 0) for i in range(3000, 3100)] + [(5, "x", 0)]
                                       + [(i, "after", 0) for i in range(4000, 4100)])
            except asyncpg.PostgresError as e:
                out.append(error_of(e))
            out.append(await conn.fetchval("SELECT count(*) FROM em"))
            await conn.executemany("UPDATE em SET v = $2 WHERE id = $1",
                                   [(i, f"u{i}") for i in range(1, 2001, 3)])
            out.append(await conn.fetch("SELECT v FROM em ORDER BY id LIMIT 10"))
            return out
        out = self.both(scenario, user="it_md5")
        self.assertEqual(out[1][1], "23505")
        self.assertEqual(out[2], 2000)

    def test_cursors(self):
        async def scenario(conn):
            out = []
            async with conn.transaction():
                ids = [r["id"] async for r in conn.cursor("SELECT id FROM items ORDER BY id",
                                                          prefetch=100)]
                out.append((len(ids), sum(ids)))
                out.append([tuple(r) async for r in conn.cursor(TYPES_SQL, 700, prefetch=33)])
                cur = await conn.cursor("SELECT id, name, p FROM items WHERE id > $1 ORDER BY id",
                                        4000)
                out.append(await cur.fetch(50))
                out.append(await cur.forward(200))
                out.append(await cur.fetchrow())
                out.append(await cur.fetch(3))
            return out
        out = self.both(scenario, user="it_scram")
        self.assertEqual(out[0], (5000, 5000 * 5001 // 2))
        self.assertEqual(out[4][0], 4251)

    def test_errors_keep_the_session_usable(self):
        async def scenario(conn):
            out = []
            for sql, args in (("SELECT 1 / $1::int", (0,)), ("SELEC 1", ()),
                              ("SELECT * FROM no_such_table", ()),
                              ("SELECT $1::int", ("x",)),
                              ("INSERT INTO items (id, name) VALUES (1, 'dup')", ()),
                              ("SELECT n::pos_int FROM (SELECT -1 AS n) s", ())):
                try:
                    await conn.fetch(sql, *args)
                    out.append("no error")
                except (asyncpg.PostgresError, asyncpg.DataError) as e:
                    out.append(error_of(e) if isinstance(e, asyncpg.PostgresError)
                               else type(e).__name__)
                out.append(await conn.fetchval("SELECT 'still here'"))
            # An error inside a cursor fetch, in a transaction that then rolls back.
            try:
                async with conn.transaction():
                    async for _ in conn.cursor("SELECT 10 / (500 - g) FROM generate_series(1, 1000) g",
                                               prefetch=100):
                        pass
            except asyncpg.PostgresError as e:
                out.append(error_of(e))
            out.append(await conn.fetchval("SELECT 'after cursor error'"))
            return out
        out = self.both(scenario)
        self.assertEqual(out[0][1], "22012")
        self.assertEqual(out[-1], "after cursor error")

    def test_transactions_and_savepoints(self):
        async def scenario(conn):
            out = []
            await conn.execute("CREATE TEMP TABLE tx (id int PRIMARY KEY)")
            async with conn.transaction():
                await conn.execute("INSERT INTO tx VALUES (1)")
                try:
                    async with conn.transaction():  # a savepoint
                        await conn.execute("INSERT INTO tx VALUES (2)")
                        await conn.execute("INSERT INTO tx VALUES (1)")
                except asyncpg.UniqueViolationError as e:
                    out.append(error_of(e))
                async with conn.transaction():
                    await conn.execute("INSERT INTO tx VALUES (3)")
                out.append(conn.is_in_transaction())
            try:
                async with conn.transaction(isolation="serializable", readonly=True):
                    out.append(await conn.fetchval("SELECT current_setting('transaction_isolation')"))
                    await conn.execute("CREATE TABLE not_in_read_only (x int)")
            except asyncpg.ReadOnlySQLTransactionError as e:
                out.append(error_of(e))
            tr = conn.transaction()
            await tr.start()
            await conn.execute("INSERT INTO tx VALUES (5)")
            await tr.rollback()
            out.append(await conn.fetch("SELECT id FROM tx ORDER BY id"))
            out.append(conn.is_in_transaction())
            return out
        out = self.both(scenario, user="it_scram")
        self.assertEqual(out[-2], [(1,), (3,)])

    def test_copy(self):
        async def scenario(conn):
            out = []
            for fmt in ("text", "csv", "binary"):
                buf = io.BytesIO()
                await conn.copy_from_query("SELECT * FROM items ORDER BY id", output=buf,
                                           format=fmt)
                out.append(buf.getvalue())
            buf = io.BytesIO()
            await conn.copy_from_query(TYPES_SQL, 1000, output=buf, format="binary")
            out.append(buf.getvalue())
            buf = io.BytesIO()
            await conn.copy_from_table("items", output=buf, columns=["id", "m", "p"],
                                       format="csv", header=True)
            out.append(buf.getvalue())
            # In: records (binary COPY FROM STDIN), then raw text bytes.
            await conn.execute("CREATE TEMP TABLE copy_in (id int, name text, m mood, "
                               "p pair, tags text[], at timestamptz)")
            records = [(i, f"n{i} ü", ("sad", "ok", "happy")[i % 3], (f"p{i}", i / 3),
                        [f"t{i}", None], None) for i in range(1, 5001)]
            out.append(await conn.copy_records_to_table("copy_in", records=records))
            out.append(await conn.copy_to_table(
                "copy_in", source=io.BytesIO(b"".join(b"%d\tline %d\n" % (i, i)
                                                       for i in range(6000, 7000))),
                columns=["id", "name"]))
            buf = io.BytesIO()
            await conn.copy_from_query("SELECT * FROM copy_in ORDER BY id", output=buf)
            out.append(buf.getvalue())
            # A bad row in COPY IN fails the statement; the session goes on.
            try:
                await conn.copy_to_table("copy_in", source=io.BytesIO(b"1\tok\nnot a number\tx\n"),
                                         columns=["id", "name"])
            except asyncpg.PostgresError as e:
                out.append(error_of(e))
            out.append(await conn.fetchval("SELECT count(*) FROM copy_in"))
            return out
        out = self.both(scenario)
        self.assertEqual(out[0].count(b"\n"), 5000)
        self.assertEqual(out[-1], 6000)

    def test_listen_notify(self):
        async def scenario(conn):
            got = []
            arrived = asyncio.Event()

            def on_notify(_conn, _pid, channel, payload):
                got.append((channel, payload))
                if len(got) == 3:
                    arrived.set()

            await conn.add_listener("jobs", on_notify)
            await conn.add_listener("Other Channel", on_notify)
            sender = await connect(PG_PORT)  # another session, always direct
            try:
                await sender.execute("NOTIFY jobs, 'one'")
                await sender.execute("SELECT pg_notify('Other Channel', 'zwei ü')")
                async with sender.transaction():
                    await sender.execute("NOTIFY jobs, 'in a transaction'")
            finally:
                await sender.close()
            # Delivered to an idle connection: nothing is read until they arrive.
            await asyncio.wait_for(arrived.wait(), 10)
            await conn.remove_listener("jobs", on_notify)
            own = []
            await conn.add_listener("self", lambda *a: own.append(a[2:]))
            await conn.execute("NOTIFY self, 'mine'")
            await asyncio.sleep(0.2)
            return got, own
        got, own = self.both(scenario, user="it_scram")
        self.assertEqual(len(got), 3)
        self.assertEqual(own, [("self", "mine")])

    def test_cancel_on_timeout(self):
        # A timeout makes asyncpg send a CancelRequest on a new connection; the query
        # must stop within seconds and the connection stay usable.
        async def scenario(conn):
            out = []
            for _ in range(2):
                started = time.monotonic()
                try:
                    await conn.fetchval("SELECT pg_sleep(30)", timeout=0.5)
                    out.append("not cancelled")
                except asyncio.TimeoutError:
                    out.append("timeout")
                out.append(await conn.fetchval("SELECT 'usable'"))
                out.append(time.monotonic() - started < 5)
            # command_timeout inside a transaction: the transaction is aborted.
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_sleep(30)", timeout=0.5)
            except asyncio.TimeoutError:
                out.append("timeout in transaction")
            out.append(conn.is_in_transaction())
            out.append(await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' "
                "AND state = 'active'"))
            return out
        out = self.both(scenario)
        self.assertEqual(out[:3], ["timeout", "usable", True])
        self.assertEqual(out[-1], 0)

    def test_logins_and_ssl_modes(self):
        async def scenario(conn):
            return [await conn.fetchval("SELECT current_user"),
                    await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")]
        for user in ("it_scram", "it_md5", "it_trust"):
            for ssl in ("disable", "prefer", "allow"):
                out = self.both(scenario, user=user, ssl=ssl)
                self.assertEqual(out, [user, False])

        async def bad(port, **kwargs):
            try:
                conn = await asyncpg.connect(host="127.0.0.1", port=port, database="pgveil_it",
                                             ssl="disable", **kwargs)
                await conn.close()
                return "connected"
            except asyncpg.PostgresError as e:
                return error_of(e)
        for kwargs in ({"user": "it_scram", "password": "wrong"},
                       {"user": "it_md5", "password": "wrong"},
                       {"user": "nobody", "password": "x"}):
            want = asyncio.run(bad(PG_PORT, **kwargs))
            self.assertEqual(asyncio.run(bad(PROXY_PORT, **kwargs)), want)
            self.assertEqual(want[1], "28P01")
        # sslmode=require: the server (and pgveil) have no TLS here; both refuse alike.
        async def require(port):
            try:
                conn = await connect(port, "it_scram", ssl="require")
                await conn.close()
                return "connected"
            except Exception as e:  # pylint: disable=broad-except
                return type(e).__name__
        self.assertEqual(asyncio.run(require(PROXY_PORT)), asyncio.run(require(PG_PORT)))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
