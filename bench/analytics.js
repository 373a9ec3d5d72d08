#!/usr/bin/env node
/**
 * npm run bench:analytics — the dashboard queries on 10 million `ad_metrics_daily` rows.
 *
 * 1. Creates its own database on real PostgreSQL (dropped at the end), applies the migrations.
 * 2. Seeds BENCH_ROWS rows (default 10,000,000) server-side with generate_series: one large
 *    workspace (an agency: two Meta accounts, a LinkedIn account, a GA4 property, ~3,400 rows a
 *    day for two years ≈ 2.5 M rows) and BENCH_WORKSPACES - 1 ordinary ones sharing the rest;
 *    then builds the daily rollup exactly as the sync maintains it, and ANALYZEs.
 * 3. Times, for a 90-day range ending today, in the SAME run: what the API does (DashboardService:
 *    summary, timeseries by day/week/month, breakdown by provider/source/channel/campaign, which
 *    read the rollup or the raw table through their indexes) against the naive SQL over the raw
 *    table (the same aggregates straight from ad_metrics_daily). p50/p95/max over BENCH_ITERATIONS
 *    runs after warm-up, for the large workspace and for an ordinary one.
 *
 * Target (issue 7): p95 < 100 ms for each API query on this machine.
 *
 * Environment: BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test),
 * BENCH_ROWS (10000000), BENCH_WORKSPACES (200), BENCH_ITERATIONS (30), BENCH_KEEP_DB=1 keeps the database.
 * Needs `npm run build` (the npm script runs it).
 */
'use strict';
const crypto = require('node:crypto');
const os = require('node:os');
const { performance } = require('node:perf_hooks');
const pg = require('pg');
const { createDatabase, dropDatabases } = require('./support');
const { drizzle } = require('drizzle-orm/node-postgres');

const dist = (p) => require(`../dist/src/${p}`);
const schema = dist('db/schema/index.js');
const { runMigrations } = dist('db/migrate.js');
const { DashboardService } = dist('modules/analytics/dashboard/dashboard.service.js');
const { DashboardRepository } = dist('modules/analytics/dashboard/dashboard.repository.js');
const { FirstPartyRepository } = dist('modules/analytics/first-party/first-party.repository.js');

const DB_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.BENCH_ROWS || 10_000_000);
const WORKSPACES = Number(process.env.BENCH_WORKSPACES || 200);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS || 30);
const DAYS = 730;

const today = new Date().toISOString().slice(0, 10);
const addDays = (iso, n) => new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const FROM = addDays(today, -89);

function log(msg) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
}

async function timed(label, fn) {
  const t0 = performance.now();
  const out = await fn();
  log(`${label} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return out;
}

/**
 * Seeds ad_metrics_daily. The large workspace per day: Meta act_1 (900 campaigns, USD),
 * Meta act_2 (700, USD), LinkedIn (300, USD), GA4 (300 campaigns × 5 source/medium = 1,500 rows, USD),
 * i.e. 3,400 rows/day × 730 days = 2,482,000 rows. Ordinary workspaces: a Meta account with
 * `per` campaigns a day over the same two years, to fill ROWS.
 */
async function seed(pool, workspaceIds) {
  const big = workspaceIds[0];
  const start = addDays(today, -(DAYS - 1));
  const client = await pool.connect();
  try {
    // Bulk load without the secondary indexes and the primary key, then rebuild them exactly as
    // the migrations defined them (definitions read back from the catalogue).
    const defs = (
      await client.query(
        `select indexname, indexdef from pg_indexes where tablename = 'ad_metrics_daily' and indexname <> 'ad_metrics_daily_pkey'`,
      )
    ).rows;
    for (const d of defs) await client.query(`drop index ${d.indexname}`);
    await client.query('alter table ad_metrics_daily drop constraint ad_metrics_daily_pkey');
    await client.query('alter table ad_metrics_daily set unlogged');

    const metric = (seedExpr) => `
      (100 + (hashtext(${seedExpr}) & 4095))::bigint as impressions,
      (1 + (hashtext(${seedExpr} || 'c') & 127))::bigint as clicks,
      ((hashtext(${seedExpr} || 's') & 65535)::bigint * 1000) as spend_micros,
      'USD' as currency,
      ((hashtext(${seedExpr} || 'v') & 7))::numeric as conversions,
      ((hashtext(${seedExpr} || 'w') & 8191)::bigint * 10000) as conversion_value_micros`;
    const accounts = [
      {
        provider: 'meta_ads',
        account: 'act_1',
        campaigns: 900,
        source: "'facebook'",
        medium: "'paid_social'",
        channel: "'Paid Social'",
      },
      {
        provider: 'meta_ads',
        account: 'act_2',
        campaigns: 700,
        source: "'facebook'",
        medium: "'paid_social'",
        channel: "'Paid Social'",
      },
      {
        provider: 'linkedin_ads',
        account: '5074',
        campaigns: 300,
        source: "'linkedin'",
        medium: "'paid_social'",
        channel: "'Paid Social'",
      },
    ];
    let bigRows = 0;
    for (const a of accounts) {
      const res = await client.query(
        `insert into ad_metrics_daily (workspace_id, provider, account_id, date, campaign_external_id, campaign_name, campaign_key,
           source, medium, channel, impressions, clicks, spend_micros, currency, conversions, conversion_value_micros, sessions, users)
         select $1::uuid, $2, $3, d::date, c::text, 'Campaign ' || $3 || '-' || c, lower('Campaign ' || $3 || '-' || c),
           ${a.source}, ${a.medium}, ${a.channel}, ${metric('d::text || c')}, 0, 0
         from generate_series($4::date, $5::date, interval '1 day') d, generate_series(1, $6) c`,
        [big, a.provider, a.account, start, today, a.campaigns],
      );
      bigRows += res.rowCount;
    }
    const sources = `(values ('google','cpc','Paid Search'),('google','organic','Organic Search'),('(direct)','(none)','Direct'),
      ('newsletter','email','Email'),('facebook','paid_social','Paid Social')) s(source, medium, channel)`;
    const ga4 = await client.query(
      `insert into ad_metrics_daily (workspace_id, provider, account_id, date, campaign_external_id, campaign_name, campaign_key,
         source, medium, channel, impressions, clicks, spend_micros, currency, conversions, conversion_value_micros, sessions, users)
       select $1::uuid, 'ga4', '123456789', d::date, 'utm_' || c, 'utm_' || c, 'utm_' || c, s.source, s.medium, s.channel,
         0, 0, 0, 'USD', (hashtext(d::text || c || s.source) & 15)::numeric, (hashtext(d::text || c) & 4095)::bigint * 10000,
         (1 + (hashtext(d::text || c || s.medium) & 1023))::bigint, (1 + (hashtext(d::text || c || s.medium) & 511))::bigint
       from generate_series($2::date, $3::date, interval '1 day') d, generate_series(1, 300) c, ${sources}`,
      [big, start, today],
    );
    bigRows += ga4.rowCount;
    log(`  large workspace: ${bigRows.toLocaleString()} rows (${Math.round(bigRows / DAYS)} a day)`);

    // Ordinary workspaces share the rest: `per` campaigns a day for two years each.
    const rest = Math.max(0, ROWS - bigRows);
    const others = workspaceIds.slice(1);
    const per = Math.max(1, Math.round(rest / others.length / DAYS));
    let otherRows = 0;
    for (let i = 0; i < others.length; i += 20) {
      const chunk = others.slice(i, i + 20);
      const res = await client.query(
        `insert into ad_metrics_daily (workspace_id, provider, account_id, date, campaign_external_id, campaign_name, campaign_key,
           source, medium, channel, impressions, clicks, spend_micros, currency, conversions, conversion_value_micros, sessions, users)
         select w::uuid, 'meta_ads', 'act_9', d::date, c::text, 'Campaign ' || c, 'campaign ' || c,
           'facebook', 'paid_social', 'Paid Social', ${metric('w || d::text || c')}, 0, 0
         from unnest($1::text[]) w, generate_series($2::date, $3::date, interval '1 day') d, generate_series(1, $4) c`,
        [chunk, start, today, per],
      );
      otherRows += res.rowCount;
    }
    log(`  ${others.length} ordinary workspaces: ${otherRows.toLocaleString()} rows (${per} a day each)`);

    await timed('  primary key and indexes rebuilt', async () => {
      await client.query('alter table ad_metrics_daily set logged');
      await client.query(
        'alter table ad_metrics_daily add constraint ad_metrics_daily_pkey primary key (workspace_id, provider, account_id, date, campaign_external_id, source, medium)',
      );
      for (const d of defs) await client.query(d.indexdef);
    });
    // Rollups are written in date order, as syncs write them (a page at a time, by day ranges).
    await timed('  rollup built (as the sync maintains it)', () =>
      client.query(`insert into ad_metrics_daily_rollup (workspace_id, date, provider, account_id, currency, source, channel,
          impressions, clicks, spend_micros, conversions, conversion_value_micros, sessions, users, row_count)
        select workspace_id, date, provider, account_id, currency, source, channel, sum(impressions), sum(clicks),
          sum(spend_micros), sum(conversions), sum(conversion_value_micros), sum(sessions), sum(users), count(*)
        from ad_metrics_daily group by workspace_id, date, provider, account_id, currency, source, channel
        order by workspace_id, date`),
    );
    await timed('  per-campaign daily and weekly rollups built', async () => {
      const cols = `workspace_id, provider, account_id, campaign_key, currency, campaign_name, impressions, clicks,
        spend_micros, conversions, conversion_value_micros, sessions, users`;
      const sums = `sum(impressions), sum(clicks), sum(spend_micros), sum(conversions), sum(conversion_value_micros),
        sum(sessions), sum(users)`;
      await client.query(`insert into ad_metrics_campaign_daily (${cols}, date)
        select workspace_id, provider, account_id, campaign_key, currency, max(campaign_name), ${sums}, date
        from ad_metrics_daily group by workspace_id, provider, account_id, campaign_key, currency, date
        order by workspace_id, date`);
      await client.query(`insert into ad_metrics_campaign_weekly (${cols}, week_start)
        select workspace_id, provider, account_id, campaign_key, currency, max(campaign_name), ${sums}, date_trunc('week', date)::date
        from ad_metrics_campaign_daily group by workspace_id, provider, account_id, campaign_key, currency, date_trunc('week', date)
        order by workspace_id, date_trunc('week', date)`);
    });
    await timed('  vacuum analyze', () => client.query('vacuum analyze'));
    return { bigRows, otherRows };
  } finally {
    client.release();
  }
}

/** The naive SQL: the same aggregates straight from the raw table, the way one writes them first. */
function naive(pool, ws) {
  const sums = `sum(impressions) impressions, sum(clicks) clicks, sum(spend_micros) spend, sum(conversions) conversions,
    sum(conversion_value_micros) cvalue, sum(sessions) sessions, sum(users) users`;
  const q = (groupExpr) => () =>
    pool.query(
      `select ${groupExpr} as key, currency, ${sums} from ad_metrics_daily
       where workspace_id = $1 and date between $2 and $3 group by 1, 2`,
      [ws, FROM, today],
    );
  return {
    summary: q('null::text'),
    'timeseries day': q('date'),
    'timeseries week': q("date_trunc('week', date)"),
    'timeseries month': q("date_trunc('month', date)"),
    'breakdown provider': q('provider'),
    'breakdown source': q('lower(source)'),
    'breakdown channel': q('channel'),
    'breakdown campaign': q('campaign_key'),
  };
}

function api(service, ws) {
  const f = { from: FROM, to: today };
  const page = { limit: 50 };
  return {
    summary: () => service.summary(ws, f),
    'timeseries day': () => service.timeseries(ws, f, 'spend', 'day'),
    'timeseries week': () => service.timeseries(ws, f, 'cpc', 'week'),
    'timeseries month': () => service.timeseries(ws, f, 'roas', 'month'),
    'breakdown provider': () => service.breakdown(ws, f, 'provider', page),
    'breakdown source': () => service.breakdown(ws, f, 'source', page),
    'breakdown channel': () => service.breakdown(ws, f, 'channel', page),
    'breakdown campaign': () => service.breakdown(ws, f, 'campaign', page),
  };
}

async function measure(fn) {
  for (let i = 0; i < 3; i++) await fn();
  const times = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  return { p50: at(50), p95: at(95), max: times[times.length - 1] };
}

const ms = (v) => `${v.toFixed(1)} ms`.padStart(10);

async function main() {
  const { name, url } = await createDatabase(DB_URL, 'sb_bench_analytics');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  let failed = false;
  try {
    const version = (await pool.query('show server_version')).rows[0].server_version;
    log(`database ${name} on PostgreSQL ${version}; ${os.cpus().length} CPUs; ${ROWS.toLocaleString()} rows target`);
    await runMigrations(pool);
    const workspaceIds = Array.from({ length: WORKSPACES }, () => crypto.randomUUID());
    await pool.query(`insert into workspaces (id, name) select w::uuid, 'bench' from unnest($1::text[]) w`, [workspaceIds]);
    const { bigRows, otherRows } = await timed('seeded', () => seed(pool, workspaceIds));
    const total = (await pool.query('select count(*)::int n from ad_metrics_daily')).rows[0].n;
    const rollup = (await pool.query('select count(*)::int n from ad_metrics_daily_rollup')).rows[0].n;
    const size = (await pool.query(`select pg_size_pretty(pg_total_relation_size('ad_metrics_daily')) s`)).rows[0].s;
    log(`ad_metrics_daily: ${total.toLocaleString()} rows (${size} with indexes); rollup: ${rollup.toLocaleString()} rows`);

    const db = drizzle(pool, { schema, casing: 'snake_case' });
    const service = new DashboardService(new DashboardRepository(db), new FirstPartyRepository(db), {});
    const results = [];
    for (const [label, ws, rowsInRange] of [
      ['large workspace', workspaceIds[0], Math.round((bigRows / DAYS) * 90)],
      ['ordinary workspace', workspaceIds[1], Math.round((otherRows / (WORKSPACES - 1) / DAYS) * 90)],
    ]) {
      console.log(
        `\n${label}: 90 days (${FROM}..${today}), ~${rowsInRange.toLocaleString()} raw rows in range, ${ITERATIONS} runs each`,
      );
      console.log(
        `${'query'.padEnd(20)}${'API p50'.padStart(10)}${'API p95'.padStart(10)}${'API max'.padStart(10)}   ${'naive p50'.padStart(10)}${'naive p95'.padStart(10)}   speed-up (p95)`,
      );
      const a = api(service, ws);
      const n = naive(pool, ws);
      for (const q of Object.keys(a)) {
        const r1 = await measure(a[q]);
        const r2 = await measure(n[q]);
        results.push({ workspace: label, query: q, api: r1, naive: r2 });
        const ok = r1.p95 < 100 ? '' : '  ✗ over 100 ms';
        console.log(
          `${q.padEnd(20)}${ms(r1.p50)}${ms(r1.p95)}${ms(r1.max)}   ${ms(r2.p50)}${ms(r2.p95)}   ${(r2.p95 / r1.p95).toFixed(1)}×${ok}`,
        );
        if (r1.p95 >= 100) failed = true;
      }
    }
    console.log(`\n${failed ? 'TARGET MISSED' : 'target met'}: every API query p95 < 100 ms`);
  } finally {
    await pool.end();
    if (!process.env.BENCH_KEEP_DB) {
      await dropDatabases(DB_URL, [name]);
      log(`database ${name} dropped`);
    } else log(`database ${name} kept (BENCH_KEEP_DB)`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
