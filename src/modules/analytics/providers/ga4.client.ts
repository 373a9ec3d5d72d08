import { formatScaled, parseScaled, toCount, toMicros } from '../money';
import { refreshWithRefreshToken } from './oauth';
import type { Credentials, NormalizedRow, PageRequest, PageResult, ProviderClient } from './provider-client';
import { ProviderAuthError, ProviderPermanentError, ProviderRateLimitError, ProviderTransientError } from './provider-errors';
import { retryAfterMs, type HttpResponse, type ProviderHttp, type RequestStats } from './provider-http';

export interface Ga4Config {
  baseUrl: string; // GA4_API_BASE_URL, e.g. https://analyticsdata.googleapis.com/v1beta
  tokenUrl: string; // GOOGLE_OAUTH_TOKEN_URL
  pageSize: number;
}

export const GA4_DIMENSIONS = ['date', 'sessionCampaignName', 'sessionSource', 'sessionMedium', 'sessionDefaultChannelGroup'];
export const GA4_METRICS = ['sessions', 'totalUsers', 'keyEvents', 'totalRevenue'];

interface Ga4Report {
  dimensionHeaders?: Array<{ name?: string }>;
  metricHeaders?: Array<{ name?: string; type?: string }>;
  rows?: Array<{ dimensionValues?: Array<{ value?: string }>; metricValues?: Array<{ value?: string }> }>;
  rowCount?: number | string;
  metadata?: { currencyCode?: string; timeZone?: string };
}

/** GA4 `date` values are `YYYYMMDD` [U: documented by example]; `YYYY-MM-DD` is accepted too. */
export function ga4Date(value: string | undefined): string {
  const v = (value ?? '').trim();
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v);
  if (!m) throw new ProviderTransientError('ga4', `unexpected GA4 date value ${JSON.stringify(v).slice(0, 20)}`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/**
 * Google Analytics Data API v1beta `properties/{id}:runReport`, paged with offset/limit until
 * `rowCount` (which ignores limit/offset) is reached. Every value arrives as a string. Ordered by
 * all dimensions so offsets are stable between pages.
 */
export class Ga4Client implements ProviderClient {
  readonly provider = 'ga4' as const;
  readonly windowDays = 7;
  /** Google access tokens live an hour: refresh in the last two minutes. */
  readonly refreshAheadMs = 120_000;

  constructor(
    private readonly http: ProviderHttp,
    private readonly cfg: Ga4Config,
  ) {}

  normalizeAccountId(accountId: string): string {
    const id = accountId.trim().replace(/^properties\//, '');
    if (!/^\d{1,20}$/.test(id)) throw new Error('a GA4 property id is numeric, e.g. 123456789 (or properties/123456789)');
    return id;
  }

  async fetchPage(req: PageRequest): Promise<PageResult> {
    const offset = req.cursor ? Number(req.cursor) : 0;
    const body = {
      dateRanges: [{ startDate: req.from, endDate: req.to }],
      dimensions: GA4_DIMENSIONS.map((name) => ({ name })),
      metrics: GA4_METRICS.map((name) => ({ name })),
      limit: this.cfg.pageSize,
      offset,
      orderBys: GA4_DIMENSIONS.slice(0, 4).map((dimensionName) => ({ dimension: { dimensionName } })),
      keepEmptyRows: false,
    };
    const res = await this.http.send(
      'ga4',
      {
        method: 'POST',
        url: `${this.cfg.baseUrl.replace(/\/$/, '')}/properties/${encodeURIComponent(req.accountId)}:runReport`,
        headers: { authorization: `Bearer ${req.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      req.stats,
    );
    this.raiseForStatus(res);
    const report = (res.body ?? {}) as Ga4Report;
    if (typeof report !== 'object' || Array.isArray(report))
      throw new ProviderTransientError('ga4', 'runReport answer is not an object', res.status);
    const currency = report.metadata?.currencyCode || req.currency || undefined;
    const rows = report.rows ?? [];
    if (!Array.isArray(rows)) throw new ProviderTransientError('ga4', 'runReport rows is not an array', res.status);
    const normalized = rows.length ? this.normalize(report, currency) : [];
    const rowCount = report.rowCount === undefined ? offset + rows.length : Number(report.rowCount);
    if (!Number.isFinite(rowCount)) throw new ProviderTransientError('ga4', 'runReport rowCount is not a number', res.status);
    const next = offset + rows.length;
    return {
      rows: normalized,
      nextCursor: rows.length > 0 && next < rowCount ? String(next) : null,
      currency,
      timeZone: report.metadata?.timeZone,
    };
  }

  private normalize(report: Ga4Report, currency: string | undefined): NormalizedRow[] {
    if (!currency)
      throw new ProviderPermanentError('ga4', 'GA4 did not report the property currency; set `currency` on the connection');
    const dim = new Map((report.dimensionHeaders ?? []).map((h, i) => [h.name, i]));
    const met = new Map((report.metricHeaders ?? []).map((h, i) => [h.name, i]));
    for (const name of ['date', 'sessionCampaignName'])
      if (!dim.has(name)) throw new ProviderTransientError('ga4', `runReport answer lacks the ${name} dimension header`);
    // `keyEvents` was called `conversions` before 2024 [U]: accept either header.
    const keyEventsIdx = met.get('keyEvents') ?? met.get('conversions');
    const d = (row: NonNullable<Ga4Report['rows']>[number], name: string) => {
      const i = dim.get(name);
      return i === undefined ? '' : (row.dimensionValues?.[i]?.value ?? '');
    };
    const m = (row: NonNullable<Ga4Report['rows']>[number], i: number | undefined) =>
      i === undefined ? undefined : row.metricValues?.[i]?.value;
    return (report.rows ?? []).map((row) => {
      const campaign = d(row, 'sessionCampaignName') || '(not set)';
      return {
        date: ga4Date(d(row, 'date')),
        campaignExternalId: campaign,
        campaignName: campaign,
        source: d(row, 'sessionSource'),
        medium: d(row, 'sessionMedium'),
        channel: d(row, 'sessionDefaultChannelGroup'),
        impressions: 0,
        clicks: 0,
        spendMicros: 0n,
        currency,
        conversions: formatScaled(parseScaled(m(row, keyEventsIdx), 6), 6),
        conversionValueMicros: toMicros(m(row, met.get('totalRevenue'))),
        sessions: toCount(m(row, met.get('sessions'))),
        users: toCount(m(row, met.get('totalUsers'))),
      };
    });
  }

  private raiseForStatus(res: HttpResponse): void {
    if (res.status >= 200 && res.status < 300) return;
    const err = (res.body as { error?: { message?: string; status?: string; code?: number } } | undefined)?.error;
    const detail = `GA4 ${res.status}${err?.status ? ` ${err.status}` : ''}: ${err?.message ?? 'no message'}`;
    if (res.status === 429 || err?.status === 'RESOURCE_EXHAUSTED')
      throw new ProviderRateLimitError('ga4', detail, res.status, err?.status, retryAfterMs(res.headers));
    if (res.status === 401 || err?.status === 'UNAUTHENTICATED')
      throw new ProviderAuthError('ga4', detail, res.status, err?.status);
    if (res.status >= 500 || res.status === 408) throw new ProviderTransientError('ga4', detail, res.status, err?.status);
    throw new ProviderPermanentError('ga4', detail, res.status, err?.status);
  }

  refresh(credentials: Credentials, stats: RequestStats): Promise<Credentials> {
    return refreshWithRefreshToken(this.http, 'ga4', this.cfg.tokenUrl, credentials, stats);
  }
}
