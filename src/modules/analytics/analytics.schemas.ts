import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { DomainError } from '../../common/errors/domain-error';
import { paginationQuery } from '../../common/http/pagination';
import { ANALYTICS_PROVIDERS, SYNC_RUN_STATUSES, SYNC_TRIGGERS } from '../../db/schema/analytics';
import { KPI_NAMES, TOTAL_NAMES } from './dashboard/kpis';
import { addDays, daysInclusive, isValidDate, todayUtc } from './dates';

/** Longest range any analytics query or backfill may span. */
export const MAX_RANGE_DAYS = 1096;

export const isoDate = z
  .string()
  .refine(isValidDate, 'Must be a calendar date YYYY-MM-DD')
  .describe('Calendar date, YYYY-MM-DD (UTC)');
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'Must be an ISO 4217 code such as USD')
  .describe('ISO 4217');
/** Printable single-line text. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !/[\p{Cc}\u202a-\u202e\u2066-\u2069]/u.test(s), 'Contains control or bidirectional formatting characters');

// ---- connections ---------------------------------------------------------------------------

export const credentialsSchema = z
  .strictObject({
    access_token: z.string().min(1).max(8192),
    refresh_token: z.string().min(1).max(8192).optional(),
    client_id: z.string().min(1).max(1024).optional(),
    client_secret: z.string().min(1).max(4096).optional(),
    expires_at: z.iso.datetime({ offset: true }).optional().describe('When the access token expires (refreshed ahead of it)'),
  })
  .describe('OAuth credentials; stored encrypted (AES-256-GCM) and never returned');

export const connectionSettingsSchema = z
  .strictObject({
    conversion_action_types: z
      .array(text(100))
      .min(1)
      .max(50)
      .optional()
      .describe('Meta: action types counted as conversions (default ["lead", "purchase"])'),
  })
  .describe('Provider-specific options');

export const createConnectionSchema = z.strictObject({
  provider: z.enum(ANALYTICS_PROVIDERS),
  account_id: text(100).describe('GA4 property id (123456789), Meta ad account (act_123…), LinkedIn sponsored account id'),
  credentials: credentialsSchema,
  name: text(200).optional(),
  schedule: text(100).optional().describe('Cron expression (UTC) of the periodic sync; default hourly (ANALYTICS_SYNC_SCHEDULE)'),
  enabled: z.boolean().optional(),
  currency: currency.optional().describe('Account currency, only needed when the provider does not report it'),
  settings: connectionSettingsSchema.optional(),
});
export type CreateConnectionInput = z.infer<typeof createConnectionSchema>;
export class CreateConnectionDto extends createZodDto(createConnectionSchema) {}

export const patchConnectionSchema = z
  .strictObject({
    name: text(200).optional(),
    schedule: text(100).optional(),
    enabled: z.boolean().optional(),
    currency: currency.nullable().optional(),
    settings: connectionSettingsSchema.optional(),
    credentials: credentialsSchema.optional().describe('Replaces the stored credentials (reconnect)'),
  })
  .refine((p) => Object.keys(p).length > 0, 'Nothing to update');
export type PatchConnectionInput = z.infer<typeof patchConnectionSchema>;
export class PatchConnectionDto extends createZodDto(patchConnectionSchema) {}

export const deleteConnectionQuerySchema = z.strictObject({
  purge_metrics: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('Also delete the metrics synced from this account (kept by default)'),
});
export class DeleteConnectionQueryDto extends createZodDto(deleteConnectionQuerySchema) {}

export const connectionViewSchema = z.object({
  id: z.uuid(),
  provider: z.enum(ANALYTICS_PROVIDERS),
  account_id: z.string(),
  name: z.string(),
  schedule: z.string(),
  enabled: z.boolean(),
  currency: z.string().nullable(),
  time_zone: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  credentials: z
    .object({
      token_expires_at: z.iso.datetime().nullable(),
      refreshable: z.boolean().describe('A refresh token (GA4, LinkedIn) or app credentials (Meta) are stored'),
    })
    .describe('What is stored, never the secrets themselves'),
  synced_through: isoDate.nullable(),
  last_sync_at: z.iso.datetime().nullable(),
  last_sync_status: z.enum(SYNC_RUN_STATUSES).nullable(),
  last_error: z.string().nullable(),
  syncing: z.boolean(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type ConnectionView = z.infer<typeof connectionViewSchema>;
export class ConnectionDto extends createZodDto(connectionViewSchema) {}
export class ConnectionPageDto extends createZodDto(
  z.object({ data: z.array(connectionViewSchema), next_cursor: z.string().nullable() }),
) {}
export class PageQueryDto extends createZodDto(paginationQuery) {}

/** No body at all means an incremental sync, like `{}`. */
export const syncRequestSchema = z.preprocess(
  (v) => v ?? {},
  z
    .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
    .refine((b) => !b.from === !b.to, 'Give both from and to, or neither (incremental sync)')
    .refine((b) => !b.from || !b.to || b.from <= b.to, 'from must not be after to')
    .refine((b) => !b.from || !b.to || daysInclusive(b.from, b.to) <= MAX_RANGE_DAYS, `At most ${MAX_RANGE_DAYS} days`)
    .refine((b) => !b.from || b.from <= todayUtc(), 'from is in the future'),
);
export class SyncRequestDto extends createZodDto(syncRequestSchema) {}

export const runViewSchema = z.object({
  id: z.uuid(),
  connection_id: z.uuid(),
  trigger: z.enum(SYNC_TRIGGERS),
  status: z.enum(SYNC_RUN_STATUSES),
  from: isoDate.nullable(),
  to: isoDate.nullable(),
  backfill: z.boolean(),
  rows_upserted: z.number().int(),
  rows_deleted: z.number().int(),
  requests: z.number().int(),
  pages: z.number().int(),
  started_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
  duration_ms: z.number().int().nullable(),
  error: z.string().nullable(),
  resume_at: z.iso.datetime().nullable().describe('For a run paused by a provider quota: when it resumes'),
  created_at: z.iso.datetime(),
});
export type RunView = z.infer<typeof runViewSchema>;
export class RunDto extends createZodDto(runViewSchema) {}
export class RunPageDto extends createZodDto(z.object({ data: z.array(runViewSchema), next_cursor: z.string().nullable() })) {}

// ---- dashboard -----------------------------------------------------------------------------

export const METRIC_NAMES = [...TOTAL_NAMES, ...KPI_NAMES] as const;

const rangeShape = {
  from: isoDate.optional().describe('First day (default: 29 days before `to`)'),
  to: isoDate.optional().describe('Last day, inclusive (default: today, UTC)'),
};

/**
 * The range of a dashboard query: defaults to the last 30 days including today; `from` after
 * `to` or a span over MAX_RANGE_DAYS is a 400 listing the field.
 */
export function queryRange(q: { from?: string; to?: string }, today = todayUtc()): { from: string; to: string } {
  const to = q.to ?? today;
  const from = q.from ?? addDays(to, -29);
  if (from > to)
    throw new DomainError('validation_failed', 'The range is invalid', [{ path: 'from', message: 'from must not be after to' }]);
  if (daysInclusive(from, to) > MAX_RANGE_DAYS)
    throw new DomainError('validation_failed', 'The range is too long', [
      { path: 'to', message: `At most ${MAX_RANGE_DAYS} days` },
    ]);
  return { from, to };
}

const filterShape = {
  ...rangeShape,
  provider: z.enum(ANALYTICS_PROVIDERS).optional(),
  campaign_id: z.uuid().optional().describe('One of our campaigns: its ad rows match by utm_campaign or name'),
  campaign: text(200).optional().describe('An ad campaign name or utm_campaign value (case-insensitive)'),
};

export const summaryQuerySchema = z.strictObject(filterShape);
export class SummaryQueryDto extends createZodDto(summaryQuerySchema) {}

export const timeseriesQuerySchema = z.strictObject({
  ...filterShape,
  metric: z.enum(METRIC_NAMES).default('spend'),
  interval: z.enum(['day', 'week', 'month']).default('day'),
});
export class TimeseriesQueryDto extends createZodDto(timeseriesQuerySchema) {}

export const breakdownQuerySchema = z.strictObject({
  ...filterShape,
  by: z.enum(['provider', 'campaign', 'source', 'channel']),
  limit: paginationQuery.shape.limit,
  cursor: paginationQuery.shape.cursor,
});
export class BreakdownQueryDto extends createZodDto(breakdownQuerySchema) {}

export const leadsQuerySchema = z.strictObject({
  ...rangeShape,
  by: z.enum(['day', 'source', 'utm_source', 'utm_campaign', 'status']).default('day'),
});
export class LeadsQueryDto extends createZodDto(leadsQuerySchema) {}

const totalsSchema = z.object({
  impressions: z.number(),
  clicks: z.number(),
  spend: z.number().nullable().describe('Minor units of `currency`'),
  conversions: z.number().describe('Reported by the ad platforms (Meta, LinkedIn)'),
  conversion_value: z.number().nullable().describe('Minor units; reported by the ad platforms'),
  sessions: z.number(),
  users: z.number().describe('Sum of daily users (GA4), not unique users'),
  key_events: z.number().describe('GA4 key events (formerly conversions)'),
  site_revenue: z.number().nullable().describe('GA4 totalRevenue, minor units'),
  leads: z.number().nullable(),
  customers: z.number().nullable().describe('New customers: leads whose first purchase falls in the range'),
  revenue: z.number().nullable().describe('Our revenue (Stripe conversions, refunds subtracted), minor units'),
});
const kpisSchema = z.object({
  ctr: z.number().nullable().describe('clicks / impressions'),
  cpc: z.number().nullable().describe('spend / clicks, minor units'),
  cpm: z.number().nullable().describe('spend × 1000 / impressions, minor units'),
  conversion_rate: z.number().nullable().describe('conversions / clicks'),
  cpa: z.number().nullable().describe('spend / conversions, minor units'),
  cpl: z.number().nullable().describe('spend / leads, minor units'),
  cac: z.number().nullable().describe('spend / new customers, minor units'),
  roas: z.number().nullable().describe('revenue / spend'),
});
const byCurrencySchema = z.array(
  z.object({
    currency: z.string(),
    totals: totalsSchema.pick({
      impressions: true,
      clicks: true,
      conversions: true,
      spend: true,
      conversion_value: true,
      site_revenue: true,
      revenue: true,
    }),
    kpis: kpisSchema.pick({ cpc: true, cpm: true, cpa: true, roas: true }),
  }),
);
const disclosureShape = {
  currency: z.string().nullable().describe('Currency of every money figure; null when they are split per currency'),
  currency_conversion: z
    .object({ to: z.string(), rates: z.record(z.string(), z.string()), note: z.string() })
    .nullable()
    .describe('Set when amounts in several currencies were converted with the configured rate table'),
};

export class SummaryDto extends createZodDto(
  z.object({
    from: isoDate,
    to: isoDate,
    filters: z.object({ provider: z.string().nullable(), campaign_id: z.string().nullable(), campaign: z.string().nullable() }),
    ...disclosureShape,
    totals: totalsSchema,
    kpis: kpisSchema,
    by_currency: byCurrencySchema,
    notes: z.array(z.string()),
  }),
) {}

export class TimeseriesDto extends createZodDto(
  z.object({
    metric: z.enum(METRIC_NAMES),
    interval: z.enum(['day', 'week', 'month']),
    from: isoDate,
    to: isoDate,
    ...disclosureShape,
    series: z.array(
      z.object({
        currency: z.string().nullable(),
        points: z.array(z.object({ period: isoDate, from: isoDate, to: isoDate, value: z.number().nullable() })),
      }),
    ),
    notes: z.array(z.string()),
  }),
) {}

export class BreakdownDto extends createZodDto(
  z.object({
    by: z.enum(['provider', 'campaign', 'source', 'channel']),
    from: isoDate,
    to: isoDate,
    ...disclosureShape,
    data: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        campaign_id: z.uuid().nullable(),
        providers: z.array(z.enum(ANALYTICS_PROVIDERS)),
        totals: totalsSchema,
        kpis: kpisSchema,
        by_currency: byCurrencySchema,
      }),
    ),
    next_cursor: z.string().nullable(),
    notes: z.array(z.string()),
  }),
) {}

const leadsRow = z.object({
  key: z.string(),
  leads: z.number(),
  confirmed: z.number(),
  pending_confirmation: z.number(),
  unsubscribed: z.number(),
  customers: z.number(),
  confirmation_rate: z.number().nullable().describe('confirmed / (confirmed + pending confirmation)'),
  unsubscribe_rate: z.number().nullable().describe('unsubscribed / leads'),
});
export class LeadsAnalyticsDto extends createZodDto(
  z.object({
    from: isoDate,
    to: isoDate,
    by: z.enum(['day', 'source', 'utm_source', 'utm_campaign', 'status']),
    totals: leadsRow,
    data: z.array(leadsRow),
  }),
) {}

// ---- reports ---------------------------------------------------------------------------------

export const DATE_PRESETS = [
  'today',
  'yesterday',
  'last_7_days',
  'last_30_days',
  'last_90_days',
  'this_month',
  'last_month',
  'year_to_date',
] as const;

/** `YYYY-MM-DD..YYYY-MM-DD` or a preset → an inclusive range (UTC days). */
export function resolveDateRange(value: string, today = todayUtc()): { from: string; to: string } | null {
  const m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(value);
  if (m) return isValidDate(m[1]) && isValidDate(m[2]) ? { from: m[1], to: m[2] } : null;
  const month = today.slice(0, 7);
  const firstOfMonth = `${month}-01`;
  switch (value) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday':
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case 'last_7_days':
      return { from: addDays(today, -6), to: today };
    case 'last_30_days':
      return { from: addDays(today, -29), to: today };
    case 'last_90_days':
      return { from: addDays(today, -89), to: today };
    case 'this_month':
      return { from: firstOfMonth, to: today };
    case 'last_month': {
      const end = addDays(firstOfMonth, -1);
      return { from: `${end.slice(0, 7)}-01`, to: end };
    }
    case 'year_to_date':
      return { from: `${today.slice(0, 4)}-01-01`, to: today };
    default:
      return null;
  }
}

export const reportRequestSchema = z.strictObject({
  campaign_id: z.uuid().optional().describe('One of our campaigns (omit for the whole workspace)'),
  campaign: text(200).optional().describe('Or an ad campaign name / utm_campaign value'),
  provider: z.enum(ANALYTICS_PROVIDERS).optional(),
  date_range: z
    .string()
    .max(40)
    .refine(
      (v) => {
        const r = resolveDateRange(v);
        return !!r && r.from <= r.to && daysInclusive(r.from, r.to) <= MAX_RANGE_DAYS;
      },
      `YYYY-MM-DD..YYYY-MM-DD (at most ${MAX_RANGE_DAYS} days) or one of ${DATE_PRESETS.join(', ')}`,
    )
    .describe(`YYYY-MM-DD..YYYY-MM-DD or a preset: ${DATE_PRESETS.join(', ')}`),
  metrics: z
    .array(z.enum(METRIC_NAMES))
    .min(1)
    .max(METRIC_NAMES.length)
    .transform((m) => [...new Set(m)]),
});
export type ReportRequest = z.infer<typeof reportRequestSchema>;
export class ReportRequestDto extends createZodDto(reportRequestSchema) {}

export const reportResultSchema = z.object({
  from: isoDate,
  to: isoDate,
  campaign_id: z.uuid().nullable(),
  campaign: z.string().nullable(),
  provider: z.string().nullable(),
  metrics: z.array(z.enum(METRIC_NAMES)),
  ...disclosureShape,
  totals: z
    .record(z.string(), z.number().nullable())
    .describe('Each metric over the whole range (money per currency as <metric>_<CUR> when split)'),
  rows: z
    .array(z.record(z.string(), z.union([z.string(), z.number(), z.null()])))
    .describe('One row per day: date and each metric'),
  notes: z.array(z.string()),
});
export type ReportResult = z.infer<typeof reportResultSchema>;
export class ReportResultDto extends createZodDto(reportResultSchema) {}

export const reportViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  request: z.object({
    campaign_id: z.string().nullable(),
    campaign: z.string().nullable(),
    provider: z.string().nullable(),
    from: isoDate,
    to: isoDate,
    metrics: z.array(z.string()),
  }),
  row_count: z.number().int().nullable(),
  error: z.string().nullable(),
  created_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  completed_at: z.iso.datetime().nullable(),
  downloads: z.object({ csv: z.string(), json: z.string() }).nullable().describe('Set once the report succeeded'),
});
export type ReportView = z.infer<typeof reportViewSchema>;
export class ReportDto extends createZodDto(reportViewSchema) {}

export const downloadQuerySchema = z.strictObject({ format: z.enum(['csv', 'json']).default('json') });
export class DownloadQueryDto extends createZodDto(downloadQuerySchema) {}
