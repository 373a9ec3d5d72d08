import { formatScaled, parseScaled, toCount, toMicros } from '../money';
import { credentialsFromTokenAnswer } from './oauth';
import type { Credentials, NormalizedRow, PageRequest, PageResult, ProviderClient } from './provider-client';
import { ProviderAuthError, ProviderPermanentError, ProviderRateLimitError, ProviderTransientError } from './provider-errors';
import { header, retryAfterMs, type HttpResponse, type ProviderHttp, type RequestStats } from './provider-http';

export interface MetaConfig {
  baseUrl: string; // META_GRAPH_BASE_URL
  version: string; // META_GRAPH_VERSION
  pageSize: number;
  /** Usage percentage (X-Business-Use-Case-Usage) above which requests slow down. */
  usageThreshold: number;
  /** Pause used when usage is high but Meta gives no time to regain access. */
  slowDownMs: number;
}

export const META_FIELDS = [
  'account_id',
  'account_currency',
  'campaign_id',
  'campaign_name',
  'impressions',
  'clicks',
  'spend',
  'actions',
  'action_values',
  'date_start',
  'date_stop',
];

/**
 * Action types counted as conversions unless a connection overrides them. `lead` and `purchase`
 * are Meta's umbrella types (all sources), and never the same event, so summing them does not
 * double count — summing e.g. `purchase` and `offsite_conversion.fb_pixel_purchase` would.
 */
export const DEFAULT_META_CONVERSION_ACTIONS = ['lead', 'purchase'];

/** Throttling codes: 4 app, 17 user, 32 page, 613 calls per hour, 80000–80014 business use case. */
export function isMetaThrottleCode(code: number): boolean {
  return code === 4 || code === 17 || code === 32 || code === 613 || (code >= 80000 && code <= 80014);
}

interface MetaInsight {
  account_currency?: string;
  campaign_id?: string;
  campaign_name?: string;
  impressions?: string;
  clicks?: string;
  spend?: string;
  actions?: Array<{ action_type?: string; value?: string }>;
  action_values?: Array<{ action_type?: string; value?: string }>;
  date_start?: string;
}

interface MetaError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  fbtrace_id?: string;
  is_transient?: boolean;
}

/**
 * Highest usage percentage and the regain estimate in X-Business-Use-Case-Usage
 * (`{"<business id>": [{type, call_count, total_cputime, total_time, estimated_time_to_regain_access}]}`).
 * The older per-app `x-fb-ads-insights-throttle` (`app_id_util_pct`, `acc_id_util_pct`) is read
 * too when present [U].
 */
export function metaUsage(headers: HttpResponse['headers']): { pct: number; regainMinutes: number } {
  let pct = 0;
  let regainMinutes = 0;
  const buc = header(headers, 'x-business-use-case-usage');
  if (buc) {
    try {
      const parsed = JSON.parse(buc) as Record<string, Array<Record<string, unknown>>>;
      for (const entries of Object.values(parsed ?? {})) {
        for (const e of Array.isArray(entries) ? entries : []) {
          for (const k of ['call_count', 'total_cputime', 'total_time']) {
            const v = Number(e[k]);
            if (Number.isFinite(v)) pct = Math.max(pct, v);
          }
          const r = Number(e.estimated_time_to_regain_access);
          if (Number.isFinite(r)) regainMinutes = Math.max(regainMinutes, r);
        }
      }
    } catch {
      // An unreadable usage header must not fail a page that succeeded.
    }
  }
  const throttle = header(headers, 'x-fb-ads-insights-throttle');
  if (throttle) {
    try {
      const t = JSON.parse(throttle) as Record<string, unknown>;
      for (const k of ['app_id_util_pct', 'acc_id_util_pct']) {
        const v = Number(t[k]);
        if (Number.isFinite(v)) pct = Math.max(pct, v);
      }
    } catch {
      // ignore, as above
    }
  }
  return { pct, regainMinutes };
}

/**
 * Meta Marketing API `act_<id>/insights` at campaign level, one row per campaign and day
 * (`time_increment=1`), paged with `after` cursors while `paging.next` is present. The `next`
 * URL itself is never followed: the host stays the configured one and the token is not copied
 * around. Metrics are strings; spend is in the account currency.
 */
export class MetaClient implements ProviderClient {
  readonly provider = 'meta_ads' as const;
  readonly windowDays = 7;
  /** A long-lived Meta token can only be exchanged while valid: renew it in its last week. */
  readonly refreshAheadMs = 7 * 86_400_000;

  constructor(
    private readonly http: ProviderHttp,
    private readonly cfg: MetaConfig,
  ) {}

  private get graph(): string {
    return `${this.cfg.baseUrl.replace(/\/$/, '')}/${this.cfg.version}`;
  }

  normalizeAccountId(accountId: string): string {
    const id = accountId.trim().replace(/^act_/, '');
    if (!/^\d{1,25}$/.test(id)) throw new Error('a Meta ad account id looks like act_1234567890');
    return `act_${id}`;
  }

  async fetchPage(req: PageRequest): Promise<PageResult> {
    const params = new URLSearchParams({
      access_token: req.accessToken,
      fields: META_FIELDS.join(','),
      level: 'campaign',
      time_range: JSON.stringify({ since: req.from, until: req.to }),
      time_increment: '1',
      limit: String(this.cfg.pageSize),
    });
    if (req.cursor) params.set('after', req.cursor);
    const res = await this.http.send(
      'meta_ads',
      { method: 'GET', url: `${this.graph}/${encodeURIComponent(req.accountId)}/insights?${params.toString()}` },
      req.stats,
    );
    this.raiseForStatus(res);
    const body = res.body as { data?: MetaInsight[]; paging?: { cursors?: { after?: string }; next?: string } } | undefined;
    if (!body || typeof body !== 'object' || !Array.isArray(body.data))
      throw new ProviderTransientError('meta_ads', 'insights answer has no data array', res.status);
    const actionTypes = Array.isArray(req.settings.conversion_action_types)
      ? (req.settings.conversion_action_types as string[])
      : DEFAULT_META_CONVERSION_ACTIONS;
    const currency = body.data.find((r) => r.account_currency)?.account_currency ?? req.currency ?? undefined;
    const rows = body.data.map((r) => this.normalize(r, currency, actionTypes));
    const after = body.paging?.cursors?.after;
    const usage = metaUsage(res.headers);
    let slowDownMs: number | undefined;
    if (usage.pct > this.cfg.usageThreshold)
      slowDownMs = usage.regainMinutes > 0 ? usage.regainMinutes * 60_000 : this.cfg.slowDownMs;
    return { rows, nextCursor: body.paging?.next && after ? after : null, currency, slowDownMs };
  }

  private normalize(r: MetaInsight, currency: string | undefined, actionTypes: string[]): NormalizedRow {
    if (!r.campaign_id || !r.date_start || !/^\d{4}-\d{2}-\d{2}$/.test(r.date_start))
      throw new ProviderTransientError('meta_ads', 'an insights row lacks campaign_id or date_start');
    if (!currency)
      throw new ProviderPermanentError('meta_ads', 'Meta did not report the account currency; set `currency` on the connection');
    const wanted = new Set(actionTypes);
    const sum = (list: MetaInsight['actions'], scale: number) =>
      (list ?? []).reduce((acc, a) => (a.action_type && wanted.has(a.action_type) ? acc + parseScaled(a.value, scale) : acc), 0n);
    return {
      date: r.date_start,
      campaignExternalId: r.campaign_id,
      campaignName: r.campaign_name ?? r.campaign_id,
      source: 'facebook',
      medium: 'paid_social',
      channel: 'Paid Social',
      impressions: toCount(r.impressions),
      clicks: toCount(r.clicks),
      spendMicros: toMicros(r.spend),
      currency,
      conversions: formatScaled(sum(r.actions, 6), 6),
      conversionValueMicros: sum(r.action_values, 6),
      sessions: 0,
      users: 0,
    };
  }

  private raiseForStatus(res: HttpResponse): void {
    const err = (res.body as { error?: MetaError } | undefined)?.error;
    if (res.status >= 200 && res.status < 300 && !err) return;
    const code = typeof err?.code === 'number' ? err.code : undefined;
    const detail = `Meta ${res.status}${code !== undefined ? ` code ${code}` : ''}${err?.error_subcode ? `/${err.error_subcode}` : ''}: ${err?.message ?? 'no message'}${err?.fbtrace_id ? ` (fbtrace_id ${err.fbtrace_id})` : ''}`;
    if (res.status === 429 || (code !== undefined && isMetaThrottleCode(code))) {
      const usage = metaUsage(res.headers);
      const wait = retryAfterMs(res.headers) ?? (usage.regainMinutes > 0 ? usage.regainMinutes * 60_000 : undefined);
      throw new ProviderRateLimitError('meta_ads', detail, res.status, code, wait);
    }
    if (res.status === 401 || code === 190 || code === 102) throw new ProviderAuthError('meta_ads', detail, res.status, code);
    if (res.status >= 500 || err?.is_transient || code === 1 || code === 2)
      throw new ProviderTransientError('meta_ads', detail, res.status, code);
    throw new ProviderPermanentError('meta_ads', detail, res.status, code);
  }

  /**
   * Meta has no refresh token: a long-lived user or system-user token is exchanged for a fresh
   * one (`grant_type=fb_exchange_token`) while it is still valid. Once it has expired, only
   * reconnecting helps.
   */
  async refresh(credentials: Credentials, stats: RequestStats): Promise<Credentials> {
    if (!credentials.client_id || !credentials.client_secret)
      throw new ProviderAuthError(
        'meta_ads',
        'the access token is invalid or expired and no client_id/client_secret were given to exchange it; reconnect the account',
        undefined,
        undefined,
        true,
      );
    const params = new URLSearchParams({
      grant_type: 'fb_exchange_token',
      client_id: credentials.client_id,
      client_secret: credentials.client_secret,
      fb_exchange_token: credentials.access_token,
    });
    const res = await this.http.send(
      'meta_ads',
      { method: 'GET', url: `${this.graph}/oauth/access_token?${params.toString()}` },
      stats,
    );
    return credentialsFromTokenAnswer('meta_ads', res, credentials);
  }
}
