// Shared by the Node.js client tests: targets, value normalisation and the direct-vs-
// pgveil comparison. A scenario is an async function of a target; it runs once against
// PostgreSQL and once through pgveil, and what it returns must be deeply equal.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export const DIRECT = { name: 'direct', port: Number(process.env.IT_PG_PORT) };
export const PROXY = { name: 'pgveil', port: Number(process.env.IT_PROXY_PORT) };
export const proxyIsDirect = process.env.PGVEIL_IT_DIRECT === '1';

export const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// Plain data that deepStrictEqual compares field by field and prints readably: Buffers as
// hex, Dates as ISO text, BigInts as text, errors as their own fields.
export function plain(value) {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (Buffer.isBuffer(value)) return { hex: value.toString('hex') };
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') };
  if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? 'Invalid' : value.toISOString() };
  if (value instanceof Error) return errorFields(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) {
      if (typeof value[key] !== 'function') out[key] = plain(value[key]);
    }
    return out;
  }
  return value;
}

// Every field a driver put on an error (SQLSTATE, message, detail, hint, position, where,
// schema/table/column/constraint, file/line/routine ...), not the stack.
export function errorFields(err) {
  const out = { class: err.constructor?.name, message: err.message };
  for (const key of Object.keys(err).sort()) {
    if (key === 'stack' || typeof err[key] === 'function') continue;
    // postgres.js keeps the query object (with its driver state) on the error.
    if (key === 'query' && typeof err[key] === 'object') continue;
    out[key] = plain(err[key]);
  }
  return out;
}

// Runs fn and returns its error's fields (or a marker when it did not fail).
export async function failure(fn) {
  try {
    await fn();
  } catch (err) {
    return errorFields(err);
  }
  return { failed: false };
}

export function assertSame(name, want, got) {
  assert.deepStrictEqual(plain(got), plain(want),
    `${name}: through pgveil (actual) differs from direct (expected)`);
}

// Runs scenario(target) directly, then through pgveil; returns the (equal) result.
export async function both(name, scenario) {
  const want = await scenario(DIRECT);
  const got = await scenario(PROXY);
  assertSame(name, want, got);
  return want;
}

// Polls fn until it returns a truthy value; returns the last value after the timeout.
export async function eventually(fn, timeoutMs = 5000, stepMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let value;
  while (!(value = await fn()) && Date.now() < deadline) await sleep(stepMs);
  return value;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Holds back what a node-postgres client writes after its next Parse for `ms`, so that
// the server's answer to the Parse comes before the rest of the batch. Returns a function
// that waits for the held writes and restores the socket.
export function holdAfterParse(client, ms) {
  const stream = client.connection.stream;
  const write = stream.write;
  let held = null;
  stream.write = function hold(buf, ...rest) {
    if (held) {
      held = held.then(() => write.call(stream, buf, ...rest));
      return true;
    }
    const ok = write.call(stream, buf, ...rest);
    if (Buffer.isBuffer(buf) && buf[0] === 0x50) held = sleep(ms);
    return ok;
  };
  return async () => {
    await held;
    stream.write = write;
  };
}
