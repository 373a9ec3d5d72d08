import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from './columns';
import { workspaces } from './identity';

export const ANALYTICS_PROVIDERS = ['ga4', 'meta_ads', 'linkedin_ads'] as const;
export type AnalyticsProvider = (typeof ANALYTICS_PROVIDERS)[number];

export const SYNC_RUN_STATUSES = ['queued', 'running', 'succeeded', 'paused', 'failed', 'skipped'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];
export const SYNC_TRIGGERS = ['schedule', 'manual', 'resume'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
export const REPORT_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

const tz = () => timestamp({ withTimezone: true, mode: 'date' });
const day = () => date({ mode: 'string' });
const int8 = () => bigint({ mode: 'number' });

/**
 * One ad/analytics account linked to a workspace. Credentials (access/refresh token, OAuth
 * client) are one SecretBox envelope bound to the row id; the key id is kept beside it so a
 * rotation of ENCRYPTION_KEY can find rows sealed with an old key.
 */
export const analyticsConnections = pgTable(
  'analytics_connections',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text({ enum: ANALYTICS_PROVIDERS }).notNull(),
    accountId: text().notNull(),
    name: text().notNull(),
    credentialsCiphertext: text().notNull(),
    credentialsKeyId: text().notNull(),
    /** When the current access token expires, if the provider said so (refreshed ahead of it). */
    tokenExpiresAt: tz(),
    /** Cron expression (UTC) of the periodic sync. */
    schedule: text().notNull(),
    /** Account currency (learned from the provider on sync, or given when the provider does not say). */
    currency: text(),
    /** Reporting time zone of the account, when the provider says (GA4 metadata). */
    timeZone: text(),
    enabled: boolean().notNull().default(true),
    /** Provider-specific options, e.g. `{ conversion_action_types: ["lead", "purchase"] }` for Meta. */
    settings: jsonb().notNull().default({}),
    /** Last date (provider's calendar) fully synced; the next incremental sync starts from here minus the lookback. */
    syncedThrough: day(),
    lastSyncAt: tz(),
    lastSyncStatus: text({ enum: SYNC_RUN_STATUSES }),
    lastError: text(),
    /** Lease of the running sync: one sync per connection across all workers. */
    leaseId: uuid(),
    leaseExpiresAt: tz(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('analytics_connections_account_key').on(t.workspaceId, t.provider, t.accountId),
    index('analytics_connections_workspace_idx').on(t.workspaceId, t.id),
  ],
);

/** Every sync attempt: what range, how many rows, how long, how it ended. */
export const analyticsSyncRuns = pgTable(
  'analytics_sync_runs',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    connectionId: uuid()
      .notNull()
      .references(() => analyticsConnections.id, { onDelete: 'cascade' }),
    trigger: text({ enum: SYNC_TRIGGERS }).notNull(),
    status: text({ enum: SYNC_RUN_STATUSES }).notNull(),
    rangeFrom: day(),
    rangeTo: day(),
    /** True when the caller asked for this range (backfill) rather than the incremental default. */
    backfill: boolean().notNull().default(false),
    rowsUpserted: integer().notNull().default(0),
    rowsDeleted: integer().notNull().default(0),
    requests: integer().notNull().default(0),
    pages: integer().notNull().default(0),
    startedAt: tz(),
    finishedAt: tz(),
    durationMs: integer(),
    error: text(),
    /** For a paused (quota-stopped) run: when it resumes. */
    resumeAt: tz(),
    createdAt: createdAt(),
  },
  (t) => [
    index('analytics_sync_runs_connection_idx').on(t.workspaceId, t.connectionId, t.id),
    index('analytics_sync_runs_status_idx')
      .on(t.status, t.createdAt)
      .where(sql`status in ('queued', 'running')`),
  ],
);

/**
 * Where a quota-stopped sync resumes: the remaining range, the window in progress and the
 * provider's page position in it (GA4 offset, Meta `after` cursor). One per connection.
 */
export const analyticsSyncCheckpoints = pgTable('analytics_sync_checkpoints', {
  connectionId: uuid()
    .primaryKey()
    .references(() => analyticsConnections.id, { onDelete: 'cascade' }),
  workspaceId: uuid()
    .notNull()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  runId: uuid(),
  rangeFrom: day().notNull(),
  rangeTo: day().notNull(),
  windowFrom: day().notNull(),
  windowTo: day().notNull(),
  /** Provider page position inside the window; null = start of the window. */
  cursor: text(),
  /** Marks rows written by this window attempt; rows of the window without it are stale at the end. */
  syncToken: uuid().notNull(),
  backfill: boolean().notNull().default(false),
  /** Further ranges still owed by the stopped run, resumed after the current one. */
  pending: jsonb().notNull().default([]),
  resumeAt: tz(),
  reason: text(),
  updatedAt: updatedAt(),
});

const metricColumns = () => ({
  impressions: int8().notNull().default(0),
  clicks: int8().notNull().default(0),
  /** Spend in micros (1/1,000,000) of `currency`. */
  spendMicros: int8().notNull().default(0),
  currency: text().notNull(),
  /** Conversions may be fractional (modelled/attributed), so exact numeric, never float. */
  conversions: numeric({ precision: 20, scale: 6 }).notNull().default('0'),
  conversionValueMicros: int8().notNull().default(0),
  sessions: int8().notNull().default(0),
  /** Daily users as the provider reports them (a sum across days is not a count of unique users). */
  users: int8().notNull().default(0),
});

/**
 * The one normalised table: one row per (workspace, provider, account, campaign, date) — and,
 * for GA4, per session source/medium, which the key leaves out but GA4 reports split by
 * (ad providers store '' there). Rows are upserted, so re-syncs never duplicate.
 */
export const adMetricsDaily = pgTable(
  'ad_metrics_daily',
  {
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    provider: text({ enum: ANALYTICS_PROVIDERS }).notNull(),
    accountId: text().notNull(),
    date: day().notNull(),
    campaignExternalId: text().notNull(),
    campaignName: text().notNull(),
    /** lower(trim(campaign name)): how rows match our campaigns' utm_campaign / name. */
    campaignKey: text().notNull(),
    source: text().notNull().default(''),
    medium: text().notNull().default(''),
    channel: text().notNull().default(''),
    ...metricColumns(),
    syncToken: uuid(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Date fourth: a connection's date range (stale-row cleanup, rollup refresh) is one index range.
    primaryKey({
      name: 'ad_metrics_daily_pkey',
      columns: [t.workspaceId, t.provider, t.accountId, t.date, t.campaignExternalId, t.source, t.medium],
    }),
    index('ad_metrics_daily_workspace_date_idx').on(t.workspaceId, t.date),
    index('ad_metrics_daily_campaign_idx').on(t.workspaceId, t.campaignKey, t.date),
  ],
);

/**
 * Daily totals per (workspace, date, provider, account, currency, source, channel), refreshed
 * from `ad_metrics_daily` in the same transaction as every write. Summary, timeseries and the
 * provider/source/channel breakdowns read this instead of the raw table (see bench/analytics).
 */
export const adMetricsDailyRollup = pgTable(
  'ad_metrics_daily_rollup',
  {
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    date: day().notNull(),
    provider: text({ enum: ANALYTICS_PROVIDERS }).notNull(),
    accountId: text().notNull(),
    currency: text().notNull(),
    source: text().notNull().default(''),
    channel: text().notNull().default(''),
    impressions: int8().notNull().default(0),
    clicks: int8().notNull().default(0),
    spendMicros: int8().notNull().default(0),
    conversions: numeric({ precision: 24, scale: 6 }).notNull().default('0'),
    conversionValueMicros: int8().notNull().default(0),
    sessions: int8().notNull().default(0),
    users: int8().notNull().default(0),
    rowCount: integer().notNull().default(0),
  },
  (t) => [
    primaryKey({
      name: 'ad_metrics_daily_rollup_pkey',
      columns: [t.workspaceId, t.date, t.provider, t.accountId, t.currency, t.source, t.channel],
    }),
  ],
);

const campaignRollupColumns = () => ({
  workspaceId: uuid()
    .notNull()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  provider: text({ enum: ANALYTICS_PROVIDERS }).notNull(),
  accountId: text().notNull(),
  campaignKey: text().notNull(),
  currency: text().notNull(),
  /** A campaign name of the group (they share the key; the greatest is shown). */
  campaignName: text().notNull(),
  impressions: int8().notNull().default(0),
  clicks: int8().notNull().default(0),
  spendMicros: int8().notNull().default(0),
  conversions: numeric({ precision: 24, scale: 6 }).notNull().default('0'),
  conversionValueMicros: int8().notNull().default(0),
  sessions: int8().notNull().default(0),
  users: int8().notNull().default(0),
});

/**
 * Per campaign and day (source/medium summed away), refreshed with the rollup above. With the
 * weekly table below it answers the campaign breakdown: whole ISO weeks from the weekly table,
 * the (at most 6 + 6) edge days from this one — a few rows per campaign instead of one per day.
 */
export const adMetricsCampaignDaily = pgTable(
  'ad_metrics_campaign_daily',
  { ...campaignRollupColumns(), date: day().notNull() },
  (t) => [
    primaryKey({
      name: 'ad_metrics_campaign_daily_pkey',
      columns: [t.workspaceId, t.date, t.provider, t.accountId, t.campaignKey, t.currency],
    }),
  ],
);

/** Per campaign and ISO week (Monday), rebuilt from ad_metrics_campaign_daily for the weeks a write touched. */
export const adMetricsCampaignWeekly = pgTable(
  'ad_metrics_campaign_weekly',
  { ...campaignRollupColumns(), weekStart: day().notNull() },
  (t) => [
    primaryKey({
      name: 'ad_metrics_campaign_weekly_pkey',
      columns: [t.workspaceId, t.weekStart, t.provider, t.accountId, t.campaignKey, t.currency],
    }),
  ],
);

/** Reports too large to answer inline: a job fills CSV and JSON, downloaded later. */
export const analyticsReports = pgTable(
  'analytics_reports',
  {
    id: idColumn(),
    workspaceId: uuid()
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    status: text({ enum: REPORT_STATUSES }).notNull(),
    /** The normalised request: campaign, from, to, metrics. */
    request: jsonb().notNull(),
    requestedByUserId: uuid(),
    requestedByApiKeyId: uuid(),
    resultJson: jsonb(),
    resultCsv: text(),
    rowCount: integer(),
    error: text(),
    attempts: integer().notNull().default(0),
    startedAt: tz(),
    completedAt: tz(),
    createdAt: createdAt(),
  },
  (t) => [index('analytics_reports_workspace_idx').on(t.workspaceId, t.id)],
);
