import type { AppConfig } from '../../../config/config';
import type { AnalyticsProvider } from '../../../db/schema/analytics';
import { Ga4Client } from './ga4.client';
import { LinkedInClient } from './linkedin.client';
import { MetaClient } from './meta.client';
import type { ProviderClient } from './provider-client';
import { ProviderHttp } from './provider-http';

export interface ProviderRegistryOptions {
  /** Rows per GA4 page (max 250,000) and Meta page; defaults 10,000 and 500. */
  ga4PageSize?: number;
  metaPageSize?: number;
}

/** The three provider clients, configured once from the environment (never from a request). */
export class ProviderRegistry {
  readonly http: ProviderHttp;
  private readonly clients: Record<AnalyticsProvider, ProviderClient>;

  constructor(config: AppConfig, opts: ProviderRegistryOptions = {}) {
    this.http = new ProviderHttp(config.ANALYTICS_HTTP_TIMEOUT_MS);
    this.clients = {
      ga4: new Ga4Client(this.http, {
        baseUrl: config.GA4_API_BASE_URL,
        tokenUrl: config.GOOGLE_OAUTH_TOKEN_URL,
        pageSize: opts.ga4PageSize ?? 10_000,
      }),
      meta_ads: new MetaClient(this.http, {
        baseUrl: config.META_GRAPH_BASE_URL,
        version: config.META_GRAPH_VERSION,
        pageSize: opts.metaPageSize ?? 500,
        usageThreshold: config.ANALYTICS_META_USAGE_THRESHOLD,
        slowDownMs: config.ANALYTICS_RETRY_MAX_MS,
      }),
      linkedin_ads: new LinkedInClient(this.http, {
        baseUrl: config.LINKEDIN_API_BASE_URL,
        version: config.LINKEDIN_VERSION,
        tokenUrl: config.LINKEDIN_OAUTH_TOKEN_URL,
      }),
    };
  }

  get(provider: AnalyticsProvider): ProviderClient {
    return this.clients[provider];
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
