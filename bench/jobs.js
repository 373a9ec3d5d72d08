#!/usr/bin/env node
/**
 * npm run bench:jobs — the event pipeline against raw BullMQ, same backend, same run.
 *
 * Pipeline (the spine only: outbox, relay, events worker, dispatcher): P concurrent producers
 * commit transactions that emit `lead.created` events; the relay publishes them (jobId = event
 * id); the events worker (concurrency C) validates each and calls a no-op `@OnEvent` subscriber.
 * Measured from the first emit to the last subscriber call: events/s, and lag (event time →
 * subscriber) p50/p99.
 *
 * Baseline: raw BullMQ on the same backend — P concurrent producers add no-op jobs, a Worker with
 * concurrency C runs them. Jobs/s and lag (job timestamp → processor).
 *
 * Two modes, each side the same load:
 * - single: one event per transaction (the capture path) vs one `queue.add` per job;
 * - bulk: BENCH_BATCH (50) events per transaction (an import) vs one `addBulk` of 50.
 * The single mode mostly measures PostgreSQL's commit rate (every event is a durable commit; the
 * raw baseline commits nothing), the bulk mode the relay and the worker.
 *
 * Target: pipeline ≥ 50 % of the baseline's rate on the same backend. Exits 1 when a row misses it.
 *
 * Backends (BENCH_BACKENDS, default postgres,redis; add pglite for the embedded mode): BullMQ's
 * Postgres backend on PostgreSQL, BullMQ on Redis (skipped when it does not answer), BullMQ's
 * Postgres backend on PGlite. Environment: BENCH_DATABASE_URL (default
 * TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test), BENCH_REDIS_URL (default
 * TEST_REDIS_URL or redis://127.0.0.1:6379), BENCH_JOBS (5000), BENCH_PRODUCERS (20),
 * BENCH_CONCURRENCY (20), BENCH_BATCH (50). Needs `npm run build` (the npm script runs it).
 */
'use strict';
require('reflect-metadata');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const support = require('./support');
const { percentile } = support;
const pg = require('pg');
const { Redis } = require('ioredis');
const { Queue, Worker, createPostgresBackend, runMigrations: runBullMigrations, withBackend } = require('bullmq');
const { Global, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { uuidv7 } = require('uuidv7');

const dist = path.join(__dirname, '..', 'dist', 'src');
const { loadConfig } = require(path.join(dist, 'config', 'config.js'));
const { createLogger } = require(path.join(dist, 'observability', 'logger.js'));
const { openDatabase } = require(path.join(dist, 'db', 'database.js'));
const { runMigrations } = require(path.join(dist, 'db', 'migrate.js'));
const { ConfigModule } = require(path.join(dist, 'config', 'config.module.js'));
const { DatabaseModule } = require(path.join(dist, 'db', 'database.module.js'));
const { RedisModule } = require(path.join(dist, 'common', 'redis.module.js'));
const { ObservabilityModule } = require(path.join(dist, 'observability', 'observability.module.js'));
const { ROOT_LOGGER } = require(path.join(dist, 'observability', 'root-logger.js'));
const { JobsModule } = require(path.join(dist, 'jobs', 'jobs.module.js'));
const { JobsRuntime } = require(path.join(dist, 'jobs', 'jobs.runtime.js'));
const { emit, emitMany } = require(path.join(dist, 'events', 'emit.js'));
const { OnEvent } = require(path.join(dist, 'events', 'on-event.decorator.js'));
const { startEmbeddedPostgres } = require(path.join(dist, 'db', 'embedded-postgres.js'));

const DB_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const JOBS = Number(process.env.BENCH_JOBS || 5000);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS || 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 20);
const WARMUP = Math.min(500, Math.ceil(JOBS / 10));
const BATCH = Number(process.env.BENCH_BATCH || 50);
const TARGET = 0.5;
const SECRETS = {
  JWT_SECRET: crypto.randomBytes(32).toString('hex'),
  API_KEY_SALT: crypto.randomBytes(32).toString('hex'),
  WEBHOOK_SECRET: crypto.randomBytes(32).toString('hex'),
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('hex'),
};
const cleanups = [];

async function createDatabase() {
  const { name, url } = await support.createDatabase(DB_URL);
  cleanups.push(() => support.dropDatabases(DB_URL, [name]));
  return url;
}

const deleteRedisPrefix = (prefix) => support.deleteRedisPrefix(REDIS_URL, prefix);

/** Runs `n` produce() calls from PRODUCERS concurrent loops. */
async function produce(n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < n) {
        next++;
        await fn();
      }
    }),
  );
}

/** Counts completions; resolves when `n` are done. */
function completionCounter() {
  let done = 0;
  let target = Infinity;
  let lags = [];
  let resolve;
  let finished = new Promise((r) => (resolve = r));
  return {
    hit(lagMs) {
      done++;
      lags.push(lagMs);
      if (done >= target) resolve(Date.now());
    },
    expect(n) {
      done = 0;
      lags = [];
      target = n;
      finished = new Promise((r) => (resolve = r));
      return finished;
    },
    lags: () => [...lags].sort((a, b) => a - b),
  };
}

async function measure(n, counter, producer, batch = 1) {
  const finished = counter.expect(n);
  const started = Date.now();
  await produce(Math.ceil(n / batch), producer);
  const end = await finished;
  const lags = counter.lags();
  return { rate: n / ((end - started) / 1000), p50: percentile(lags, 50), p99: percentile(lags, 99) };
}

// --- raw BullMQ -----------------------------------------------------------------------------

async function rawBaseline(kind, connection, commitUrl) {
  const counter = completionCounter();
  const name = `bench-raw-${crypto.randomBytes(3).toString('hex')}`;
  let queue;
  let worker;
  const processor = async (job) => counter.hit(Date.now() - job.timestamp);
  const opts = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };
  if (kind === 'redis') {
    const prefix = `sbbench${crypto.randomBytes(3).toString('hex')}`;
    cleanups.push(() => deleteRedisPrefix(prefix));
    queue = new Queue(name, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix });
    worker = new Worker(name, processor, {
      connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: CONCURRENCY,
    });
  } else {
    const Pg = withBackend(createPostgresBackend);
    queue = new Pg.Queue(name, { connection: connection.queue });
    worker = new Pg.Worker(name, processor, { connection: connection.worker, concurrency: CONCURRENCY });
  }
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const add = () => queue.add('noop', { lead_id: uuidv7() }, opts);
  const addBulk = () => queue.addBulk(Array.from({ length: BATCH }, () => ({ name: 'noop', data: { lead_id: uuidv7() }, opts })));
  await measure(WARMUP, counter, add);
  const result = { single: await measure(JOBS, counter, add), bulk: await measure(JOBS, counter, addBulk, BATCH) };
  if (commitUrl) {
    // The design the outbox replaces: commit the change, then add the job (lost if the process dies in between).
    const rows = new pg.Pool({ connectionString: commitUrl, max: PRODUCERS });
    await rows.query('create table if not exists bench_rows (id uuid primary key)');
    const commitThenAdd = async () => {
      const c = await rows.connect();
      try {
        await c.query('begin');
        await c.query('insert into bench_rows (id) values ($1)', [uuidv7()]);
        await c.query('commit');
      } finally {
        c.release();
      }
      await add();
    };
    result.commit = await measure(JOBS, counter, commitThenAdd);
    await rows.end();
  }
  await worker.close();
  await queue.close();
  return result;
}

// --- the Switchboard pipeline ---------------------------------------------------------------

function benchModule(counter) {
  class BenchSubscriber {
    async onLead(event) {
      counter.hit(Date.now() - Date.parse(event.occurred_at));
    }
  }
  OnEvent('lead.created')(
    BenchSubscriber.prototype,
    'onLead',
    Object.getOwnPropertyDescriptor(BenchSubscriber.prototype, 'onLead'),
  );
  Injectable()(BenchSubscriber);
  class BenchModule {}
  Module({ providers: [BenchSubscriber] })(BenchModule);
  return BenchModule;
}

/**
 * The spine alone: config, database, observability and the jobs module, plus the no-op
 * subscriber. Feature modules (webhooks, email, CRM …) subscribe to lead events too; their work
 * is theirs to measure, so they are not loaded here.
 */
async function pipeline(env) {
  const counter = completionCounter();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-jobs-'));
  cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    SWITCHBOARD_DATA_DIR: dataDir,
    JOBS_CONCURRENCY: `events=${CONCURRENCY}`,
    ...SECRETS,
    ...env,
  });
  const log = createLogger({ level: config.LOG_LEVEL });
  const database = await openDatabase(config, log);
  let context;
  try {
    await runMigrations(database.pool);
    class SpineRoot {}
    Global()(SpineRoot);
    Module({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(database),
        RedisModule.forRoot(null),
        ObservabilityModule,
        JobsModule,
        benchModule(counter),
      ],
      providers: [{ provide: ROOT_LOGGER, useValue: log }],
      exports: [ROOT_LOGGER],
    })(SpineRoot);
    context = await NestFactory.createApplicationContext(SpineRoot, { logger: false, abortOnError: false });
    await context.get(JobsRuntime).start();
    const db = database.db;
    const { rows } = await database.pool.query(`insert into workspaces (id, name) values ($1, 'bench') returning id`, [uuidv7()]);
    const ws = rows[0].id;
    const capture = () => db.transaction((tx) => emit(tx, ws, 'lead.created', { lead_id: uuidv7(), source: 'capture' }));
    const importBatch = () =>
      db.transaction((tx) =>
        emitMany(
          tx,
          ws,
          Array.from({ length: BATCH }, () => ({ type: 'lead.created', payload: { lead_id: uuidv7(), source: 'import' } })),
        ),
      );
    await measure(WARMUP, counter, capture);
    return { single: await measure(JOBS, counter, capture), bulk: await measure(JOBS, counter, importBatch, BATCH) };
  } finally {
    await context?.close();
    await database.close();
  }
}

// --- runs -----------------------------------------------------------------------------------

async function onPostgres() {
  const rawUrl = await createDatabase();
  const pool = (max) => ({ connectionString: rawUrl, schema: 'bullmq', migrate: true, max });
  const raw = await rawBaseline('postgres', { queue: pool(PRODUCERS), worker: pool(CONCURRENCY + 2) }, rawUrl);
  const ours = await pipeline({ DATABASE_URL: await createDatabase(), DATABASE_POOL_MAX: String(PRODUCERS + 5) });
  return { backend: 'postgres (BullMQ Postgres backend)', raw, ours };
}

async function onRedis() {
  const raw = await rawBaseline('redis', undefined, await createDatabase());
  const prefix = `sbbench${crypto.randomBytes(3).toString('hex')}:`;
  cleanups.push(() => deleteRedisPrefix(prefix));
  const ours = await pipeline({
    DATABASE_URL: await createDatabase(),
    DATABASE_POOL_MAX: String(PRODUCERS + 5),
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
  });
  return { backend: 'redis (BullMQ on Redis; outbox on PostgreSQL)', raw, ours };
}

async function onPglite() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-pglite-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const embedded = await startEmbeddedPostgres(dir);
  const pool = new pg.Pool({ ...embedded.connection, max: 8 });
  let raw;
  try {
    // PGlite is one session and ignores `-c search_path`: migrate once, then point the session at
    // BullMQ's schema, and hand BullMQ the pool (the same preparation the app's backend makes).
    const client = await pool.connect();
    await runBullMigrations(client, 'bullmq');
    client.release();
    await pool.query('set search_path to bullmq');
    raw = await rawBaseline('postgres', { queue: pool, worker: pool });
  } finally {
    await pool.end();
    await embedded.stop();
  }
  const ours = await pipeline({});
  return { backend: 'embedded (PGlite, BullMQ Postgres backend)', raw, ours };
}

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

async function main() {
  console.log(
    `bench:jobs — ${JOBS} jobs/events per side, ${PRODUCERS} producers, concurrency ${CONCURRENCY}, ` +
      `${os.cpus().length} CPU(s), Node ${process.version}`,
  );
  const results = [];
  const wanted = (process.env.BENCH_BACKENDS || 'postgres,redis').split(',').map((b) => b.trim());
  if (wanted.includes('postgres')) results.push(await onPostgres());
  if (wanted.includes('redis')) {
    if (await support.redisAvailable(REDIS_URL)) results.push(await onRedis());
    else console.log(`(Redis at ${REDIS_URL} not reachable: Redis skipped)`);
  }
  if (wanted.includes('pglite')) results.push(await onPglite());

  console.log(
    '\n| backend | mode | raw BullMQ jobs/s | raw lag p50 / p99 ms | pipeline events/s | pipeline lag p50 / p99 ms | ratio | target ≥ 0.50 |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|:---:|');
  let missed = 0;
  for (const r of results) {
    for (const mode of ['single', 'commit', 'bulk']) {
      const raw = r.raw[mode];
      if (!raw) continue;
      const ours = r.ours[mode === 'commit' ? 'single' : mode];
      const ratio = ours.rate / raw.rate;
      // The target compares with raw BullMQ; the commit row only shows what a durable commit costs.
      if (mode !== 'commit' && ratio < TARGET) missed++;
      const label = {
        single: '1 event per transaction vs 1 add',
        commit: '1 event per transaction vs commit + add (informational)',
        bulk: `${BATCH} events per transaction vs addBulk of ${BATCH}`,
      }[mode];
      const verdict = mode === 'commit' ? '—' : ratio >= TARGET ? 'met' : 'MISSED';
      console.log(
        `| ${r.backend} | ${label} | ${fmt(raw.rate)} | ${fmt(raw.p50)} / ${fmt(raw.p99)} | ${fmt(ours.rate)} | ` +
          `${fmt(ours.p50)} / ${fmt(ours.p99)} | ${fmt(ratio, 2)} | ${verdict} |`,
      );
    }
  }
  return missed;
}

main()
  .then(async (missed) => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.exit(missed ? 1 : 0);
  })
  .catch(async (err) => {
    console.error(err);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.exit(2);
  });
