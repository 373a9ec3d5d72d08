import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local fakes of the GA4 Data API, the Meta Marketing API and LinkedIn adAnalytics, speaking the
 * wire formats in ../shared/reference/providers.md: string metrics, GA4 offset/limit paging with
 * rowCount, Meta cursors with `paging.next`, LinkedIn Rest.li 2.0 without paging, their error
 * bodies, 429s, throttling headers, and OAuth token endpoints that refresh expired tokens.
 * One HTTP server serves all three under /ga4, /meta, /linkedin and /google (token endpoint).
 */

export type FakeProvider = 'ga4' | 'meta' | 'linkedin';

/** GA4 row as the fake stores it (already in wire form: strings). */
export interface Ga4FakeRow {
  date: string; // YYYYMMDD
  campaign: string;
  source: string;
  medium: string;
  channel: string;
  sessions: string;
  totalUsers: string;
  keyEvents: string;
  totalRevenue: string;
}

export interface MetaFakeRow {
  campaign_id: string;
  campaign_name: string;
  date: string; // YYYY-MM-DD
  impressions: string;
  clicks: string;
  spend: string;
  actions?: Array<{ action_type: string; value: string }>;
  action_values?: Array<{ action_type: string; value: string }>;
}

export interface LinkedInFakeRow {
  campaign_id: string;
  date: string; // YYYY-MM-DD
  impressions: number;
  clicks: number;
  /** Strings or numbers: LinkedIn's docs leave it open, the client accepts both. */
  costInLocalCurrency: string | number;
  externalWebsiteConversions: number;
  conversionValueInLocalCurrency?: string | number;
}

/** A scripted fault for the next matching data request. */
export type Fault =
  | { kind: '429'; retryAfterSeconds?: number }
  | { kind: '500' }
  | { kind: 'malformed' }
  | { kind: 'meta-throttle'; code: 17 | 613 | 80000 | 80004; regainMinutes?: number }
  | { kind: 'meta-usage'; pct: number; regainMinutes?: number }
  | { kind: 'expire-token' };

export interface RecordedRequest {
  provider: FakeProvider | 'google-token' | 'linkedin-token' | 'meta-token';
  method: string;
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
}

interface TokenState {
  /** Currently valid access tokens. */
  valid: Set<string>;
  refreshTokens: Set<string>;
  clientId: string;
  clientSecret: string;
}

const iso = (ymd: string) => `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;

export class FakeAnalyticsProviders {
  private server?: http.Server;
  baseUrl = '';
  readonly requests: RecordedRequest[] = [];

  ga4 = {
    currency: 'EUR',
    timeZone: 'Europe/Berlin',
    rows: new Map<string, Ga4FakeRow[]>(), // property id → rows
  };
  meta = {
    currency: 'USD',
    rows: new Map<string, MetaFakeRow[]>(), // act_… → rows
    /** Usage header sent with every successful answer (percent). */
    usagePct: 10,
  };
  linkedin = {
    currency: 'GBP',
    rows: new Map<string, LinkedInFakeRow[]>(), // sponsored account id → rows
    names: new Map<string, string>(), // campaign id → name
  };

  readonly faults: Record<FakeProvider, Fault[]> = { ga4: [], meta: [], linkedin: [] };
  /** Counts data requests per provider (token endpoints excluded). */
  readonly dataRequests: Record<FakeProvider, number> = { ga4: 0, meta: 0, linkedin: 0 };
  /** Inject faults only once this many data requests have been served (e.g. to fail mid-sync). */
  faultAfter: Record<FakeProvider, number> = { ga4: 0, meta: 0, linkedin: 0 };

  readonly tokens: Record<FakeProvider, TokenState> = {
    ga4: { valid: new Set(), refreshTokens: new Set(), clientId: 'google-client', clientSecret: 'google-secret' },
    meta: { valid: new Set(), refreshTokens: new Set(), clientId: 'meta-app', clientSecret: 'meta-secret' },
    linkedin: { valid: new Set(), refreshTokens: new Set(), clientId: 'li-client', clientSecret: 'li-secret' },
  };

  /** Issues a valid access token (and a refresh token) for a provider. */
  issueToken(provider: FakeProvider): { access_token: string; refresh_token: string; client_id: string; client_secret: string } {
    const t = this.tokens[provider];
    const access = `${provider}-at-${randomBytes(6).toString('hex')}`;
    const refresh = `${provider}-rt-${randomBytes(6).toString('hex')}`;
    t.valid.add(access);
    t.refreshTokens.add(refresh);
    return { access_token: access, refresh_token: refresh, client_id: t.clientId, client_secret: t.clientSecret };
  }

  /** Makes every current access token of the provider invalid (as if it expired). */
  expireTokens(provider: FakeProvider): void {
    this.tokens[provider].valid.clear();
  }

  inject(provider: FakeProvider, ...faults: Fault[]): void {
    this.faults[provider].push(...faults);
  }

  dataRequestsOf(provider: FakeProvider): RecordedRequest[] {
    return this.requests.filter((r) => r.provider === provider);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.handle(req, res, Buffer.concat(chunks).toString('utf8'));
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`fake crashed: ${(err as Error).message}`);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Environment for the app's config pointing every provider at this fake. */
  env(): Record<string, string> {
    return {
      GA4_API_BASE_URL: `${this.baseUrl}/ga4/v1beta`,
      GOOGLE_OAUTH_TOKEN_URL: `${this.baseUrl}/google/token`,
      META_GRAPH_BASE_URL: `${this.baseUrl}/meta`,
      META_GRAPH_VERSION: 'v26.0',
      LINKEDIN_API_BASE_URL: `${this.baseUrl}/linkedin/rest`,
      LINKEDIN_VERSION: '202606',
      LINKEDIN_OAUTH_TOKEN_URL: `${this.baseUrl}/linkedin/oauth/v2/accessToken`,
    };
  }

  // ---------------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const rawQuery = (req.url ?? '').split('?')[1] ?? '';
    let body: unknown = rawBody;
    if ((req.headers['content-type'] ?? '').includes('json') && rawBody) body = JSON.parse(rawBody);
    if ((req.headers['content-type'] ?? '').includes('x-www-form-urlencoded'))
      body = Object.fromEntries(new URLSearchParams(rawBody));
    const record: RecordedRequest = {
      provider: 'ga4',
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      rawQuery,
      headers: req.headers,
      body,
      status: 0,
    };
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      this.requests.push(record);
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    };

    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = /^\/ga4\/v1beta\/properties\/(\d+):runReport$/.exec(url.pathname))) {
      record.provider = 'ga4';
      return this.ga4Report(m[1], req, body as Record<string, unknown>, send);
    }
    if (req.method === 'POST' && url.pathname === '/google/token') {
      record.provider = 'google-token';
      return this.refreshGrant('ga4', body as Record<string, string>, send);
    }
    if (req.method === 'GET' && (m = /^\/meta\/(v\d+\.\d+)\/oauth\/access_token$/.exec(url.pathname))) {
      record.provider = 'meta-token';
      return this.metaExchange(url.searchParams, send);
    }
    if (req.method === 'GET' && (m = /^\/meta\/(v\d+\.\d+)\/(act_\d+)\/insights$/.exec(url.pathname))) {
      record.provider = 'meta';
      return this.metaInsights(m[2], url.searchParams, send);
    }
    if (req.method === 'POST' && url.pathname === '/linkedin/oauth/v2/accessToken') {
      record.provider = 'linkedin-token';
      return this.refreshGrant('linkedin', body as Record<string, string>, send);
    }
    if (req.method === 'GET' && url.pathname === '/linkedin/rest/adAnalytics') {
      record.provider = 'linkedin';
      return this.linkedinAnalytics(req, rawQuery, send);
    }
    if (req.method === 'GET' && (m = /^\/linkedin\/rest\/adAccounts\/(\d+)(?:\/adCampaigns\/(\d+))?$/.exec(url.pathname))) {
      record.provider = 'linkedin';
      if (!this.authorized('linkedin', req.headers.authorization))
        return send(401, {
          status: 401,
          serviceErrorCode: 65601,
          code: 'REVOKED_ACCESS_TOKEN',
          message: 'The token used in the request has been revoked',
        });
      if (m[2]) {
        const name = this.linkedin.names.get(m[2]);
        return name
          ? send(200, { id: Number(m[2]), name, account: `urn:li:sponsoredAccount:${m[1]}` })
          : send(404, { status: 404, code: 'NOT_FOUND', message: 'Not found' });
      }
      return send(200, { id: Number(m[1]), currency: this.linkedin.currency, name: 'Fake LinkedIn account' });
    }
    send(404, { error: `no fake route for ${req.method} ${url.pathname}` });
  }

  private bearer(header: string | undefined): string {
    return /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  }

  private authorized(provider: FakeProvider, authorization: string | undefined): boolean {
    return this.tokens[provider].valid.has(this.bearer(authorization));
  }

  /** Pops the next fault for a data request, if it is due. */
  private nextFault(provider: FakeProvider): Fault | undefined {
    this.dataRequests[provider] += 1;
    if (this.dataRequests[provider] <= this.faultAfter[provider]) return undefined;
    return this.faults[provider].shift();
  }

  private ga4Report(
    propertyId: string,
    req: http.IncomingMessage,
    body: Record<string, unknown>,
    send: (s: number, p: unknown, h?: Record<string, string>) => void,
  ): void {
    const fault = this.nextFault('ga4');
    if (fault?.kind === 'expire-token') this.expireTokens('ga4');
    if (!this.authorized('ga4', req.headers.authorization))
      return send(401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
      });
    if (fault?.kind === '429')
      return send(
        429,
        { error: { code: 429, message: 'Exhausted property tokens per hour.', status: 'RESOURCE_EXHAUSTED' } },
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      );
    if (fault?.kind === '500')
      return send(500, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } });
    if (fault?.kind === 'malformed') return send(200, '{"dimensionHeaders": [{"name": "date"}], "rows": [{"dimensionVal');
    const ranges = body.dateRanges as Array<{ startDate: string; endDate: string }>;
    const { startDate, endDate } = ranges[0];
    const limit = Number(body.limit ?? 10000);
    const offset = Number(body.offset ?? 0);
    const all = (this.ga4.rows.get(propertyId) ?? [])
      .filter((r) => iso(r.date) >= startDate && iso(r.date) <= endDate)
      .sort((a, b) =>
        `${a.date}\u0000${a.campaign}\u0000${a.source}\u0000${a.medium}`.localeCompare(
          `${b.date}\u0000${b.campaign}\u0000${b.source}\u0000${b.medium}`,
        ),
      );
    const page = all.slice(offset, offset + limit);
    const dims = (body.dimensions as Array<{ name: string }>).map((d) => d.name);
    const mets = (body.metrics as Array<{ name: string }>).map((d) => d.name);
    const dimValue = (r: Ga4FakeRow, name: string) =>
      ({
        date: r.date,
        sessionCampaignName: r.campaign,
        sessionSource: r.source,
        sessionMedium: r.medium,
        sessionDefaultChannelGroup: r.channel,
      })[name] ?? '';
    const metValue = (r: Ga4FakeRow, name: string) =>
      ({ sessions: r.sessions, totalUsers: r.totalUsers, keyEvents: r.keyEvents, totalRevenue: r.totalRevenue })[name] ?? '0';
    const answer: Record<string, unknown> = {
      dimensionHeaders: dims.map((name) => ({ name })),
      metricHeaders: mets.map((name) => ({ name, type: name === 'totalRevenue' ? 'TYPE_CURRENCY' : 'TYPE_INTEGER' })),
      rowCount: all.length,
      metadata: { currencyCode: this.ga4.currency, timeZone: this.ga4.timeZone },
      kind: 'analyticsData#runReport',
    };
    // Like GA4, an empty page has no `rows` key at all.
    if (page.length)
      answer.rows = page.map((r) => ({
        dimensionValues: dims.map((d) => ({ value: dimValue(r, d) })),
        metricValues: mets.map((mm) => ({ value: metValue(r, mm) })),
      }));
    send(200, answer);
  }

  private metaInsights(
    account: string,
    q: URLSearchParams,
    send: (s: number, p: unknown, h?: Record<string, string>) => void,
  ): void {
    const fault = this.nextFault('meta');
    if (fault?.kind === 'expire-token') this.expireTokens('meta');
    const usage = (pct: number, regain = 0) => ({
      'x-business-use-case-usage': JSON.stringify({
        '1234567890': [
          {
            type: 'ads_insights',
            call_count: pct,
            total_cputime: Math.floor(pct / 2),
            total_time: Math.floor(pct / 3),
            estimated_time_to_regain_access: regain,
          },
        ],
      }),
    });
    if (!this.tokens.meta.valid.has(q.get('access_token') ?? ''))
      return send(400, {
        error: {
          message: 'Error validating access token: Session has expired on Tuesday, 24-Nov-26 10:00:00 PST.',
          type: 'OAuthException',
          code: 190,
          error_subcode: 463,
          fbtrace_id: 'AbCdEfFake',
        },
      });
    if (fault?.kind === 'meta-throttle')
      return send(
        fault.code === 80000 || fault.code === 80004 ? 400 : 403,
        {
          error: {
            message: fault.code === 17 ? 'User request limit reached' : 'There have been too many calls to this ad-account.',
            type: 'OAuthException',
            code: fault.code,
            error_subcode: 2446079,
            fbtrace_id: 'AbCdEfFake',
          },
        },
        usage(100, fault.regainMinutes ?? 0),
      );
    if (fault?.kind === '429') return send(429, { error: { message: 'Too many requests', type: 'OAuthException', code: 4 } });
    if (fault?.kind === '500')
      return send(500, { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, is_transient: true } });
    if (fault?.kind === 'malformed')
      return send(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' });
    const range = JSON.parse(q.get('time_range') ?? '{}') as { since: string; until: string };
    const limit = Number(q.get('limit') ?? 25);
    const offset = q.get('after') ? Number(Buffer.from(q.get('after')!, 'base64').toString('utf8').replace('offset:', '')) : 0;
    const all = (this.meta.rows.get(account) ?? [])
      .filter((r) => r.date >= range.since && r.date <= range.until)
      .sort((a, b) => `${a.date}${a.campaign_id}`.localeCompare(`${b.date}${b.campaign_id}`));
    const page = all.slice(offset, offset + limit);
    const cursor = (n: number) => Buffer.from(`offset:${n}`).toString('base64');
    const paging: Record<string, unknown> = { cursors: { before: cursor(offset), after: cursor(offset + page.length) } };
    if (offset + page.length < all.length)
      paging.next = `https://graph.facebook.com/v26.0/${account}/insights?access_token=REDACTED&after=${cursor(offset + page.length)}`;
    const pct = fault?.kind === 'meta-usage' ? fault.pct : this.meta.usagePct;
    const regain = fault?.kind === 'meta-usage' ? (fault.regainMinutes ?? 0) : 0;
    send(
      200,
      {
        data: page.map((r) => ({
          account_id: account.replace('act_', ''),
          account_currency: this.meta.currency,
          campaign_id: r.campaign_id,
          campaign_name: r.campaign_name,
          impressions: r.impressions,
          clicks: r.clicks,
          spend: r.spend,
          ...(r.actions ? { actions: r.actions } : {}),
          ...(r.action_values ? { action_values: r.action_values } : {}),
          date_start: r.date,
          date_stop: r.date,
        })),
        paging,
      },
      usage(pct, regain),
    );
  }

  private linkedinAnalytics(
    req: http.IncomingMessage,
    rawQuery: string,
    send: (s: number, p: unknown, h?: Record<string, string>) => void,
  ): void {
    const fault = this.nextFault('linkedin');
    if (fault?.kind === 'expire-token') this.expireTokens('linkedin');
    if (!this.authorized('linkedin', req.headers.authorization))
      return send(401, { status: 401, serviceErrorCode: 65600, code: 'INVALID_ACCESS_TOKEN', message: 'Invalid access token' });
    if (req.headers['x-restli-protocol-version'] !== '2.0.0' || !/^\d{6}$/.test(String(req.headers['linkedin-version'])))
      return send(400, { status: 400, code: 'VERSION_MISSING', message: 'A version must be present' });
    if (fault?.kind === '429')
      return send(
        429,
        { status: 429, serviceErrorCode: 101, code: 'QUOTA_EXCEEDED', message: 'Resource level throttle limit exceeded' },
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      );
    if (fault?.kind === '500') return send(500, { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal Server Error' });
    if (fault?.kind === 'malformed') return send(200, '{"elements": [{"pivotValues": ["urn:li:sponsoredCampaign:1"');
    // Parse Rest.li 2.0: dateRange=(start:(year:Y,month:M,day:D),end:(…)) and accounts=List(urn%3A…).
    const params = new Map(rawQuery.split('&').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const dr = /^\(start:\(year:(\d+),month:(\d+),day:(\d+)\),end:\(year:(\d+),month:(\d+),day:(\d+)\)\)$/.exec(
      params.get('dateRange') ?? '',
    );
    const accounts = /^List\((.+)\)$/.exec(params.get('accounts') ?? '');
    if (
      params.get('q') !== 'analytics' ||
      params.get('pivot') !== 'CAMPAIGN' ||
      params.get('timeGranularity') !== 'DAILY' ||
      !dr ||
      !accounts
    )
      return send(400, { status: 400, code: 'ILLEGAL_ARGUMENT', message: 'Invalid query parameters' });
    const urn = decodeURIComponent(accounts[1]); // accept encoded or literal, as LinkedIn does
    const account = /^urn:li:sponsoredAccount:(\d+)$/.exec(urn)?.[1] ?? '';
    const d = (y: string, mo: string, da: string) => `${y}-${mo.padStart(2, '0')}-${da.padStart(2, '0')}`;
    const from = d(dr[1], dr[2], dr[3]);
    const to = d(dr[4], dr[5], dr[6]);
    const elements = (this.linkedin.rows.get(account) ?? [])
      .filter((r) => r.date >= from && r.date <= to)
      .map((r) => {
        const [y, mo, da] = r.date.split('-').map(Number);
        return {
          pivotValues: [`urn:li:sponsoredCampaign:${r.campaign_id}`],
          dateRange: { start: { year: y, month: mo, day: da }, end: { year: y, month: mo, day: da } },
          impressions: r.impressions,
          clicks: r.clicks,
          costInLocalCurrency: r.costInLocalCurrency,
          externalWebsiteConversions: r.externalWebsiteConversions,
          ...(r.conversionValueInLocalCurrency !== undefined
            ? { conversionValueInLocalCurrency: r.conversionValueInLocalCurrency }
            : {}),
        };
      });
    send(200, { paging: { start: 0, count: 10, links: [] }, elements });
  }

  private refreshGrant(provider: 'ga4' | 'linkedin', form: Record<string, string>, send: (s: number, p: unknown) => void): void {
    const t = this.tokens[provider];
    if (form.grant_type !== 'refresh_token') return send(400, { error: 'unsupported_grant_type' });
    if (form.client_id !== t.clientId || form.client_secret !== t.clientSecret)
      return send(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    if (!t.refreshTokens.has(form.refresh_token))
      return send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const access = `${provider}-at-${randomBytes(6).toString('hex')}`;
    t.valid.add(access);
    if (provider === 'linkedin') {
      // LinkedIn rotates refresh tokens in this fake (its docs allow either behaviour).
      const refresh = `${provider}-rt-${randomBytes(6).toString('hex')}`;
      t.refreshTokens.delete(form.refresh_token);
      t.refreshTokens.add(refresh);
      return send(200, {
        access_token: access,
        expires_in: 5_184_000,
        refresh_token: refresh,
        refresh_token_expires_in: 31_536_000,
      });
    }
    send(200, {
      access_token: access,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/analytics.readonly',
      token_type: 'Bearer',
    });
  }

  private metaExchange(q: URLSearchParams, send: (s: number, p: unknown) => void): void {
    const t = this.tokens.meta;
    if (
      q.get('grant_type') !== 'fb_exchange_token' ||
      q.get('client_id') !== t.clientId ||
      q.get('client_secret') !== t.clientSecret
    )
      return send(400, {
        error: { message: 'Error validating client secret.', type: 'OAuthException', code: 1, fbtrace_id: 'Fake' },
      });
    // Meta only exchanges a token that is still exchangeable; this fake keeps every token it ever
    // issued exchangeable (the expired one is presented), so the refresh path can be exercised.
    if (!(q.get('fb_exchange_token') ?? '').startsWith('meta-at-'))
      return send(400, {
        error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190, fbtrace_id: 'Fake' },
      });
    const access = `meta-at-${randomBytes(6).toString('hex')}`;
    t.valid.add(access);
    send(200, { access_token: access, token_type: 'bearer', expires_in: 5_183_944 });
  }
}
