'use strict';
// What the benchmarks share: throwaway databases on the local PostgreSQL, probing Redis and
// deleting a run's keys from it (the shared Redis keeps nothing of a run), percentiles.
const crypto = require('node:crypto');
const pg = require('pg');
const { Redis } = require('ioredis');

/** Creates a database named `<prefix>_<random>` next to `adminUrl`'s; returns its name and URL. */
async function createDatabase(adminUrl, prefix = 'sb_bench') {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Drops the named databases (connections still open are terminated); never throws. */
async function dropDatabases(adminUrl, names) {
  if (!names.length) return;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  for (const name of names) await admin.query(`drop database if exists "${name}" with (force)`).catch(() => undefined);
  await admin.end();
}

async function redisAvailable(redisUrl) {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN + DEL, so the server is never blocked). */
async function deleteRedisPrefix(redisUrl, prefix) {
  const r = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  r.disconnect();
}

/** The p-th percentile of an ascending array (NaN when empty). */
function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

module.exports = { createDatabase, dropDatabases, redisAvailable, deleteRedisPrefix, percentile };
