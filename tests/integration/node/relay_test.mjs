// node-postgres (pg, pg-cursor, pg-query-stream, pg-copy-streams) and postgres.js through
// pgveil's unmasked relay. Every scenario runs on a direct connection and through pgveil;
// rows, field descriptions, command tags, row counts, errors with all their fields,
// notices, notifications and COPY bytes must be identical.
//
// Run under clients/with_stack.sh (IT_PG_PORT, IT_PROXY_PORT, IT_*_PASSWORD):
//   node --test-reporter=spec relay_test.mjs
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import postgres from 'postgres';
import {
  DIRECT, PROXY, assertSame, both, eventually, failure, holdAfterParse, plain, proxyIsDirect,
  sha256, sleep, withTimeout,
} from './lib.mjs';

const DATABASE = 'pgveil_it';
const PASSWORDS = {
  it_trust: undefined,
  it_md5: process.env.IT_MD5_PASSWORD,
  it_scram: process.env.IT_SCRAM_PASSWORD,
  postgres: undefined,
};
const open = new Set();  // every client still open, ended after the suite

function pgConfig(target, user = 'it_trust', extra = {}) {
  return {
    host: '127.0.0.1', port: target.port, database: DATABASE, user,
    password: PASSWORDS[user], application_name: 'node-pg-test', ...extra,
  };
}

async function pgClient(target, user, extra) {
  const client = new pg.Client(pgConfig(target, user, extra));
  client.on('error', () => {});  // a killed connection must not crash the run
  await client.connect();
  open.add(client);
  return client;
}

async function endPg(client) {
  open.delete(client);
  await client.end().catch(() => {});
}

async function withPg(target, user, fn, extra) {
  const client = await pgClient(target, user, extra);
  try {
    return await fn(client);
  } finally {
    await endPg(client);
  }
}

const sqls = new Set();
function pgjs(target, user = 'it_trust', extra = {}) {
  const sql = postgres({
    host: '127.0.0.1', port: target.port, database: DATABASE, user, pass: PASSWORDS[user],
    max: 1, onnotice: () => {}, connection: { application_name: 'node-postgresjs-test' },
    ...extra,
  });
  sqls.add(sql);
  return sql;
}

async function endPgjs(sql) {
  sqls.delete(sql);
  await sql.end({ timeout: 5 });
}

async function withPgjs(target, fn, user, extra) {
  const sql = pgjs(target, user, extra);
  try {
    return await fn(sql);
  } finally {
    await endPgjs(sql);
  }
}

// What node-postgres reports of a result: command tag, row count, field descriptions and
// rows as parsed by pg-types.
const pgResult = (res) => ({
  command: res.command, rowCount: res.rowCount, oid: res.oid,
  fields: res.fields.map((f) => ({ ...f })), rows: res.rows,
});

// A temporary table has a new OID in every session: name it instead.
const tempTables = (result) => JSON.parse(JSON.stringify(result, (key, value) =>
  ((key === 'tableID' || key === 'table') && value !== 0 ? 'a table' : value)));

const pgjsResult = (res) => ({
  command: res.command, count: res.count, state: res.state === undefined ? null : 'set',
  columns: (res.columns || []).map((c) => ({ name: c.name, type: c.type, table: c.table, number: c.number })),
  rows: [...res],
});

// Many types in one row; $1 rows.
const TYPES_SQL = `
SELECT g::int8 * 1000000000007 AS big, (g / 7.0)::numeric(30,12) AS num,
       'ünïcødé ✓ 中文 😀 ' || g AS txt, decode(md5(g::text), 'hex') AS bin,
       json_build_object('g', g, 's', 'x"y\\z') AS j, jsonb_build_object('a', ARRAY[g, g + 1]) AS jb,
       ARRAY[g, NULL, g + 2] AS arr, ARRAY['a b', 'c,d', NULL, '"q"']::text[] AS tarr,
       timestamptz '2024-01-01 00:00+08' + g * interval '1 hour 1.5 sec' AS ts,
       md5(g::text)::uuid AS uid, CASE WHEN g % 3 = 0 THEN NULL ELSE g END AS maybe,
       g % 2 = 0 AS flag, interval '1 day 02:03:04' * g AS iv, date '2024-02-29' + g AS d,
       (g * 1.0e300)::float8 AS f8, 'NaN'::numeric AS nan, g::int2 AS small, NULL::text AS nothing
FROM generate_series(1, $1::int) g`;
const TYPES_SIMPLE = (n) => TYPES_SQL.replace('$1::int', String(n));

const PARAMS = [
  '9223372036854775807', '-12345678901234567890.123456789', 'ünï ✓ 中文 😀 \t"\\\'',
  Buffer.from([0, 1, 2, 0x7f, 0x80, 0xff]), { a: [1, 2, null], s: 'ü' }, [1, null, 3],
  new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', null,
];
const PARAMS_SQL = 'SELECT $1::int8 AS a, $2::numeric AS b, $3::text AS c, $4::bytea AS d, ' +
  '$5::jsonb AS e, $6::int[] AS f, $7::timestamptz AS g, $8::uuid AS h, $9::text AS i';

before(async () => {
  await withPg(DIRECT, 'postgres', async (c) => {
    await c.query(`
      CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text, price numeric(12,2),
                                        tags text[], doc jsonb);
      TRUNCATE items;
      INSERT INTO items SELECT g, 'item ' || g, g * 0.25, ARRAY['t' || g % 7],
                               jsonb_build_object('g', g) FROM generate_series(1, 10000) g;
      GRANT ALL ON items TO PUBLIC;
      CREATE TABLE IF NOT EXISTS copy_src (id int, name text, price numeric, at timestamptz,
                                           raw bytea, flag bool);
      TRUNCATE copy_src;
      INSERT INTO copy_src SELECT g, 'name ' || g || E' tab\\there, "q" ü', g / 3.0,
                                  timestamptz '2024-01-01 00:00+00' + g * interval '1 min',
                                  decode(md5(g::text), 'hex'), g % 2 = 0
                           FROM generate_series(1, 100000) g;
      GRANT ALL ON copy_src TO PUBLIC;
      ANALYZE items, copy_src;`);
  });
});

after(async () => {
  for (const client of open) await client.end().catch(() => {});
  for (const sql of sqls) await sql.end({ timeout: 1 }).catch(() => {});
});

describe('node-postgres', () => {
  test('simple queries with many types', async () => {
    const out = await both('simple types', (t) => withPg(t, 'it_trust', async (c) => ({
      one: pgResult(await c.query(TYPES_SIMPLE(500))),
      array: pgResult(await c.query({ text: TYPES_SIMPLE(50), rowMode: 'array' })),
      empty: pgResult(await c.query('SELECT 1 AS x WHERE false')),
    })));
    assert.equal(out.one.rows.length, 500);
  });

  test('parameterized queries (text and binary results), rowMode array', async () => {
    await both('parameterized', (t) => withPg(t, 'it_md5', async (c) => ({
      types: pgResult(await c.query(TYPES_SQL, [300])),
      params: pgResult(await c.query(PARAMS_SQL, PARAMS)),
      array: pgResult(await c.query({ text: PARAMS_SQL, values: PARAMS, rowMode: 'array' })),
      binary: pgResult(await c.query({ text: 'SELECT $1::int8 AS a, $2::text AS b, $3::bytea AS c',
        values: ['42', 'ü', Buffer.from('xyz')], binary: true })),
    })));
  });

  test('named prepared statements re-executed', async () => {
    await both('prepared', (t) => withPg(t, 'it_scram', async (c) => {
      const out = [];
      for (let i = 1; i <= 20; i++) {
        out.push(pgResult(await c.query({ name: 'item_by_id', text: 'SELECT * FROM items WHERE id = $1', values: [i * 13] })));
        out.push(pgResult(await c.query({ name: 'types', text: TYPES_SQL, values: [i], rowMode: 'array' })));
      }
      // A second name for the same text, and a statement that fails at execution.
      out.push(pgResult(await c.query({ name: 'item_by_id2', text: 'SELECT * FROM items WHERE id = $1', values: [7] })));
      out.push(await failure(() => c.query({ name: 'div', text: 'SELECT 1 / $1::int', values: [0] })));
      out.push(pgResult(await c.query({ name: 'div', text: 'SELECT 1 / $1::int', values: [2] })));
      return out;
    }));
  });

  test('errors leave the session usable', async () => {
    await both('errors', (t) => withPg(t, 'it_trust', async (c) => {
      const out = [];
      await c.query('DROP TABLE IF EXISTS uniq_node; CREATE TABLE uniq_node (id int PRIMARY KEY, v text)');
      out.push(await failure(() => c.query('SELEC 1')));
      out.push(pgResult(await c.query('SELECT 1 AS alive')));
      out.push(await failure(() => c.query('SELECT 1 / 0')));
      out.push(await failure(() => c.query('SELECT $1::int / $2::int', [1, 0])));
      out.push(pgResult(await c.query("INSERT INTO uniq_node VALUES (1, 'a')")));
      out.push(await failure(() => c.query("INSERT INTO uniq_node VALUES (1, 'b')")));
      out.push(await failure(() => c.query('INSERT INTO uniq_node VALUES ($1, $2)', [1, 'c'])));
      out.push(await failure(() => c.query('SELECT * FROM no_such_table')));
      out.push(await failure(() => c.query('SELECT $1::int', ['not a number'])));
      out.push(pgResult(await c.query('SELECT count(*) FROM uniq_node')));
      await c.query('DROP TABLE uniq_node');
      return out;
    }));
  });

  test('transactions with savepoints and rollback', async () => {
    await both('transactions', (t) => withPg(t, 'it_trust', async (c) => {
      const out = [];
      const q = async (text, values) => {
        try {
          out.push(pgResult(await c.query(text, values)));
        } catch (err) {
          out.push(plain(err));
        }
      };
      await q('DROP TABLE IF EXISTS tx_node');
      await q('CREATE TABLE tx_node (id int PRIMARY KEY)');
      await q('BEGIN');
      await q('INSERT INTO tx_node VALUES (1), (2)');
      await q('SAVEPOINT a');
      await q('INSERT INTO tx_node VALUES ($1)', [3]);
      await q('INSERT INTO tx_node VALUES (1)');
      await q('SELECT 1');  // 25P02: the transaction is aborted
      await q('ROLLBACK TO SAVEPOINT a');
      await q('INSERT INTO tx_node VALUES (4)');
      await q('RELEASE SAVEPOINT a');
      await q('COMMIT');
      await q('BEGIN');
      await q('DELETE FROM tx_node');
      await q('ROLLBACK');
      await q('COMMIT');  // a warning: no transaction in progress
      await q('SELECT array_agg(id ORDER BY id) AS ids FROM tx_node');
      await q('DROP TABLE tx_node');
      return out;
    }));
  });

  test('multi-statement simple query strings', async () => {
    await both('multi-statement', (t) => withPg(t, 'it_trust', async (c) => {
      const results = await c.query(`SELECT 1 AS a; SELECT 'x' AS b, 2 AS c;
        CREATE TEMP TABLE m (id int); INSERT INTO m SELECT generate_series(1, 5);
        UPDATE m SET id = id + 1 WHERE id > 2; DELETE FROM m WHERE id = 1; SELECT * FROM m ORDER BY 1`);
      return {
        results: tempTables(results.map(pgResult)),
        failing: await failure(() => c.query('SELECT 1; SELECT 1 / 0; SELECT 3')),
        empty: await c.query('').then((r) => plain(r.rows)).catch(plain),
        semicolons: await c.query(';;').then((r) => plain(r.rows)).catch(plain),
        alive: pgResult(await c.query('SELECT 2 AS alive')),
      };
    }));
  });

  test('notices and parameter status', async () => {
    await both('notices', (t) => {
      const notices = [];
      const params = [];
      return withPg(t, 'it_trust', async (c) => {
        c.on('notice', (n) => notices.push(plain(n)));
        c.connection.on('parameterStatus', (m) => params.push([m.parameterName, m.parameterValue]));
        await c.query("DO $$ BEGIN RAISE NOTICE 'hello %', 7 USING DETAIL = 'd', HINT = 'h'; " +
          "RAISE WARNING 'careful'; END $$");
        await c.query("SET application_name = 'renamed'");
        await c.query('SET TIME ZONE \'Asia/Shanghai\'');
        await c.query('DROP TABLE IF EXISTS surely_absent');
        return { notices, params, tz: (await c.query('SELECT now()::text ~ \'\\+08$\' AS shanghai')).rows };
      });
    });
  });

  test('pg-cursor: 10,000 rows in batches of 100, and closed early', async () => {
    const out = await both('cursor', (t) => withPg(t, 'it_trust', async (c) => {
      const batches = [];
      const cursor = c.query(new Cursor('SELECT * FROM items WHERE id > $1 ORDER BY id', [0]));
      for (;;) {
        const rows = await cursor.read(100);
        batches.push(rows.length);
        if (rows.length === 0) break;
        if (batches.length % 25 === 1) batches.push(plain(rows[0]));
      }
      await cursor.close();
      const early = c.query(new Cursor(TYPES_SQL, [10000], { rowMode: 'array' }));
      const first = [await early.read(100), await early.read(100), await early.read(3)];
      await early.close();
      const inTx = [];
      await c.query('BEGIN');
      const txCursor = c.query(new Cursor('SELECT id FROM items ORDER BY id'));
      inTx.push((await txCursor.read(250)).length, (await txCursor.read(10)).at(-1));
      await txCursor.close();
      inTx.push(pgResult(await c.query('SELECT count(*) FROM items')));
      await c.query('COMMIT');
      const failing = c.query(new Cursor('SELECT 1 / (id - 150) FROM items ORDER BY id'));
      const err = await failure(async () => { await failing.read(100); await failing.read(100); });
      return { batches, first, inTx, err, alive: pgResult(await c.query('SELECT 3 AS alive')) };
    }));
    assert.equal(out.batches.filter((b) => b === 100).length, 100);
  });

  test('pg-cursor whose Parse fails before the rest of its batch is sent', async () => {
    await both('early error', (t) => withPg(t, 'it_trust', async (c) => {
      const out = [];
      for (const text of ['SELECT nope FROM items', 'SELEC 1', 'SELECT 1 / 0']) {
        const release = holdAfterParse(c, 300);
        const cursor = c.query(new Cursor(text));
        out.push(await failure(() => cursor.read(10)));
        await release();
        out.push(pgResult(await c.query('SELECT id, name FROM items WHERE id < 3 ORDER BY id')));
      }
      return out;
    }));
  });

  test('values of 8 MB as parameters and results', async () => {
    await both('large values', (t) => withPg(t, 'it_trust', async (c) => {
      const big = Buffer.alloc(8 * 1024 * 1024, 'ü').toString('utf8', 0, 8 * 1024 * 1024 - 1);
      const bin = Buffer.alloc(8 * 1024 * 1024, 0xa5);
      const res = await c.query('SELECT length($1::text) AS l, md5($1::text) AS m, md5($2::bytea) AS b, ' +
        "repeat('xyz', 3000000) AS r, $2::bytea AS echo", [big, bin]);
      const row = res.rows[0];
      return { l: row.l, m: row.m, b: row.b, r: sha256(row.r), echo: sha256(row.echo) };
    }));
  });

  test('pg-query-stream: 100,000 rows', async () => {
    await both('query stream', (t) => withPg(t, 'it_trust', async (c) => {
      let count = 0;
      const hash = [];
      const stream = c.query(new QueryStream('SELECT * FROM copy_src ORDER BY id', [], { batchSize: 1000 }));
      for await (const row of stream) {
        count++;
        if (count % 10000 === 0) hash.push(plain(row));
      }
      return { count, hash, alive: pgResult(await c.query('SELECT 4 AS alive')) };
    }));
  });

  const COPY_OUT = {
    text: 'COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT',
    csv: 'COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT (FORMAT csv, HEADER)',
    binary: 'COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT (FORMAT binary)',
  };
  const copyBytes = {};  // direct COPY TO output per format, the input of COPY FROM

  async function copyOut(c, sqlText) {
    const chunks = [];
    await pipeline(c.query(copyTo(sqlText)), new Writable({
      write(chunk, _enc, cb) { chunks.push(chunk); cb(); },
    }));
    return Buffer.concat(chunks);
  }

  test('pg-copy-streams: COPY TO STDOUT of 100,000 rows (text, csv, binary)', async () => {
    for (const [format, sqlText] of Object.entries(COPY_OUT)) {
      const direct = await withPg(DIRECT, 'it_trust', (c) => copyOut(c, sqlText));
      const proxied = await withPg(PROXY, 'it_trust', (c) => copyOut(c, sqlText));
      copyBytes[format] = direct;
      assert.ok(direct.length > 1000000, `${format}: ${direct.length} bytes`);
      assertSame(`COPY TO ${format}`, { length: direct.length, sha256: sha256(direct) },
        { length: proxied.length, sha256: sha256(proxied) });
    }
  });

  test('pg-copy-streams: COPY FROM STDIN of 100,000 rows (text, csv, binary), and one that fails midway', async () => {
    const options = { text: '', csv: ' (FORMAT csv, HEADER)', binary: ' (FORMAT binary)' };
    for (const format of Object.keys(options)) {
      const data = copyBytes[format] ?? await withPg(DIRECT, 'it_trust', (c) => copyOut(c, COPY_OUT[format]));
      await both(`COPY FROM ${format}`, (t) => withPg(t, 'it_trust', async (c) => {
        await c.query('CREATE TEMP TABLE copy_in (LIKE copy_src)');
        const ingest = c.query(copyFrom(`COPY copy_in FROM STDIN${options[format]}`));
        // Uneven chunks, so that rows straddle CopyData messages.
        await pipeline(Readable.from((function* chunks() {
          for (let i = 0; i < data.length; i += 65521) yield data.subarray(i, i + 65521);
        })()), ingest);
        const check = await c.query(
          'SELECT count(*), md5(string_agg(c::text, \'|\' ORDER BY id)) FROM copy_in c');
        const back = await copyOut(c, COPY_OUT[format].replace('copy_src', 'copy_in'));
        return { rowCount: ingest.rowCount, check: check.rows, back: sha256(back), same: back.equals(data) };
      }));
    }
    await both('COPY FROM failing midway', (t) => withPg(t, 'it_trust', async (c) => {
      await c.query('CREATE TEMP TABLE copy_bad (id int, name text)');
      const rows = [];
      for (let i = 1; i <= 100000; i++) rows.push(i === 50000 ? 'x\tbad\n' : `${i}\tname ${i}\n`);
      const ingest = c.query(copyFrom('COPY copy_bad FROM STDIN'));
      const err = await failure(() => pipeline(Readable.from((function* chunks() {
        for (let i = 0; i < rows.length; i += 997) yield Buffer.from(rows.slice(i, i + 997).join(''));
      })()), ingest));
      return { err, count: pgResult(await c.query('SELECT count(*) FROM copy_bad')) };
    }));
  });

  test('LISTEN/NOTIFY delivered to an idle client', async () => {
    await both('notify', (t) => withPg(t, 'it_trust', async (listener) => {
      const got = [];
      listener.on('notification', (n) => got.push(n));
      await listener.query('LISTEN node_chan; LISTEN "Other Chan"');
      const notifierPid = await withPg(t, 'it_md5', async (n) => {
        await n.query("NOTIFY node_chan, 'first'");
        await n.query("SELECT pg_notify('Other Chan', 'ünï ✓ ' || repeat('x', 7000))");
        await n.query('BEGIN');
        await n.query("NOTIFY node_chan, 'in tx'");
        await n.query("NOTIFY node_chan, 'in tx'");  // folded into one
        await n.query('COMMIT');
        return (await n.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      });
      // The listener is idle: nothing is sent to it, the notifications must arrive anyway.
      await withTimeout(eventually(() => got.length >= 3, 5000), 6000, 'notifications');
      await sleep(100);
      return got.map((n) => ({ ...n, processId: n.processId === notifierPid ? 'notifier' : n.processId }));
    }));
  });

  test('client destroyed mid-stream leaves no busy backend', async () => {
    const out = await both('destroyed mid-stream', (t) => withPg(DIRECT, 'postgres', async (admin) => {
      const app = `node-abort-${t.name}`;
      const c = await pgClient(t, 'it_trust', { application_name: app });
      const stream = c.query(new QueryStream(
        'SELECT generate_series(1, 50000000) AS g, repeat(\'y\', 200) AS y', [], { batchSize: 1000 }));
      let rows = 0;
      await new Promise((resolve, reject) => {
        stream.on('data', () => { if (++rows === 5000) resolve(); });
        stream.on('error', reject);
      });
      c.connection.stream.destroy();
      open.delete(c);
      const busy = () => admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'", [app]);
      const idle = await eventually(async () => (await busy()).rows[0].n === 0, 10000, 100);
      const left = await eventually(async () => (await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n === 0, 10000, 100);
      return { rowsBeforeAbort: rows >= 5000, noBusyBackend: idle, backendGone: left };
    }));
    assert.deepEqual(out, { rowsBeforeAbort: true, noBusyBackend: true, backendGone: true });
  });

  test('pg.Pool with 50 connections working in parallel', async () => {
    await both('pool', async (t) => {
      const pool = new pg.Pool({ ...pgConfig(t, 'it_scram'), max: 50 });
      pool.on('error', () => {});
      try {
        const tasks = Array.from({ length: 400 }, async (_, i) => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const a = await client.query('SELECT id, name, price FROM items WHERE id = $1', [i + 1]);
            const b = await client.query({ name: 'sum', text: 'SELECT sum(id)::int8 AS s FROM items WHERE id <= $1', values: [i] });
            const s = await client.query('SELECT pg_sleep(0.01), $1::text AS echo', [`task ${i}`]);
            await client.query('COMMIT');
            return [a.rows, b.rows, s.rows[0].echo];
          } finally {
            client.release();
          }
        });
        const results = await Promise.all(tasks);
        return { results, total: pool.totalCount <= 50 };
      } finally {
        await pool.end();
      }
    });
  });

  test('authentication: SCRAM, md5, trust, wrong and unknown users', async () => {
    await both('auth', async (t) => {
      const out = {};
      for (const user of ['it_trust', 'it_md5', 'it_scram']) {
        out[user] = await withPg(t, user, async (c) => (await c.query('SELECT current_user AS u')).rows);
      }
      out.wrongScram = await failure(() => withPg(t, 'it_scram', () => {}, { password: 'wrong' }));
      out.wrongMd5 = await failure(() => withPg(t, 'it_md5', () => {}, { password: 'wrong' }));
      out.unknownDb = await failure(() => withPg(t, 'it_trust', () => {}, { database: 'no_such_db' }));
      out.pgjsScram = await withPgjs(t, async (sql) => [...await sql`SELECT current_user AS u`], 'it_scram');
      out.pgjsWrong = await failure(() => withPgjs(t, (sql) => sql`SELECT 1`, 'it_scram', { pass: 'wrong' }));
      return out;
    });
  });

  test('application_name and options startup parameters', async () => {
    const extra = { application_name: 'node app (test)', options: '-c search_path=pg_catalog,public -c statement_timeout=12345 -c DateStyle=German' };
    const out = await both('startup parameters', (t) => withPg(t, 'it_trust', async (c) => pgResult(await c.query(
      "SELECT current_setting('application_name') AS app, current_setting('search_path') AS path, " +
      "current_setting('statement_timeout') AS timeout, current_setting('DateStyle') AS ds, " +
      "date '2024-02-29'::text AS d, application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")), extra));
    assert.equal(out.rows[0].app, 'node app (test)');
    await both('postgres.js startup parameters', (t) => withPgjs(t, async (sql) => ({
      rows: [...await sql`SELECT current_setting('application_name') AS app, current_setting('work_mem') AS wm`],
      parameters: { application_name: sql.parameters.application_name, DateStyle: sql.parameters.DateStyle },
    }), 'it_md5', { connection: { application_name: 'pgjs app', options: '-c work_mem=7MB -c DateStyle=SQL' } }));
  });
});

// True once a backend runs `query` (asked directly, as the superuser), false after 10 s.
const whenRunning = (query) => withPg(DIRECT, 'postgres', (admin) => eventually(async () => (await admin.query(
  "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1", [query])).rows[0].n > 0,
10000, 20));

describe('postgres.js', () => {
  test('tagged queries with many types', async () => {
    await both('tagged', (t) => withPgjs(t, async (sql) => ({
      types: pgjsResult(await sql.unsafe(TYPES_SQL, [200])),
      params: pgjsResult(await sql`SELECT ${'9223372036854775807'}::int8 AS a, ${'ünï ✓ 中文'}::text AS b,
        ${Buffer.from([0, 1, 255])}::bytea AS c, ${sql.json({ a: [1, 2], s: 'ü' })}::jsonb AS d,
        ${[1, 2, 3]}::int[] AS e, ${new Date(Date.UTC(2024, 1, 29, 1, 2, 3, 4))}::timestamptz AS f,
        ${'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'}::uuid AS g, ${null}::text AS h, ${1.5}::numeric AS i`),
      items: pgjsResult(await sql`SELECT * FROM items WHERE id IN ${sql([1, 2, 3, 500])} ORDER BY id`),
      values: await sql`SELECT id, name FROM items WHERE id < 4 ORDER BY id`.values(),
      raw: await sql`SELECT 'raw'::text AS r, 7 AS n`.raw(),
    }), 'it_scram'));
  });

  test('sql.unsafe with multi-statements, simple protocol', async () => {
    await both('unsafe multi', (t) => withPgjs(t, async (sql) => ({
      multi: (await sql.unsafe("SELECT 1 AS a; SELECT 'b' AS b, now() IS NOT NULL AS n; CREATE TEMP TABLE u (x int); INSERT INTO u VALUES (1), (2)"))
        .map(pgjsResult),
      simple: pgjsResult(await sql.unsafe(TYPES_SIMPLE(100))),
      failing: await failure(() => sql.unsafe('SELECT 1; SELECT 1 / 0; SELECT 3')),
      alive: tempTables(pgjsResult(await sql.unsafe('SELECT * FROM u ORDER BY x'))),
    })));
  });

  test('prepared statements (prepare: true and false) re-executed', async () => {
    for (const prepare of [true, false]) {
      await both(`prepare ${prepare}`, (t) => withPgjs(t, async (sql) => {
        const out = [];
        for (let i = 1; i <= 30; i++) {
          out.push(pgjsResult(await sql`SELECT id, name, price, tags, doc FROM items WHERE id = ${i * 7}`));
          out.push(pgjsResult(await sql.unsafe(TYPES_SQL, [i % 5 + 1], { prepare })));
        }
        out.push(await failure(() => sql`SELECT 1 / ${0}::int`));
        out.push(pgjsResult(await sql`SELECT 1 / ${4}::int AS q`));
        return out;
      }, 'it_trust', { prepare }));
    }
  });

  test('errors: syntax, unique violation, division by zero', async () => {
    await both('pgjs errors', (t) => withPgjs(t, async (sql) => {
      await sql`DROP TABLE IF EXISTS uniq_pgjs`;
      await sql`CREATE TABLE uniq_pgjs (id int PRIMARY KEY)`;
      const out = [
        await failure(() => sql`SELEC 1`),
        await failure(() => sql.unsafe('SELEC 1')),
        pgjsResult(await sql`INSERT INTO uniq_pgjs VALUES (${1})`),
        await failure(() => sql`INSERT INTO uniq_pgjs VALUES (${1})`),
        await failure(() => sql`SELECT 1 / ${0}::int`),
        await failure(() => sql.unsafe('SELECT 1 / 0')),
        pgjsResult(await sql`SELECT count(*) FROM uniq_pgjs`),
      ];
      await sql`DROP TABLE uniq_pgjs`;
      return out;
    }));
  });

  test('sql.begin with savepoints', async () => {
    await both('begin', (t) => withPgjs(t, async (sql) => {
      await sql`DROP TABLE IF EXISTS tx_pgjs`;
      await sql`CREATE TABLE tx_pgjs (id int PRIMARY KEY)`;
      const out = [];
      out.push(await sql.begin(async (tx) => {
        await tx`INSERT INTO tx_pgjs VALUES (1)`;
        out.push(await failure(() => tx.savepoint(async (sp) => {
          await sp`INSERT INTO tx_pgjs VALUES (2)`;
          await sp`INSERT INTO tx_pgjs VALUES (1)`;
        })));
        await tx.savepoint((sp) => sp`INSERT INTO tx_pgjs VALUES (3)`);
        return [...await tx`SELECT array_agg(id ORDER BY id) AS ids FROM tx_pgjs`];
      }));
      out.push(await failure(() => sql.begin(async (tx) => {
        await tx`INSERT INTO tx_pgjs VALUES (10)`;
        await tx`SELECT 1 / 0`;
      })));
      out.push(await sql.begin('isolation level serializable', (tx) => tx`SELECT current_setting('transaction_isolation') AS iso`));
      out.push([...await sql`SELECT array_agg(id ORDER BY id) AS ids FROM tx_pgjs`]);
      await sql`DROP TABLE tx_pgjs`;
      return out;
    }));
  });

  test('.cursor(n) and .forEach', async () => {
    await both('pgjs cursor', (t) => withPgjs(t, async (sql) => {
      const batches = [];
      for await (const rows of sql`SELECT * FROM items ORDER BY id`.cursor(100)) {
        batches.push(rows.length);
        if (batches.length % 20 === 1) batches.push([...rows.slice(0, 2)]);
      }
      const early = [];
      for await (const rows of sql.unsafe(TYPES_SQL, [10000]).cursor(100)) {
        early.push(rows.slice(-1));
        if (early.length === 3) break;
      }
      let count = 0;
      let sum = 0;
      const res = await sql`SELECT id FROM items ORDER BY id`.forEach((row) => { count++; sum += row.id; });
      return { batches, early, count, sum, res: pgjsResult(res), alive: [...await sql`SELECT 5 AS alive`] };
    }));
  });

  test('sql.listen and sql.notify', async () => {
    await both('pgjs listen', async (t) => {
      const listener = pgjs(t);
      const notifier = pgjs(t, 'it_md5');
      try {
        const got = [];
        await listener.listen('pgjs_chan', (payload) => got.push(payload));
        await notifier.notify('pgjs_chan', 'hello ✓');
        await notifier`SELECT pg_notify('pgjs_chan', 'second')`;
        await withTimeout(eventually(() => got.length >= 2, 5000), 6000, 'notifications');
        return got;
      } finally {
        await endPgjs(listener);
        await endPgjs(notifier);
      }
    });
  });

  test('query.cancel() of pg_sleep(30): within a second, other sessions untouched', async () => {
    await both('cancel', async (t) => {
      const sql = pgjs(t);
      const other = pgjs(t, 'it_scram');
      try {
        // Cancel only once the query runs on the server (postgres.js settles a query
        // cancelled while its connection is still being opened on the client side only,
        // and that connection is never handed out again).
        await sql`SELECT 'connected'`;
        await other`SELECT 'connected'`;
        const bystander = other`SELECT pg_sleep(1.5) AS slept, 'untouched' AS v`;
        const sleeping = sql`SELECT pg_sleep(30) AS cancel_me`;
        sleeping.execute();
        assert.ok(await whenRunning('SELECT pg_sleep(30) AS cancel_me'), 'pg_sleep(30) did not start');
        const started = Date.now();
        sleeping.cancel();
        const err = await failure(() => sleeping);
        const elapsed = Date.now() - started;
        return {
          err, withinASecond: elapsed < 1000 ? true : elapsed,
          alive: [...await sql`SELECT 6 AS alive`],
          bystander: [...await bystander].map((r) => r.v),
        };
      } finally {
        await endPgjs(sql);
        await endPgjs(other);
      }
    });
  });

  test('COPY via .writable() and .readable()', async () => {
    await both('pgjs copy', (t) => withPgjs(t, async (sql) => {
      const out = {};
      for (const [format, opts] of [['text', ''], ['csv', ' (FORMAT csv)'], ['binary', ' (FORMAT binary)']]) {
        const chunks = [];
        const readable = await sql.unsafe(`COPY (SELECT * FROM copy_src ORDER BY id) TO STDOUT${opts}`).readable();
        // Flowing mode: with `for await`, postgres.js pauses its socket when the stream's
        // buffer is full and resumes it only on the next read, which never comes after the
        // last CopyData (the session then stalls, directly as well).
        await new Promise((resolve, reject) => {
          readable.on('data', (chunk) => chunks.push(chunk));
          readable.on('end', resolve);
          readable.on('error', reject);
        });
        const data = Buffer.concat(chunks);
        await sql.unsafe(`CREATE TEMP TABLE pgjs_in_${format} (LIKE copy_src)`);
        const writable = await sql.unsafe(`COPY pgjs_in_${format} FROM STDIN${opts}`).writable();
        await pipeline(Readable.from((function* chunks() {
          for (let i = 0; i < data.length; i += 50000) yield data.subarray(i, i + 50000);
        })()), writable);
        out[format] = {
          length: data.length, sha256: sha256(data),
          check: [...await sql.unsafe(`SELECT count(*), md5(string_agg(c::text, '|' ORDER BY id)) FROM pgjs_in_${format} c`)],
        };
      }
      await sql`CREATE TEMP TABLE pgjs_bad (id int)`;
      const writable = await sql`COPY pgjs_bad FROM STDIN`.writable();
      // postgres.js reports an error only while the stream is still open (one after its
      // CopyDone leaves the pipeline waiting): the bad row goes first, the rest later.
      out.failing = await failure(() => pipeline(Readable.from((async function* rows() {
        yield '1\n2\nthree\n';
        await sleep(500);
        for (let i = 0; i < 50; i++) { yield `${i}\n`; await sleep(10); }
      })()), writable));
      out.alive = [...await sql`SELECT count(*) FROM pgjs_bad`];
      return out;
    }));
  });

  test('pipelining 1,000 queries at once', async () => {
    await both('pipelining', (t) => withPgjs(t, async (sql) => {
      const all = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i === 500
        ? failure(() => sql`SELECT 1 / ${i - 500}::int AS x`)
        : sql`SELECT ${i}::int * 2 AS x, ${`p${i}`}::text AS p`.then((r) => [...r]))));
      return all;
    }));
  });

  test('sql.reserve()', async () => {
    await both('reserve', (t) => withPgjs(t, async (sql) => {
      const reserved = await sql.reserve();
      try {
        await reserved`SET search_path = pg_catalog, public`;
        const a = [...await reserved`SELECT current_setting('search_path') AS p, count(*) FROM items`];
        const b = [...await sql`SELECT 7 AS other`];
        return { a, b };
      } finally {
        reserved.release();
      }
    }, 'it_trust', { max: 2 }));
  });
});

test('the stack was really proxied', { skip: proxyIsDirect }, () => {
  assert.notEqual(PROXY.port, DIRECT.port);
});
