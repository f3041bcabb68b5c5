// node-postgres over TLS through pgveil (run by tls_drivers_test).
//
// Environment: PGVEIL_PORT, TLS_CA (the test CA file), SCRAM_PASSWORD. Verifies pgveil's
// certificate against the CA for the name "localhost", logs in with SCRAM (plain, and
// with channel binding when the certificate pgveil presents is the server's own), runs
// a parameterized query and checks that the server side of the session is TLS too.
// Exits non-zero with a message on any mismatch.
import fs from 'node:fs';
import pg from 'pg';

const base = {
  host: '127.0.0.1',
  port: Number(process.env.PGVEIL_PORT),
  user: 'it_scram',
  password: process.env.SCRAM_PASSWORD,
  database: 'pgveil_it',
  ssl: { ca: fs.readFileSync(process.env.TLS_CA), servername: 'localhost' },
};

async function check(options, label) {
  const client = new pg.Client(options);
  await client.connect();
  try {
    if (!client.connection.stream.encrypted) throw new Error(`${label}: not encrypted`);
    const r = await client.query(
      'SELECT $1::int + 1 AS n, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [41]);
    if (r.rows[0].n !== 42 || r.rows[0].ssl !== true) {
      throw new Error(`${label}: unexpected row ${JSON.stringify(r.rows[0])}`);
    }
  } finally {
    await client.end();
  }
  console.log(`${label}: ok`);
}

async function refused(options, label) {
  const client = new pg.Client(options);
  try {
    await client.connect();
  } catch (e) {
    console.log(`${label}: refused as expected (${e.message.split('\n')[0]})`);
    return;
  } finally {
    await client.end().catch(() => {});
  }
  throw new Error(`${label}: connected with a certificate from an unknown CA`);
}

await check(base, 'scram');
await check({ ...base, enableChannelBinding: true }, 'scram-sha-256-plus');
await refused({ ...base, ssl: { ca: fs.readFileSync(process.env.OTHER_CA), servername: 'localhost' } },
  'untrusted CA');
