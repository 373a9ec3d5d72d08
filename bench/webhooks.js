#!/usr/bin/env node
/**
 * npm run bench:webhooks — two measurements, each against real PostgreSQL (and Redis when it
 * answers), on this machine:
 *
 * 1. Inbound Stripe ingest: Switchboard's `POST /api/v1/webhooks/in/:source_id` (signature check
 *    with the stripe SDK, durable insert into the inbox, queue hand-off) against a bare Fastify +
 *    pg + node:crypto server (check + insert), same load, same run. Every request is a distinct,
 *    freshly signed event. Target: Switchboard ≥ 0.9× the baseline's requests/s.
 * 2. Outbound fan-out: 10,000 outbox events × 3 local receivers (30,000 signed deliveries) through
 *    the relay, the event jobs, the fan-out and the delivery jobs. Reports events/s,
 *    deliveries/s and the delivery lag (event time → receiver) p50/p99. Target ≥ 1,000
 *    deliveries/s on Redis.
 *
 * Environment: BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test),
 * BENCH_REDIS_URL (default TEST_REDIS_URL or redis://127.0.0.1:6379; optional), BENCH_DURATION_S (10),
 * BENCH_CONNECTIONS (50), BENCH_EVENTS (10000), BENCH_ONLY (inbound|outbound: run one half). Needs `npm run build` (the script runs it).
 */
'use strict';
/* global fetch, clearTimeout */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const autocannon = require('autocannon');
const pg = require('pg');
const { uuidv7 } = require('uuidv7');
const support = require('./support');
const { percentile } = support;

const DB_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const DURATION = Number(process.env.BENCH_DURATION_S || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const EVENTS = Number(process.env.BENCH_EVENTS || 10000);
const STRIPE_SECRET = 'whsec_bench_' + crypto.randomBytes(16).toString('hex');
const databases = [];
const children = [];
const redisPrefixes = [];
const dataDirs = [];

async function createDatabase() {
  const { name, url } = await support.createDatabase(DB_URL);
  databases.push(name);
  return url;
}

function startChild(script, args, env) {
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each server process into <dir>.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, path.join(__dirname, script), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 120 s`)), 120_000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function switchboardEnv(databaseUrl, redis, extra = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
  const prefix = `sbbench${crypto.randomBytes(3).toString('hex')}:`;
  dataDirs.push(dataDir);
  if (redis) redisPrefixes.push(prefix);
  return {
    NODE_ENV: 'development',
    SWITCHBOARD_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : { REDIS_URL: '' }),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '1000000',
    DATABASE_POOL_MAX: '10',
    ...extra,
  };
}

async function json(url, method, body, token) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${text}`);
  return JSON.parse(text);
}

async function owner(base) {
  return json(`${base}/api/v1/auth/register`, 'POST', {
    email: `bench-${crypto.randomBytes(4).toString('hex')}@example.com`,
    password: 'bench-password-0123456789',
    name: 'Bench',
    workspace_name: 'Bench',
  });
}

/** A distinct, freshly signed Stripe event per request (Stripe's scheme, as the SDK signs). */
function signedStripeRequest() {
  const event = {
    id: `evt_${crypto.randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type: 'customer.updated',
    data: { object: { id: `cus_${crypto.randomBytes(6).toString('hex')}`, object: 'customer', email: 'bench@example.com' } },
  };
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const sig = crypto.createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` } };
}

function cannon(url, duration) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration,
        requests: [{ setupRequest: (req) => ({ ...req, ...signedStripeRequest() }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function measure(name, url) {
  await cannon(url, 3); // warm-up
  const r = await cannon(url, DURATION);
  const non2xx = r.non2xx + r.errors + r.timeouts;
  const line = {
    name,
    rps: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    ok: r['2xx'],
    failed: non2xx,
  };
  console.log(
    `  ${name.padEnd(28)} ${String(line.rps).padStart(6)} req/s   p50 ${line.p50_ms} ms   p99 ${line.p99_ms} ms   2xx ${line.ok}   other ${line.failed}`,
  );
  return line;
}

async function inboundBenchmark(redis) {
  console.log(`\n## Inbound Stripe ingest (${CONNECTIONS} connections, ${DURATION} s, distinct signed events)`);
  const baseDb = await createDatabase();
  const baseline = await startChild('webhooks-baseline.js', [], { DATABASE_URL: baseDb, BENCH_STRIPE_SECRET: STRIPE_SECRET });
  const b = await measure('baseline (fastify+pg+crypto)', `${baseline.url}/webhooks/stripe`);
  await baseline.stop();

  const sbDb = await createDatabase();
  const sb = await startChild('webhooks-server.js', ['api'], switchboardEnv(sbDb, redis));
  const user = await owner(sb.url);
  const source = await json(
    `${sb.url}/api/v1/webhook-sources`,
    'POST',
    { provider: 'stripe', name: 'bench', secret: STRIPE_SECRET },
    user.access_token,
  );
  const s = await measure('switchboard', `${sb.url}/api/v1/webhooks/in/${source.id}`);
  await sb.stop();
  const client = new pg.Client({ connectionString: sbDb });
  await client.connect();
  const stored = Number((await client.query('select count(*) from inbound_events')).rows[0].count);
  await client.end();
  const ratio = s.rps / b.rps;
  console.log(
    `  ratio ${ratio.toFixed(2)}× (target ≥ 0.90×)   inbox rows ${stored} (every 2xx is a stored event: ${stored >= s.ok})`,
  );
  return { baseline: b, switchboard: s, ratio, stored };
}

function receiver() {
  const arrivals = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const at = Date.now();
      try {
        const ts = Date.parse(JSON.parse(body).timestamp);
        arrivals.push({ at, lag: at - ts, id: req.headers['webhook-id'] });
      } catch {
        arrivals.push({ at, lag: NaN });
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, arrivals, url: `http://127.0.0.1:${server.address().port}/hook` })),
  );
}

async function outboundBenchmark(redis) {
  console.log(`\n## Outbound fan-out: ${EVENTS} events × 3 receivers (${redis ? 'Redis' : 'PostgreSQL'} queue)`);
  const db = await createDatabase();
  const sb = await startChild(
    'webhooks-server.js',
    ['all'],
    switchboardEnv(db, redis, {
      OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
      JOBS_CONCURRENCY: process.env.BENCH_JOBS_CONCURRENCY || 'events=64,webhooks=128',
      OUTBOX_BATCH_SIZE: '1000',
      DATABASE_POOL_MAX: '20',
    }),
  );
  const receivers = await Promise.all([receiver(), receiver(), receiver()]);
  const user = await owner(sb.url);
  for (const r of receivers)
    await json(`${sb.url}/api/v1/webhook-endpoints`, 'POST', { url: r.url, event_types: ['*'] }, user.access_token);
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  const started = Date.now();
  for (let i = 0; i < EVENTS; i += 1000) {
    const n = Math.min(1000, EVENTS - i);
    const ids = [];
    const payloads = [];
    for (let k = 0; k < n; k++) {
      ids.push(uuidv7());
      payloads.push(JSON.stringify({ lead_id: crypto.randomUUID(), source: 'api' }));
    }
    await client.query(
      `insert into events (id, workspace_id, type, payload) select unnest($1::uuid[]), $2, 'lead.created', unnest($3::jsonb[])`,
      [ids, user.workspace.id, payloads],
    );
  }
  const inserted = Date.now();
  const total = EVENTS * 3;
  const deadline = Date.now() + 600_000;
  const count = () => receivers.reduce((s, r) => s + r.arrivals.length, 0);
  while (count() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const all = receivers.flatMap((r) => r.arrivals);
  const last = Math.max(...all.map((a) => a.at));
  const elapsed = (last - started) / 1000;
  const lags = all
    .map((a) => a.lag)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const distinct = new Set(all.map((a) => a.id)).size;
  const result = {
    events: EVENTS,
    deliveries: all.length,
    distinct_webhook_ids: distinct,
    insert_s: (inserted - started) / 1000,
    elapsed_s: elapsed,
    events_per_s: Math.round(EVENTS / elapsed),
    deliveries_per_s: Math.round(all.length / elapsed),
    lag_p50_ms: percentile(lags, 50),
    lag_p99_ms: percentile(lags, 99),
    lag_max_ms: lags[lags.length - 1],
  };
  console.log(
    `  delivered ${result.deliveries}/${total} (distinct webhook-ids ${distinct}) in ${elapsed.toFixed(1)} s: ` +
      `${result.events_per_s} events/s, ${result.deliveries_per_s} deliveries/s (target ≥ 1000 on Redis)`,
  );
  console.log(`  delivery lag p50 ${result.lag_p50_ms} ms, p99 ${result.lag_p99_ms} ms, max ${result.lag_max_ms} ms`);
  await client.end();
  await sb.stop();
  for (const r of receivers) r.server.close();
  return result;
}

async function main() {
  const redis = await support.redisAvailable(REDIS_URL);
  console.log(
    `Postgres ${DB_URL.replace(/:[^:@/]+@/, ':***@')}; Redis ${redis ? REDIS_URL : 'not available (queue on PostgreSQL)'}; ${os.cpus().length} CPUs; Node ${process.version}`,
  );
  const only = process.env.BENCH_ONLY; // 'inbound' | 'outbound' to run one half
  const inbound = only === 'outbound' ? null : await inboundBenchmark(redis);
  const outbound = only === 'inbound' ? null : await outboundBenchmark(redis);
  const out = path.join(os.tmpdir(), 'switchboard-bench-webhooks.json');
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), redis, inbound, outbound }, null, 2));
  console.log(`\nresults: ${out}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await support.dropDatabases(DB_URL, databases).catch(() => undefined);
    for (const prefix of redisPrefixes) await support.deleteRedisPrefix(REDIS_URL, prefix).catch(() => undefined);
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
