import type { AnalyticsProvider } from '../../../db/schema/analytics';
import type { Credentials } from './provider-client';
import { ProviderAuthError, ProviderRateLimitError, ProviderTransientError } from './provider-errors';
import { retryAfterMs, type HttpResponse, type ProviderHttp, type RequestStats } from './provider-http';

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Maps a token endpoint answer to new credentials, or to the error a refresh must raise. */
export function credentialsFromTokenAnswer(
  provider: AnalyticsProvider,
  res: HttpResponse,
  previous: Credentials,
  now = Date.now(),
): Credentials {
  if (res.status === 429)
    throw new ProviderRateLimitError(provider, 'token endpoint rate limited', 429, undefined, retryAfterMs(res.headers));
  if (res.status >= 500) throw new ProviderTransientError(provider, `token endpoint answered ${res.status}`, res.status);
  const body = (res.body ?? {}) as TokenAnswer & { error?: { message?: unknown; code?: unknown } | string };
  if (res.status >= 400 || typeof body.access_token !== 'string' || !body.access_token) {
    const err = body.error;
    const detail =
      typeof err === 'string'
        ? `${err}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`
        : typeof err === 'object' && err && typeof err.message === 'string'
          ? err.message
          : `status ${res.status}`;
    throw new ProviderAuthError(
      provider,
      `token refresh refused (${detail}); reconnect the account`,
      res.status,
      undefined,
      true,
    );
  }
  const expiresIn = Number(body.expires_in);
  return {
    ...previous,
    access_token: body.access_token,
    // Google and LinkedIn may rotate the refresh token; keep the old one when they do not.
    refresh_token: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : previous.refresh_token,
    expires_at: Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(now + expiresIn * 1000).toISOString() : undefined,
  };
}

/**
 * The OAuth 2.0 refresh_token grant (RFC 6749 §6), form-encoded, with the client credentials
 * in the body — as Google's and LinkedIn's token endpoints accept it.
 */
export async function refreshWithRefreshToken(
  http: ProviderHttp,
  provider: AnalyticsProvider,
  tokenUrl: string,
  credentials: Credentials,
  stats: RequestStats,
): Promise<Credentials> {
  if (!credentials.refresh_token || !credentials.client_id || !credentials.client_secret)
    throw new ProviderAuthError(
      provider,
      'the access token expired and no refresh_token, client_id and client_secret were given; reconnect the account',
      undefined,
      undefined,
      true,
    );
  const res = await http.send(
    provider,
    {
      method: 'POST',
      url: tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credentials.refresh_token,
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
      }).toString(),
    },
    stats,
  );
  return credentialsFromTokenAnswer(provider, res, credentials);
}
