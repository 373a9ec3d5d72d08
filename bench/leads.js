#!/usr/bin/env node
/**
 * npm run bench:leads — `POST /api/v1/leads` with an API key on real PostgreSQL, with autocannon,
 * against a bare Fastify + pg server written the usual way (BEGIN, upsert, outbox insert,
 * COMMIT: four round trips), in the same run, same machine, same load. Each request carries an
 * address drawn from a pool (BENCH_EMAILS, default 20,000), so the run mixes creates and merges
 * like real captures. Switchboard answers from one statement (upsert + timeline + outbox in CTEs,
 * a named prepared statement) with the API key lookup cached.
 *
 * Both databases are vacuumed and analyzed after the warm-up, before measuring (see main()).
 *
 * Target (issue 5): Switchboard ≥ 1.0× the baseline's requests/s, p99 ≤ 1.5× its p99.
 *
 * Environment: BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test),
 * BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_EMAILS (20000), BENCH_POOL_MAX (10; both servers),
 * BENCH_ROUNDS (2: the servers take turns, so drift on a shared machine hits both).
 * Needs `npm run build` (the npm script runs it).
 */
'use strict';
/* global fetch, clearTimeout */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const autocannon = require('autocannon');
const pg = require('pg');
const support = require('./support');

const DB_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_DURATION_S || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const EMAILS = Number(process.env.BENCH_EMAILS || 20000);
const POOL_MAX = String(process.env.BENCH_POOL_MAX || 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const databases = [];
const children = [];
const dataDirs = [];

async function createDatabase() {
  const { name, url } = await support.createDatabase(DB_URL, 'sb_bench_leads');
  databases.push(name);
  return url;
}

const dropDatabases = () => support.dropDatabases(DB_URL, databases);

function startChild(script, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, script)], {
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
        resolve({ url: m[1] });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
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

function leadBody() {
  const n = crypto.randomInt(EMAILS);
  return JSON.stringify({ email: ` Lead${n}@Example.com `, first_name: `Lead ${n}`, source: 'bench', tags: ['bench'] });
}

function cannon(url, token, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/api/v1/leads`,
        method: 'POST',
        connections: CONNECTIONS,
        duration,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        requests: [{ setupRequest: (req) => ({ ...req, body: leadBody() }) }],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

function summary(r) {
  return {
    rps: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    ok: r['2xx'],
    failed: r.non2xx + r.errors + r.timeouts,
  };
}

async function main() {
  const [sbDb, baseDb] = [await createDatabase(), await createDatabase()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-leads-'));
  dataDirs.push(dataDir);
  const sb = await startChild('leads-server.js', {
    NODE_ENV: 'development',
    SWITCHBOARD_DATA_DIR: dataDir,
    DATABASE_URL: sbDb,
    REDIS_URL: '',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '1000000',
    DATABASE_POOL_MAX: POOL_MAX,
  });
  const owner = await json(`${sb.url}/api/v1/auth/register`, 'POST', {
    email: `bench-${crypto.randomBytes(4).toString('hex')}@example.com`,
    password: 'bench-password-0123456789',
    name: 'Bench',
    workspace_name: 'Bench',
  });
  const key = (await json(`${sb.url}/api/v1/api-keys`, 'POST', { name: 'bench', scopes: ['leads:write'] }, owner.access_token))
    .key;
  const baselineToken = crypto.randomBytes(24).toString('base64url');
  const base = await startChild('leads-baseline.js', {
    DATABASE_URL: baseDb,
    DATABASE_POOL_MAX: POOL_MAX,
    BASELINE_TOKEN: baselineToken,
  });

  // Warm both (JIT, pools, prepared statements), then alternate measured rounds.
  for (let i = 0; i < 200; i++) {
    await fetch(`${sb.url}/api/v1/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: leadBody(),
    });
    await fetch(`${base.url}/api/v1/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${baselineToken}` },
      body: leadBody(),
    });
  }
  // Then under load for a few seconds each, as the webhooks benchmark does: the JIT optimises a
  // framework's many code paths later than a bare server's few (a first measured round was
  // up to 40 % slower than the next one without it).
  await cannon(base.url, baselineToken, 3);
  await cannon(sb.url, key, 3);
  // Table statistics, as autovacuum gathers them within a minute in any running deployment
  // (pgbench likewise vacuums and analyzes before it measures). On a never-analyzed table every
  // index looks one page long to PostgreSQL's planner, so a lookup by email may walk the
  // workspace's leads through another (workspace_id, …) index instead of the unique one; the
  // baseline, with no secondary index, cannot make that mistake.
  for (const url of [sbDb, baseDb]) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('vacuum analyze');
    await c.end();
  }
  const results = { switchboard: [], baseline: [] };
  for (let round = 0; round < ROUNDS; round++) {
    results.baseline.push(summary(await cannon(base.url, baselineToken)));
    results.switchboard.push(summary(await cannon(sb.url, key)));
  }
  const combine = (list) => ({
    rps: Math.round(list.reduce((a, r) => a + r.rps, 0) / list.length),
    p50_ms: Math.max(...list.map((r) => r.p50_ms)),
    p99_ms: Math.max(...list.map((r) => r.p99_ms)),
    ok: list.reduce((a, r) => a + r.ok, 0),
    failed: list.reduce((a, r) => a + r.failed, 0),
  });
  const s = combine(results.switchboard);
  const b = combine(results.baseline);
  const rpsRatio = s.rps / b.rps;
  const p99Ratio = s.p99_ms / b.p99_ms;
  const line = (name, r) => `| ${name} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.ok} | ${r.failed} |`;
  console.log(
    `\nPOST /api/v1/leads — ${CONNECTIONS} connections, ${DURATION} s × ${ROUNDS} rounds each, ${EMAILS} distinct addresses, pool ${POOL_MAX}, ${os.cpus().length} CPUs\n`,
  );
  console.log('| server | req/s | p50 ms | p99 ms | 2xx | non-2xx/errors |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(line('Switchboard (1 statement, prepared)', s));
  console.log(line('bare Fastify + pg (BEGIN, upsert, outbox, COMMIT)', b));
  console.log(`\nrequests/s ratio ${rpsRatio.toFixed(2)}× (target ≥ 1.0×), p99 ratio ${p99Ratio.toFixed(2)}× (target ≤ 1.5×)`);
  const pass = rpsRatio >= 1.0 && p99Ratio <= 1.5 && s.failed === 0;
  console.log(pass ? 'TARGET MET' : 'TARGET NOT MET');
  return pass;
}

main()
  .then(async (pass) => {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    await dropDatabases();
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(pass ? 0 : 2);
  })
  .catch(async (err) => {
    console.error(err);
    for (const c of children) c.kill('SIGKILL');
    await dropDatabases().catch(() => undefined);
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
