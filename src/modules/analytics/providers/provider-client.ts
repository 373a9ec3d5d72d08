import type { AnalyticsProvider } from '../../../db/schema/analytics';
import type { RequestStats } from './provider-http';

/** One normalised `ad_metrics_daily` row as a provider client produces it. */
export interface NormalizedRow {
  date: string; // YYYY-MM-DD
  campaignExternalId: string;
  campaignName: string;
  source: string;
  medium: string;
  channel: string;
  impressions: number;
  clicks: number;
  spendMicros: bigint;
  currency: string;
  /** Exact decimal string with up to 6 decimals. */
  conversions: string;
  conversionValueMicros: bigint;
  sessions: number;
  users: number;
}

/** What the sync engine stores encrypted for a connection (the API's `credentials` object). */
export interface Credentials {
  access_token: string;
  refresh_token?: string;
  client_id?: string;
  client_secret?: string;
  /** ISO 8601 expiry of the access token, when known. */
  expires_at?: string;
}

export interface PageRequest {
  accountId: string;
  accessToken: string;
  from: string;
  to: string;
  /** Page position inside the window (GA4 offset, Meta `after` cursor); null = first page. */
  cursor: string | null;
  /** Account currency when already known (used when the provider's rows do not carry one). */
  currency: string | null;
  settings: Record<string, unknown>;
  stats: RequestStats;
  /** Campaign id → name learned so far (LinkedIn analytics carry ids only). */
  campaignNames: Map<string, string>;
}

export interface PageResult {
  rows: NormalizedRow[];
  nextCursor: string | null;
  /** Account metadata learned from the answer (GA4 metadata, Meta account_currency). */
  currency?: string;
  timeZone?: string;
  /** Usage is high (Meta X-Business-Use-Case-Usage): wait this long before the next request. */
  slowDownMs?: number;
}

export interface ProviderClient {
  readonly provider: AnalyticsProvider;
  /** Days fetched per window: the unit whose stale rows are cleaned up once it completes. */
  readonly windowDays: number;
  /** How long before `expires_at` the access token is refreshed. */
  readonly refreshAheadMs: number;
  /** Checks and canonicalises the account id a user typed ("act_123", "properties/123"…). */
  normalizeAccountId(accountId: string): string;
  fetchPage(req: PageRequest): Promise<PageResult>;
  /** Obtains a fresh access token; throws ProviderAuthError(final) when that is impossible. */
  refresh(credentials: Credentials, stats: RequestStats): Promise<Credentials>;
}
