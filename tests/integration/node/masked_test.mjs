// node-postgres (pg, pg-cursor, pg-query-stream, pg-copy-streams) and postgres.js as the
// masked login sales_li on the demo CRM behind pgveil. Each driver runs CRM statements
// with simple and extended queries, named statements, cursors, streams and COPY TO STDOUT;
// checked against the same statements run directly by the unmasked match_engine:
//  - the session works: same number of rows, the columns shown as stored identical, the
//    same masked rows whichever driver or protocol path fetched them;
//  - no raw value match_engine sees in those rows (phones, ID numbers, WeChat/QQ ids,
//    emails, full names, contact details in free text, incomes, heights, weights, birth
//    dates, member ids) appears in anything sales_li received;
//  - refused statements fail with SQLSTATE 42501 and the session stays usable.
// match_engine through pgveil (unmasked) must get exactly what it gets directly.
//
// Run under clients/with_demo_stack.sh (IT_PG_PORT, IT_PROXY_PORT, IT_DATABASE,
// IT_MASKED_USER, IT_UNMASKED_USER, IT_PASSWORD):  node --test masked_test.mjs
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import postgres from 'postgres';
import { DIRECT, PROXY, assertSame, errorFields, holdAfterParse, plain } from './lib.mjs';

const DATABASE = process.env.IT_DATABASE;
const MASKED = process.env.IT_MASKED_USER;
const UNMASKED = process.env.IT_UNMASKED_USER;
const PASSWORD = process.env.IT_PASSWORD;

const open = new Set();
async function pgClient(target, user) {
  const client = new pg.Client({
    host: '127.0.0.1', port: target.port, database: DATABASE, user,
    password: user === 'postgres' ? undefined : PASSWORD, application_name: 'node-masked-test',
  });
  client.on('error', () => {});
  await client.connect();
  open.add(client);
  return client;
}
async function endPg(client) {
  open.delete(client);
  await client.end().catch(() => {});
}
const sqls = new Set();
function pgjs(target, user, extra = {}) {
  const sql = postgres({
    host: '127.0.0.1', port: target.port, database: DATABASE, user, pass: PASSWORD, max: 1,
    onnotice: () => {}, ...extra,
  });
  sqls.add(sql);
  return sql;
}

// The statements: members in a fixed order, a join, a filter on a pseudonym ($1: a member id
// as the login sees it), chat messages of that member, every member for cursors and
// streams.
// The guard refuses ORDER BY a pseudonym (the server would sort by the real ids): members
// are ordered by columns shown as stored, which together are unique in the demo data.
const ORDER = `ORDER BY nickname, province, city, occupation, education, marital_status,
                        has_house, has_car, gender, grade`;
const MEMBERS = `SELECT * FROM crm.members ${ORDER} LIMIT 50`;
const JOIN = `SELECT c.message_id, c.sender_id, m.nickname, m.real_name, m.phone, c.receiver_id,
                     c.sent_at, c.body
              FROM crm.chat_messages c JOIN crm.members m ON m.member_id = c.sender_id
              ORDER BY c.message_id LIMIT 200`;
const BY_ID = `SELECT member_id, nickname, real_name, phone, email, id_card_no, monthly_income,
                      birth_date, height_cm, weight_kg, wechat_id, qq, about_me
               FROM crm.members WHERE member_id = $1`;
const CHATS_OF = `SELECT message_id, sender_id, receiver_id, body FROM crm.chat_messages
                  WHERE sender_id = $1 OR receiver_id = $1 ORDER BY message_id`;
const ALL_MEMBERS = `SELECT member_id, nickname, real_name, phone, email, id_card_no, wechat_id,
                            monthly_income, height_cm, birth_date, city, about_me
                     FROM crm.members ${ORDER}`;
const ALL_CHATS = 'SELECT message_id, sender_id, receiver_id, sent_at, body FROM crm.chat_messages ORDER BY message_id';
const PICK = 7;  // the member of MEMBERS whose pseudonym is used as a filter

// Columns whose raw values must never reach sales_li as a whole cell (numbers, dates,
// member ids): checked cell by cell in the column of the same name.
const EXACT_COLUMNS = ['member_id', 'sender_id', 'receiver_id', 'monthly_income', 'height_cm',
  'weight_kg', 'birth_date'];
// Columns whose raw values must not appear anywhere, not even inside another value.
const TEXT_COLUMNS = ['phone', 'id_card_no', 'wechat_id', 'qq', 'email', 'real_name'];

const raw = {};        // statement -> match_engine's rows (direct)
const secrets = { text: new Set(), shortNumbers: new Set(), exact: new Map(), scan: null };

// Finds any of `values` inside a text in one pass: candidates by their first two
// characters, then compared whole.
function substringScanner(values) {
  const byPrefix = new Map();
  for (const v of values) {
    const key = v.slice(0, 2);
    if (!byPrefix.has(key)) byPrefix.set(key, []);
    byPrefix.get(key).push(v);
  }
  return (text) => {
    for (let i = 0; i + 1 < text.length; i++) {
      const candidates = byPrefix.get(text.slice(i, i + 2));
      if (candidates && candidates.some((v) => text.startsWith(v, i))) return true;
    }
    return false;
  };
}

function addTextSecret(value) {
  if (/^\d{1,9}$/.test(value)) secrets.shortNumbers.add(value);
  else secrets.text.add(value);
}

function collectSecrets(rows) {
  for (const row of rows) {
    for (const col of TEXT_COLUMNS) {
      if (row[col] != null && String(row[col]).length >= 2) addTextSecret(String(row[col]));
    }
    for (const col of EXACT_COLUMNS) {
      if (row[col] == null) continue;
      if (!secrets.exact.has(col)) secrets.exact.set(col, new Set());
      secrets.exact.get(col).add(cellText(row[col]));
    }
  }
}

function cellText(v) {
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return String(v);
}

// Everything a masked client received: rows (objects or arrays with their field names)
// or raw bytes. Fails naming the secret's column, never printing demo data.
function assertNoLeak(what, received, fields) {
  const text = Buffer.isBuffer(received) ? received.toString('latin1') + received.toString('utf8')
    : JSON.stringify(plain(received));
  assert.ok(!secrets.scan(text), `${what}: a raw value of match_engine's rows appears in what ${MASKED} received`);
  // Short numbers (QQ ids) would turn up inside pseudonyms by chance: whole numbers only.
  const numbers = new Set(text.match(/\d+/g));
  for (const secret of secrets.shortNumbers) {
    assert.ok(!numbers.has(secret), `${what}: a raw number of match_engine's rows appears in what ${MASKED} received`);
  }
  if (Buffer.isBuffer(received)) return;
  for (const row of received) {
    const entries = Array.isArray(row) ? row.map((v, i) => [fields[i], v]) : Object.entries(row);
    for (const [col, value] of entries) {
      const exact = secrets.exact.get(col);
      if (exact && value != null) {
        assert.ok(!exact.has(cellText(value)), `${what}: a raw ${col} reached ${MASKED}`);
      }
    }
  }
}

// Rows of the masked result next to the raw ones: as many, and the columns the policy
// shows as stored identical (so the same rows came back, in the same order).
function assertSameRows(what, masked, rawRows, shown) {
  assert.equal(masked.length, rawRows.length, `${what}: row count`);
  masked.forEach((row, i) => {
    for (const col of shown) {
      assert.deepEqual(plain(row[col]), plain(rawRows[i][col]), `${what}: row ${i} column ${col}`);
    }
  });
}

before(async () => {
  const me = await pgClient(DIRECT, UNMASKED);
  raw.members = (await me.query(MEMBERS)).rows;
  raw.join = (await me.query(JOIN)).rows;
  raw.all = (await me.query(ALL_MEMBERS)).rows;
  raw.chats = (await me.query(ALL_CHATS)).rows;
  raw.pick = raw.members[PICK];
  raw.byId = (await me.query(BY_ID, [raw.pick.member_id])).rows;
  raw.chatsOf = (await me.query(CHATS_OF, [raw.pick.member_id])).rows;
  await endPg(me);
  for (const rows of Object.values(raw)) collectSecrets(Array.isArray(rows) ? rows : [rows]);
  // Contact and identity details written into free text (about_me, chat bodies, notes),
  // as recorded by the generator; the superuser reads crm_truth.
  const dba = await pgClient(DIRECT, 'postgres');
  for (const table of ['chat_pii', 'about_me_pii', 'contact_note_pii']) {
    const res = await dba.query(`SELECT DISTINCT raw_fragment FROM crm_truth.${table} WHERE length(raw_fragment) >= 5`);
    for (const r of res.rows) addTextSecret(r.raw_fragment);
  }
  await endPg(dba);
  secrets.scan = substringScanner(secrets.text);
  assert.ok(raw.members.length === 50 && raw.join.length === 200 && raw.byId.length === 1);
  assert.ok(raw.chatsOf.length > 0, 'the picked member has chat messages');
  assert.ok(secrets.text.size > 5000, `${secrets.text.size} raw values to look for`);
});

after(async () => {
  for (const client of open) await client.end().catch(() => {});
  for (const sql of sqls) await sql.end({ timeout: 1 }).catch(() => {});
});

const masked = {};  // driver path -> { members, join, byId, chatsOf, all }: compared across paths

async function refusals(run, what) {
  // Each refused statement fails with 42501; the session answers the next statement.
  const out = [];
  for (const text of ["SELECT phone::text || '' FROM crm.members",
    'SELECT member_id FROM crm.members ORDER BY phone LIMIT 3',
    "SELECT count(*) FROM crm.members WHERE id_card_no LIKE '11%'"]) {
    let err;
    try {
      await run(text);
    } catch (e) {
      err = errorFields(e);
    }
    assert.equal(err?.code, '42501', `${what}: ${text} → ${JSON.stringify(err)}`);
    out.push(err);
  }
  return out;
}

describe('node-postgres as the masked login', () => {
  test('simple and parameterized queries, pseudonym filter, rowMode array', async () => {
    const c = await pgClient(PROXY, MASKED);
    try {
      const members = await c.query(MEMBERS);
      assertSameRows('members', members.rows, raw.members, ['nickname', 'gender', 'city', 'education', 'grade']);
      assertNoLeak('members', members.rows);
      const join = await c.query(JOIN);
      assertSameRows('join', join.rows, raw.join, ['message_id', 'nickname']);
      assertNoLeak('join', join.rows);
      const pseudonym = members.rows[PICK].member_id;
      assert.notEqual(pseudonym, String(raw.pick.member_id));
      // The pseudonym as a parameter (extended protocol) and as a literal (simple query).
      const byId = await c.query(BY_ID, [pseudonym]);
      assertSameRows('by pseudonym', byId.rows, raw.byId, ['nickname']);
      assert.equal(byId.rows[0].member_id, pseudonym);
      assertNoLeak('by pseudonym', byId.rows);
      const literal = await c.query(BY_ID.replace('$1', `'${pseudonym}'`));
      assertSame('pseudonym literal vs parameter', byId.rows, literal.rows);
      // An array of pseudonyms: node-postgres sends it as a text array of unknown type.
      const byArray = await c.query(BY_ID.replace('= $1', '= ANY($1)'), [[pseudonym, members.rows[0].member_id]]);
      assert.equal(byArray.rows.length, 2);
      assertSame('pseudonym in = ANY($1)', byId.rows,
        byArray.rows.filter((r) => r.member_id === pseudonym));
      const others = await c.query('SELECT count(*)::int AS n FROM crm.members WHERE member_id <> ALL($1)', [[pseudonym]]);
      const total = (await c.query('SELECT count(*)::int AS n FROM crm.members')).rows[0].n;
      assert.equal(others.rows[0].n, total - 1);
      const chatsOf = await c.query(CHATS_OF, [pseudonym]);
      assertSameRows('chats of pseudonym', chatsOf.rows, raw.chatsOf, ['message_id']);
      assertNoLeak('chats of pseudonym', chatsOf.rows);
      const arrays = await c.query({ text: MEMBERS, rowMode: 'array' });
      assertSame('rowMode array', members.rows.map((r) => Object.values(r)), arrays.rows);
      assertNoLeak('rowMode array', arrays.rows, arrays.fields.map((f) => f.name));
      const extended = await c.query(MEMBERS.replace('LIMIT 50', 'LIMIT $1'), [50]);
      assertSame('members simple vs extended', members.rows, extended.rows);
      masked.pg = { members: members.rows, join: join.rows, byId: byId.rows, chatsOf: chatsOf.rows };
      await refusals((text) => c.query(text), 'pg simple');
      await refusals((text) => c.query(text, []), 'pg extended');
      assert.equal((await c.query('SELECT 1 AS alive')).rows[0].alive, 1);
      assertSame('after refusals', members.rows, (await c.query(MEMBERS)).rows);
    } finally {
      await endPg(c);
    }
  });

  test('named prepared statements re-executed', async () => {
    const c = await pgClient(PROXY, MASKED);
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) {
        runs.push((await c.query({ name: 'members', text: MEMBERS })).rows);
        const pseudonym = runs[0][PICK].member_id;
        const byId = (await c.query({ name: 'by_id', text: BY_ID, values: [pseudonym] })).rows;
        assertSame('prepared by pseudonym', masked.pg.byId, byId);
        const chats = (await c.query({ name: 'chats_of', text: CHATS_OF, values: [pseudonym], rowMode: 'array' })).rows;
        assertSame('prepared chats', masked.pg.chatsOf.map((r) => Object.values(r)), chats);
        await refusals((text) => c.query({ name: `refused_${i}`, text }), 'pg named');
      }
      for (const rows of runs) assertSame('prepared members', masked.pg.members, rows);
      const binary = await c.query({ text: BY_ID, values: [runs[0][PICK].member_id], binary: true });
      assertNoLeak('binary results', binary.rows);
      assert.equal(binary.rows.length, 1);
    } finally {
      await endPg(c);
    }
  });

  test('pg-cursor in batches of 100, closed early; pg-query-stream', async () => {
    const c = await pgClient(PROXY, MASKED);
    try {
      const cursor = c.query(new Cursor(ALL_MEMBERS));
      const rows = [];
      for (let batch; (batch = await cursor.read(100)).length > 0;) rows.push(...batch);
      await cursor.close();
      assertSameRows('cursor', rows, raw.all, ['nickname', 'city']);
      assertNoLeak('cursor', rows);
      const early = c.query(new Cursor(ALL_CHATS, [], { rowMode: 'array' }));
      const first = [...await early.read(100), ...await early.read(100)];
      await early.close();
      assertNoLeak('cursor closed early', first, ['message_id', 'sender_id', 'receiver_id', 'sent_at', 'body']);
      const refused = c.query(new Cursor("SELECT phone::text || '' FROM crm.members"));
      let err;
      try { await refused.read(10); } catch (e) { err = e; }
      assert.equal(err?.code, '42501');
      assert.equal((await c.query('SELECT 1 AS alive')).rows[0].alive, 1);
      const streamed = [];
      for await (const row of c.query(new QueryStream(ALL_CHATS, [], { batchSize: 500 }))) streamed.push(row);
      assertSameRows('stream', streamed, raw.chats, ['message_id']);
      assertNoLeak('stream', streamed);
      const plainChats = (await c.query(ALL_CHATS)).rows;
      assertSame('stream vs plain query', plainChats, streamed);
      masked.pgAll = rows;
      masked.pgChats = plainChats;
      // A stream destroyed after its first rows (pg-query-stream closes its portal while
      // rows are still coming), inside a transaction, then a refusal and a rollback.
      await c.query('BEGIN');
      const partial = [];
      const stream = c.query(new QueryStream(ALL_CHATS, [], { batchSize: 100 }));
      await new Promise((resolve, reject) => {
        stream.on('data', (row) => { partial.push(row); if (partial.length === 150) stream.destroy(); });
        stream.on('close', resolve);
        stream.on('error', reject);
      });
      assertSame('stream destroyed early', plainChats.slice(0, partial.length), partial);
      let refusedInTx;
      try { await c.query("SELECT phone::text || '' FROM crm.members", []); } catch (e) { refusedInTx = e.code; }
      assert.equal(refusedInTx, '42501');
      await c.query('ROLLBACK');
      assertSame('after the destroyed stream', masked.pg.join, (await c.query(JOIN)).rows);
    } finally {
      await endPg(c);
    }
  });

  test('pg-cursor whose Parse fails before the rest of its batch reaches pgveil', async () => {
    // PostgreSQL sends an error at once; pg-cursor writes Parse, Bind, Describe, Flush,
    // then Execute, Flush and, after the error, Sync. Holding back everything after the
    // Parse makes the error arrive first; the session must answer the next query.
    const c = await pgClient(PROXY, MASKED);
    try {
      for (const [text, code] of [["SELECT phone::text || '' FROM crm.members", '42501'],
        ['SELECT store_id FROM crm.stores WHERE city = 1', '42883']]) {
        const release = holdAfterParse(c, 300);
        const cursor = c.query(new Cursor(text));
        let err;
        try { await cursor.read(10); } catch (e) { err = e; }
        await release();
        assert.equal(err?.code, code, text);
        const join = await c.query(JOIN);
        assertSameRows('after the early error', join.rows, raw.join, ['message_id', 'nickname']);
        assertNoLeak('after the early error', join.rows);
      }
    } finally {
      await endPg(c);
    }
  });

  test('pg-copy-streams: COPY TO STDOUT (text, csv, binary)', async () => {
    const c = await pgClient(PROXY, MASKED);
    try {
      const copyOut = async (text) => {
        const chunks = [];
        await pipeline(c.query(copyTo(text)), new Writable({ write(chunk, _e, cb) { chunks.push(chunk); cb(); } }));
        return Buffer.concat(chunks);
      };
      for (const opts of ['', ' (FORMAT csv, HEADER)', ' (FORMAT binary)']) {
        const query = await copyOut(`COPY (${ALL_MEMBERS}) TO STDOUT${opts}`);
        const table = await copyOut(`COPY crm.members TO STDOUT${opts}`);
        const chats = await copyOut(`COPY crm.chat_messages TO STDOUT${opts}`);
        for (const [what, data] of [['COPY query', query], ['COPY members', table], ['COPY chats', chats]]) {
          assert.ok(data.length > 10000, `${what}${opts}: ${data.length} bytes`);
          assertNoLeak(`${what}${opts}`, data);
        }
        if (opts === '') {
          // Text COPY lines carry the same masked values as the query rows.
          const lines = query.toString('utf8').trimEnd().split('\n');
          assert.equal(lines.length, raw.all.length);
          const fields = lines.map((l) => l.split('\t'));
          assert.deepEqual(fields.map((f) => f[0]), masked.pgAll.map((r) => r.member_id));
          assert.deepEqual(fields.map((f) => f[3]), masked.pgAll.map((r) => r.phone ?? '\\N'));
          for (const col of ['member_id', 'monthly_income', 'height_cm']) {
            const i = ['member_id', 'nickname', 'real_name', 'phone', 'email', 'id_card_no', 'wechat_id', 'monthly_income', 'height_cm'].indexOf(col);
            const exact = secrets.exact.get(col);
            for (const f of fields) assert.ok(!exact.has(f[i]), `COPY text: a raw ${col}`);
          }
        }
      }
      let err;
      try { await copyOut("COPY (SELECT phone::text || '' FROM crm.members) TO STDOUT"); } catch (e) { err = e; }
      assert.equal(err?.code, '42501');
      assert.equal((await c.query('SELECT 1 AS alive')).rows[0].alive, 1);
    } finally {
      await endPg(c);
    }
  });
});

describe('postgres.js as the masked login', () => {
  test('tagged, unsafe, prepared and unprepared, pseudonym parameters', async () => {
    for (const prepare of [true, false]) {
      const sql = pgjs(PROXY, MASKED, { prepare });
      try {
        const members = [...await sql.unsafe(MEMBERS)];  // simple query
        assertSame(`pgjs members (prepare ${prepare})`, masked.pg.members, members);
        const again = [...await sql.unsafe(MEMBERS.replace('LIMIT 50', 'LIMIT $1'), [50], { prepare })];
        assertSame('pgjs members extended', masked.pg.members, again);
        const join = [...await sql.unsafe(JOIN, [], { prepare })];
        assertSame('pgjs join', masked.pg.join, join);
        const pseudonym = members[PICK].member_id;
        for (let i = 0; i < 3; i++) {
          const byId = [...await sql`SELECT member_id, nickname, real_name, phone, email, id_card_no,
            monthly_income, birth_date, height_cm, weight_kg, wechat_id, qq, about_me
            FROM crm.members WHERE member_id = ${pseudonym}`];
          assertSame('pgjs by pseudonym', masked.pg.byId, byId);
          const chats = [...await sql.unsafe(CHATS_OF, [pseudonym], { prepare })];
          assertSame('pgjs chats of pseudonym', masked.pg.chatsOf, chats);
        }
        const multi = await sql.unsafe(`${MEMBERS}; SELECT count(*) AS n FROM crm.members`);
        assertSame('pgjs multi-statement', masked.pg.members, [...multi[0]]);
        await refusals((text) => sql.unsafe(text), 'pgjs simple');
        await refusals((text) => sql.unsafe(text, [], { prepare }), 'pgjs extended');
        assert.deepEqual([...await sql`SELECT 1 AS alive`], [{ alive: 1 }]);
        const inTx = await sql.begin(async (tx) => {
          const err = await tx.savepoint((sp) => sp.unsafe("SELECT phone::text || '' FROM crm.members")).catch((e) => e.code);
          return [err, [...await tx.unsafe(MEMBERS)]];
        });
        assert.equal(inTx[0], '42501');
        assertSame('pgjs in transaction', masked.pg.members, inTx[1]);
      } finally {
        sqls.delete(sql);
        await sql.end({ timeout: 5 });
      }
    }
  });

  test('.cursor(n), .forEach, pipelining, COPY .readable()', async () => {
    const sql = pgjs(PROXY, MASKED);
    try {
      const rows = [];
      for await (const batch of sql.unsafe(ALL_MEMBERS).cursor(100)) rows.push(...batch);
      assertSame('pgjs cursor', masked.pgAll, rows);
      const early = [];
      for await (const batch of sql.unsafe(ALL_CHATS).cursor(50)) {
        early.push(...batch);
        if (early.length >= 150) break;
      }
      assertSame('pgjs cursor closed early', masked.pgChats.slice(0, 150), early);
      const each = [];
      await sql.unsafe(ALL_CHATS).forEach((row) => each.push(row));
      assertSame('pgjs forEach', masked.pgChats, each);
      const pseudonyms = masked.pg.members.map((r) => r.member_id);
      const piped = await Promise.all(pseudonyms.map((p) => sql`SELECT member_id, nickname, phone FROM crm.members WHERE member_id = ${p}`));
      assertSame('pgjs pipelined pseudonym filters',
        masked.pg.members.map((r) => [{ member_id: r.member_id, nickname: r.nickname, phone: r.phone }]),
        piped.map((r) => [...r]));
      for (const opts of ['', ' (FORMAT csv)', ' (FORMAT binary)']) {
        const readable = await sql.unsafe(`COPY (${ALL_MEMBERS}) TO STDOUT${opts}`).readable();
        const chunks = [];
        await new Promise((resolve, reject) => {  // flowing mode: see relay_test.mjs
          readable.on('data', (chunk) => chunks.push(chunk));
          readable.on('end', resolve);
          readable.on('error', reject);
        });
        const data = Buffer.concat(chunks);
        assert.ok(data.length > 10000);
        assertNoLeak(`pgjs COPY${opts}`, data);
      }
      assert.equal((await sql`SELECT count(*)::int AS n FROM crm.members`)[0].n, raw.all.length);
    } finally {
      sqls.delete(sql);
      await sql.end({ timeout: 5 });
    }
  });
});

describe('sessions of the masked login', () => {
  test('postgres.js: a refused statement in the middle of 200 pipelined queries', async () => {
    const sql = pgjs(PROXY, MASKED);
    try {
      const pseudonyms = masked.pg.members.map((r) => r.member_id);
      const all = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 50 === 25
        ? sql.unsafe("SELECT phone::text || '' FROM crm.members").then(() => 'served', (e) => e.code)
        : sql`SELECT member_id, nickname, phone FROM crm.members WHERE member_id = ${pseudonyms[i % 50]}`
          .then((r) => [...r]))));
      all.forEach((result, i) => {
        if (i % 50 === 25) {
          assert.equal(result, '42501');
        } else {
          const r = masked.pg.members[i % 50];
          assertSame(`pipelined ${i}`, [{ member_id: r.member_id, nickname: r.nickname, phone: r.phone }], result);
        }
      });
    } finally {
      sqls.delete(sql);
      await sql.end({ timeout: 5 });
    }
  });

  test('query.cancel() of pg_sleep(30), LISTEN/NOTIFY', async () => {
    const sql = pgjs(PROXY, MASKED);
    const other = pgjs(PROXY, MASKED);
    try {
      const got = [];
      await sql.listen('masked_chan', (payload) => got.push(payload));
      // Cancel only once the query runs on the server (see relay_test.mjs).
      await sql`SELECT 'connected'`;
      await other`SELECT 'connected'`;
      const bystander = other`SELECT pg_sleep(1.5), count(*)::int AS n FROM crm.stores`;
      const sleeping = sql`SELECT pg_sleep(30) AS cancel_me`;
      sleeping.execute();
      const admin = await pgClient(DIRECT, 'postgres');
      try {
        const deadline = Date.now() + 10000;
        while ((await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' " +
          "AND query = 'SELECT pg_sleep(30) AS cancel_me'")).rows[0].n === 0) {
          assert.ok(Date.now() < deadline, 'pg_sleep(30) did not start');
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await endPg(admin);
      }
      const started = Date.now();
      sleeping.cancel();
      const code = await sleeping.then(() => 'served', (e) => e.code);
      assert.equal(code, '57014');
      assert.ok(Date.now() - started < 1000, `cancel took ${Date.now() - started} ms`);
      assert.equal((await bystander)[0].n > 0, true);
      await other.notify('masked_chan', 'hello');
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Delivered, with its payload removed: masked sessions get no notification payloads
      // (docs/security-model.md).
      assert.deepEqual(got, ['']);
      assertSame('after cancel', masked.pg.members, [...await sql.unsafe(MEMBERS)]);
    } finally {
      for (const s of [sql, other]) {
        sqls.delete(s);
        await s.end({ timeout: 5 });
      }
    }
  });

  test('pg.Pool of 20 connections; INSERT with a pseudonym parameter; COPY FROM STDIN with pseudonyms, and one that fails', async () => {
    const pool = new pg.Pool({
      host: '127.0.0.1', port: PROXY.port, database: DATABASE, user: MASKED, password: PASSWORD, max: 20,
    });
    pool.on('error', () => {});
    try {
      const pseudonyms = masked.pg.members.map((r) => r.member_id);
      const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        const res = await pool.query(BY_ID, [pseudonyms[i % 50]]);
        return res.rows;
      }));
      results.forEach((rows, i) => assert.equal(rows[0].member_id, pseudonyms[i % 50]));
      const c = await pool.connect();
      try {
        // The pseudonym goes in as the real id: read back, the row names the same member.
        const ins = await c.query(
          "INSERT INTO crm.contact_log (staff_id, member_id, channel) VALUES ((SELECT min(staff_id) FROM crm.staff), $1, 'call') RETURNING contact_id",
          [pseudonyms[PICK]]);
        const back = await c.query('SELECT member_id FROM crm.contact_log WHERE contact_id = $1', [ins.rows[0].contact_id]);
        assert.deepEqual(back.rows, [{ member_id: pseudonyms[PICK] }]);
        // COPY FROM into a pseudonym column: the pseudonyms in the rows are turned back,
        // so they read back the same; a value that is not a pseudonym fails the copy.
        const staff = (await c.query('SELECT min(staff_id) AS s FROM crm.staff')).rows[0].s;
        const rows = pseudonyms.slice(0, 3).map((p) => `${staff}\t${p}\tcall\tnode copy\n`).join('');
        const copied = c.query(copyFrom('COPY crm.contact_log (staff_id, member_id, channel, outcome) FROM STDIN'));
        await pipeline(Readable.from([rows.slice(0, 7), rows.slice(7)]), copied);
        const readBack = await c.query("SELECT member_id FROM crm.contact_log WHERE outcome = 'node copy' ORDER BY contact_id");
        assert.deepEqual(readBack.rows.map((r) => r.member_id), pseudonyms.slice(0, 3));
        const refused = c.query(copyFrom('COPY crm.contact_log (staff_id, member_id, channel) FROM STDIN'));
        const why = await pipeline(Readable.from([`${staff}\t-2\tcall\n`]), refused)
          .then(() => null, (e) => e.code);
        assert.equal(why, '22P02');
        const bad = c.query(copyFrom('COPY crm.contact_log (staff_id, channel) FROM STDIN'));
        const err = await pipeline(Readable.from(['x\tcall\n', '1\tcall\n'.repeat(1000)]), bad)
          .then(() => null, (e) => e.code);
        assert.equal(err, '22P02');
        assertSame('after a failed COPY', masked.pg.byId, (await c.query(BY_ID, [pseudonyms[PICK]])).rows);
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
    }
  });
});

test('the unmasked login gets through pgveil exactly what it gets directly', async () => {
  const fetch = async (target) => {
    const c = await pgClient(target, UNMASKED);
    const sql = pgjs(target, UNMASKED);
    try {
      return {
        members: (await c.query(MEMBERS)).rows,
        join: (await c.query({ text: JOIN, rowMode: 'array' })).rows,
        byId: (await c.query({ name: 'by_id', text: BY_ID, values: [raw.pick.member_id] })).rows,
        pgjs: [...await sql.unsafe(CHATS_OF, [raw.pick.member_id], { prepare: true })],
      };
    } finally {
      await endPg(c);
      sqls.delete(sql);
      await sql.end({ timeout: 5 });
    }
  };
  assertSame('match_engine', await fetch(DIRECT), await fetch(PROXY));
});
