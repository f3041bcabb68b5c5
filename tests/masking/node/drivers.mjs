// node-postgres (`pg`) and postgres.js (`postgres`) with prepared statements against a
// masked pgveil session (run by drivers_test through run.sh).
//
// Connects with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; runs $MASKING_SQL three
// times as a named prepared statement with each driver and appends every row,
// tab-separated (NULL as \N), to $MASKING_OUT/rows.tsv (six runs in all). postgres.js
// Describes a prepared statement once and then only binds and executes it.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import postgres from 'postgres';

const sql = process.env.MASKING_SQL;
const outPath = path.join(process.env.MASKING_OUT, 'rows.tsv');
const connection = {
  host: process.env.PGHOST,
  port: Number(process.env.PGPORT),
  user: process.env.PGUSER,
  password: process.env.PGPASSWORD,
  database: process.env.PGDATABASE,
};

const line = (row) => row.map((v) => (v === null ? '\\N' : String(v))).join('\t');
const runs = [];

async function nodePostgres() {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    for (let i = 0; i < 3; i++) {
      const res = await client.query({ name: 'members_masked', text: sql, rowMode: 'array' });
      runs.push(res.rows);
    }
  } finally {
    await client.end();
  }
}

async function postgresJs() {
  const db = postgres({ ...connection, pass: connection.password, max: 1, prepare: true });
  try {
    for (let i = 0; i < 3; i++) {
      runs.push(await db.unsafe(sql, [], { prepare: true }).values());
    }
  } finally {
    await db.end({ timeout: 5 });
  }
}

try {
  await nodePostgres();
  await postgresJs();
  fs.writeFileSync(outPath, runs.map((rows) => rows.map(line).join('\n') + '\n').join(''));
} catch (err) {
  console.error(`node drivers: ${err.message}`);
  process.exit(1);
}
