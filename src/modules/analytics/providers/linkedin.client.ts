import { formatScaled, parseScaled, toCount, toMicros } from '../money';
import { refreshWithRefreshToken } from './oauth';
import type { Credentials, NormalizedRow, PageRequest, PageResult, ProviderClient } from './provider-client';
import {
  ProviderAuthError,
  ProviderError,
  ProviderPermanentError,
  ProviderRateLimitError,
  ProviderTransientError,
} from './provider-errors';
import { retryAfterMs, type HttpResponse, type ProviderHttp, type RequestStats } from './provider-http';

export interface LinkedInConfig {
  baseUrl: string; // LINKEDIN_API_BASE_URL, e.g. https://api.linkedin.com/rest
  version: string; // LINKEDIN_VERSION, YYYYMM
  tokenUrl: string; // LINKEDIN_OAUTH_TOKEN_URL
}

/**
 * Fields asked of adAnalytics. `conversionValueInLocalCurrency` is not in our provider notes [U]
 * but is a documented adAnalytics metric; when absent the conversion value is 0.
 */
export const LINKEDIN_FIELDS = [
  'dateRange',
  'pivotValues',
  'impressions',
  'clicks',
  'costInLocalCurrency',
  'externalWebsiteConversions',
  'conversionValueInLocalCurrency',
];

/** Most campaign names looked up per page (names of older campaigns come from stored rows). */
const MAX_NAME_LOOKUPS = 100;

interface LinkedInDate {
  year?: number;
  month?: number;
  day?: number;
}
interface LinkedInElement {
  pivotValues?: string[];
  dateRange?: { start?: LinkedInDate; end?: LinkedInDate };
  impressions?: number | string;
  clicks?: number | string;
  costInLocalCurrency?: number | string;
  externalWebsiteConversions?: number | string;
  conversionValueInLocalCurrency?: number | string;
}

/** Rest.li 2.0 value encoding: reserved characters inside a value are percent-encoded. */
export function restliEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function restliDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `(year:${y},month:${m},day:${d})`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `urn:li:sponsoredCampaign:123` (literal or percent-encoded) → `123`. */
export function campaignIdFromUrn(urn: string): string {
  const decoded = urn.includes('%') ? decodeURIComponent(urn) : urn;
  const m = /^urn:li:sponsoredCampaign:(\d+)$/.exec(decoded);
  if (!m) throw new ProviderTransientError('linkedin_ads', `unexpected pivot value ${JSON.stringify(decoded).slice(0, 60)}`);
  return m[1];
}

/**
 * LinkedIn Marketing API `adAnalytics` (finder `analytics`, pivot CAMPAIGN, DAILY), Rest.li 2.0.
 * No pagination: one answer per window. Analytics carry campaign URNs only, so names come from
 * `adAccounts/{id}/adCampaigns/{id}` (cached; on failure the id stands in for the name), and the
 * account currency from `adAccounts/{id}` when it is not known yet.
 */
export class LinkedInClient implements ProviderClient {
  readonly provider = 'linkedin_ads' as const;
  readonly windowDays = 7;
  /** LinkedIn access tokens live 60 days; refresh in the last two minutes. */
  readonly refreshAheadMs = 120_000;

  constructor(
    private readonly http: ProviderHttp,
    private readonly cfg: LinkedInConfig,
  ) {}

  private get base(): string {
    return this.cfg.baseUrl.replace(/\/$/, '');
  }

  private headers(token: string): Record<string, string> {
    return {
      authorization: `Bearer ${token}`,
      'linkedin-version': this.cfg.version,
      'x-restli-protocol-version': '2.0.0',
    };
  }

  normalizeAccountId(accountId: string): string {
    const id = accountId.trim().replace(/^urn:li:sponsoredAccount:/, '');
    if (!/^\d{1,20}$/.test(id)) throw new Error('a LinkedIn sponsored account id is numeric, e.g. 507404993');
    return id;
  }

  async fetchPage(req: PageRequest): Promise<PageResult> {
    const currency = req.currency ?? (await this.accountCurrency(req));
    const query = [
      'q=analytics',
      'pivot=CAMPAIGN',
      'timeGranularity=DAILY',
      `dateRange=(start:${restliDate(req.from)},end:${restliDate(req.to)})`,
      `accounts=List(${restliEncode(`urn:li:sponsoredAccount:${req.accountId}`)})`,
      `fields=${LINKEDIN_FIELDS.join(',')}`,
    ].join('&');
    const res = await this.http.send(
      'linkedin_ads',
      { method: 'GET', url: `${this.base}/adAnalytics?${query}`, headers: this.headers(req.accessToken) },
      req.stats,
    );
    this.raiseForStatus(res);
    const elements = (res.body as { elements?: LinkedInElement[] } | undefined)?.elements;
    if (!Array.isArray(elements))
      throw new ProviderTransientError('linkedin_ads', 'adAnalytics answer has no elements array', res.status);
    const parsed = elements.map((e) => ({ e, id: campaignIdFromUrn(e.pivotValues?.[0] ?? '') }));
    await this.lookUpNames(
      req,
      parsed.map((p) => p.id),
    );
    const rows: NormalizedRow[] = parsed.map(({ e, id }) => {
      const s = e.dateRange?.start;
      if (!s?.year || !s.month || !s.day)
        throw new ProviderTransientError('linkedin_ads', 'an adAnalytics element lacks dateRange.start');
      return {
        date: `${s.year}-${pad(s.month)}-${pad(s.day)}`,
        campaignExternalId: id,
        campaignName: req.campaignNames.get(id) ?? id,
        source: 'linkedin',
        medium: 'paid_social',
        channel: 'Paid Social',
        impressions: toCount(e.impressions),
        clicks: toCount(e.clicks),
        // Strings or numbers [U]: parseScaled accepts both.
        spendMicros: toMicros(e.costInLocalCurrency),
        currency,
        conversions: formatScaled(parseScaled(e.externalWebsiteConversions, 6), 6),
        conversionValueMicros: toMicros(e.conversionValueInLocalCurrency),
        sessions: 0,
        users: 0,
      };
    });
    return { rows, nextCursor: null, currency };
  }

  private async accountCurrency(req: PageRequest): Promise<string> {
    const res = await this.http.send(
      'linkedin_ads',
      {
        method: 'GET',
        url: `${this.base}/adAccounts/${encodeURIComponent(req.accountId)}`,
        headers: this.headers(req.accessToken),
      },
      req.stats,
    );
    this.raiseForStatus(res);
    const currency = (res.body as { currency?: unknown } | undefined)?.currency;
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
      throw new ProviderPermanentError(
        'linkedin_ads',
        'LinkedIn did not report the account currency; set `currency` on the connection',
      );
    return currency;
  }

  private async lookUpNames(req: PageRequest, ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !req.campaignNames.has(id)).slice(0, MAX_NAME_LOOKUPS);
    for (const id of missing) {
      try {
        const res = await this.http.send(
          'linkedin_ads',
          {
            method: 'GET',
            url: `${this.base}/adAccounts/${encodeURIComponent(req.accountId)}/adCampaigns/${encodeURIComponent(id)}`,
            headers: this.headers(req.accessToken),
          },
          req.stats,
        );
        if (res.status === 401) this.raiseForStatus(res);
        const name = (res.body as { name?: unknown } | undefined)?.name;
        if (res.status === 200 && typeof name === 'string' && name.trim()) req.campaignNames.set(id, name);
      } catch (err) {
        // A missing name is cosmetic (the id stands in) — except an expired token, which the
        // caller must see to refresh.
        if (err instanceof ProviderAuthError) throw err;
        if (!(err instanceof ProviderError)) throw err;
        return;
      }
    }
  }

  private raiseForStatus(res: HttpResponse): void {
    if (res.status >= 200 && res.status < 300) return;
    const body = (res.body ?? {}) as { message?: string; serviceErrorCode?: number; code?: string };
    const detail = `LinkedIn ${res.status}${body.code ? ` ${body.code}` : ''}: ${body.message ?? 'no message'}`;
    if (res.status === 429)
      throw new ProviderRateLimitError('linkedin_ads', detail, 429, body.serviceErrorCode, retryAfterMs(res.headers));
    if (res.status === 401) throw new ProviderAuthError('linkedin_ads', detail, 401, body.serviceErrorCode);
    if (res.status >= 500 || res.status === 408)
      throw new ProviderTransientError('linkedin_ads', detail, res.status, body.serviceErrorCode);
    throw new ProviderPermanentError('linkedin_ads', detail, res.status, body.serviceErrorCode);
  }

  refresh(credentials: Credentials, stats: RequestStats): Promise<Credentials> {
    return refreshWithRefreshToken(this.http, 'linkedin_ads', this.cfg.tokenUrl, credentials, stats);
  }
}
