import type { AnalyticsProvider } from '../../../db/schema/analytics';

/** Removes token-looking query values from a message (Meta's token travels in the URL). */
export function scrub(message: string): string {
  return message.replace(/((?:access_token|fb_exchange_token|client_secret|refresh_token)=)[^&\s"']+/gi, '$1[redacted]');
}

/** A provider answered with an error (or not at all). Messages are scrubbed of tokens. */
export class ProviderError extends Error {
  constructor(
    readonly provider: AnalyticsProvider,
    message: string,
    readonly status?: number,
    readonly providerCode?: string | number,
  ) {
    super(scrub(message));
    this.name = 'ProviderError';
  }
}

/** 429 or a provider throttling code: back off; if it persists, checkpoint and resume later. */
export class ProviderRateLimitError extends ProviderError {
  constructor(
    provider: AnalyticsProvider,
    message: string,
    status: number | undefined,
    providerCode: string | number | undefined,
    /** How long the provider asked us to wait, when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(provider, message, status, providerCode);
    this.name = 'ProviderRateLimitError';
  }
}

/** The access token is expired or invalid: refresh it (once) and retry. */
export class ProviderAuthError extends ProviderError {
  constructor(
    provider: AnalyticsProvider,
    message: string,
    status?: number,
    providerCode?: string | number,
    /** True when refreshing cannot help (no refresh token, refresh refused). */
    readonly final = false,
  ) {
    super(provider, message, status, providerCode);
    this.name = 'ProviderAuthError';
  }
}

/** 5xx, a network failure, a timeout or a body that is not the JSON we expect: retry with backoff. */
export class ProviderTransientError extends ProviderError {
  constructor(provider: AnalyticsProvider, message: string, status?: number, providerCode?: string | number) {
    super(provider, message, status, providerCode);
    this.name = 'ProviderTransientError';
  }
}

/** Any other 4xx: retrying the same request will not help. */
export class ProviderPermanentError extends ProviderError {
  constructor(provider: AnalyticsProvider, message: string, status?: number, providerCode?: string | number) {
    super(provider, message, status, providerCode);
    this.name = 'ProviderPermanentError';
  }
}

/** Raised when rate limiting outlasts the retries: the sync checkpoints and resumes at `resumeAt`. */
export class QuotaStop extends Error {
  constructor(
    readonly resumeAt: Date,
    readonly reason: string,
  ) {
    super(`Provider quota exhausted: ${reason}; resuming at ${resumeAt.toISOString()}`);
    this.name = 'QuotaStop';
  }
}
