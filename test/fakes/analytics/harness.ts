import { sql } from 'drizzle-orm';
import pino from 'pino';
import { expect } from 'vitest';
import { uuidv7 } from 'uuidv7';
import type { WorkspaceId } from '../../../src/auth/auth-context';
import { SecretBox } from '../../../src/common/crypto/encryption';
import type { AppConfig } from '../../../src/config/config';
import type { Db } from '../../../src/db/database';
import type { AnalyticsProvider } from '../../../src/db/schema/analytics';
import { ConnectionsRepository } from '../../../src/modules/analytics/connections/connections.repository';
import { CredentialsVault } from '../../../src/modules/analytics/connections/credentials-vault';
import type { Credentials } from '../../../src/modules/analytics/providers/provider-client';
import { ProviderRegistry } from '../../../src/modules/analytics/providers/provider-registry';
import { AdMetricsRepository } from '../../../src/modules/analytics/sync/ad-metrics.repository';
import { SyncEngine, type SyncSettings } from '../../../src/modules/analytics/sync/sync.service';
import { SyncRepository } from '../../../src/modules/analytics/sync/sync.repository';

/** A sync engine wired by hand on a test database, with a fixed clock and a recording sleep. */
export interface SyncHarness {
  engine: SyncEngine;
  connections: ConnectionsRepository;
  runs: SyncRepository;
  metrics: AdMetricsRepository;
  vault: CredentialsVault;
  registry: ProviderRegistry;
  sleeps: number[];
  clock: { now: number };
  close(): Promise<void>;
}

export function buildSyncHarness(
  db: Db,
  config: AppConfig,
  opts: { now?: string; pageSize?: number; retry?: Partial<SyncSettings['retry']>; leaseMs?: number } = {},
): SyncHarness {
  const clock = { now: Date.parse(opts.now ?? '2026-10-10T12:00:00Z') };
  const sleeps: number[] = [];
  const connections = new ConnectionsRepository(db);
  const runs = new SyncRepository(db);
  const metrics = new AdMetricsRepository(db);
  const vault = new CredentialsVault(new SecretBox(config.secrets.ENCRYPTION_KEY, config.ENCRYPTION_PREVIOUS_KEYS));
  const retry = { attempts: 3, baseMs: 1, maxMs: 50, quotaPauseMs: 60_000, ...opts.retry };
  const registry = new ProviderRegistry(
    { ...config, ANALYTICS_RETRY_MAX_MS: retry.maxMs },
    { ga4PageSize: opts.pageSize ?? 2, metaPageSize: opts.pageSize ?? 2 },
  );
  const engine = new SyncEngine(
    db,
    connections,
    runs,
    metrics,
    registry,
    vault,
    {
      lookbackDays: { ga4: 2, meta_ads: 28, linkedin_ads: 7 },
      initialDays: 10,
      retry,
      leaseMs: opts.leaseMs ?? 60_000,
      now: () => clock.now,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
    pino({ level: 'silent' }),
  );
  return { engine, connections, runs, metrics, vault, registry, sleeps, clock, close: () => registry.close() };
}

export async function createWorkspace(db: Db, name = 'Analytics test'): Promise<WorkspaceId> {
  const id = uuidv7();
  await db.execute(sql`insert into workspaces (id, name) values (${id}::uuid, ${name})`);
  return id as WorkspaceId;
}

export async function createConnection(
  h: SyncHarness,
  ws: WorkspaceId,
  provider: AnalyticsProvider,
  accountId: string,
  credentials: Credentials,
  extra: { currency?: string; settings?: Record<string, unknown> } = {},
): Promise<string> {
  const id = uuidv7();
  const sealed = h.vault.seal(id, credentials);
  await h.connections.insert(ws, {
    id,
    provider,
    accountId,
    name: `${provider} ${accountId}`,
    credentialsCiphertext: sealed.ciphertext,
    credentialsKeyId: sealed.keyId,
    tokenExpiresAt: credentials.expires_at ? new Date(credentials.expires_at) : null,
    schedule: '0 * * * *',
    currency: extra.currency ?? null,
    enabled: true,
    settings: extra.settings ?? {},
  });
  return id;
}

export interface Totals {
  rows: number;
  impressions: number;
  clicks: number;
  spendMicros: bigint;
  conversions: string;
  conversionValueMicros: bigint;
  sessions: number;
  users: number;
}

/** Asserts every rollup agrees with the raw rows of an account. */
export async function expectRollupsMatch(
  db: Db,
  ws: WorkspaceId,
  provider: AnalyticsProvider,
  accountId: string,
): Promise<Totals> {
  const raw = await accountTotals(db, ws, provider, accountId);
  expect(await rollupTotals(db, ws, provider, accountId)).toEqual(raw);
  for (const table of ['ad_metrics_campaign_daily', 'ad_metrics_campaign_weekly'] as const)
    expect(await rollupTotals(db, ws, provider, accountId, table), table).toEqual({ ...raw, rows: 0 });
  return raw;
}

/** Sums of ad_metrics_daily for one account, straight from SQL. */
export async function accountTotals(db: Db, ws: WorkspaceId, provider: AnalyticsProvider, accountId: string): Promise<Totals> {
  const res = await db.execute<Record<string, string>>(sql`
    select count(*)::text as rows, coalesce(sum(impressions), 0)::text as impressions, coalesce(sum(clicks), 0)::text as clicks,
      coalesce(sum(spend_micros), 0)::text as spend, coalesce(sum(conversions), 0)::numeric(20,6)::text as conversions,
      coalesce(sum(conversion_value_micros), 0)::text as cvalue, coalesce(sum(sessions), 0)::text as sessions,
      coalesce(sum(users), 0)::text as users
    from ad_metrics_daily where workspace_id = ${ws}::uuid and provider = ${provider} and account_id = ${accountId}`);
  const r = res.rows[0];
  return {
    rows: Number(r.rows),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    spendMicros: BigInt(r.spend),
    conversions: r.conversions,
    conversionValueMicros: BigInt(r.cvalue),
    sessions: Number(r.sessions),
    users: Number(r.users),
  };
}

/**
 * The same sums from a rollup table (the daily rollup, or the per-campaign daily / weekly
 * ones): they must always agree with the raw rows. `rows` is the raw row count only for the
 * daily rollup (the campaign rollups report 0 there).
 */
export async function rollupTotals(
  db: Db,
  ws: WorkspaceId,
  provider: AnalyticsProvider,
  accountId: string,
  table: 'ad_metrics_daily_rollup' | 'ad_metrics_campaign_daily' | 'ad_metrics_campaign_weekly' = 'ad_metrics_daily_rollup',
): Promise<Totals> {
  const rows = table === 'ad_metrics_daily_rollup' ? sql`coalesce(sum(row_count), 0)::text` : sql`'0'`;
  const res = await db.execute<Record<string, string>>(sql`
    select ${rows} as rows, coalesce(sum(impressions), 0)::text as impressions,
      coalesce(sum(clicks), 0)::text as clicks, coalesce(sum(spend_micros), 0)::text as spend,
      coalesce(sum(conversions), 0)::numeric(20,6)::text as conversions, coalesce(sum(conversion_value_micros), 0)::text as cvalue,
      coalesce(sum(sessions), 0)::text as sessions, coalesce(sum(users), 0)::text as users
    from ${sql.identifier(table)} where workspace_id = ${ws}::uuid and provider = ${provider} and account_id = ${accountId}`);
  const r = res.rows[0];
  return {
    rows: Number(r.rows),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    spendMicros: BigInt(r.spend),
    conversions: r.conversions,
    conversionValueMicros: BigInt(r.cvalue),
    sessions: Number(r.sessions),
    users: Number(r.users),
  };
}
