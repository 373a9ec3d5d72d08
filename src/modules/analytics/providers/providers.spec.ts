import { describe, expect, it } from 'vitest';
import { ga4Date } from './ga4.client';
import { campaignIdFromUrn, restliDate, restliEncode } from './linkedin.client';
import { isMetaThrottleCode, metaUsage } from './meta.client';
import { credentialsFromTokenAnswer } from './oauth';
import {
  ProviderAuthError,
  ProviderPermanentError,
  ProviderRateLimitError,
  ProviderTransientError,
  QuotaStop,
} from './provider-errors';
import { retryAfterMs, scrub, withRetries } from './provider-http';

describe('provider wire details', () => {
  it('reads GA4 dates in YYYYMMDD (and YYYY-MM-DD) form', () => {
    expect(ga4Date('20261008')).toBe('2026-10-08');
    expect(ga4Date('2026-10-08')).toBe('2026-10-08');
    expect(() => ga4Date('Oct 8')).toThrow(ProviderTransientError);
  });

  it('encodes Rest.li 2.0 values and accepts encoded or literal URNs', () => {
    expect(restliEncode('urn:li:sponsoredAccount:123')).toBe('urn%3Ali%3AsponsoredAccount%3A123');
    expect(restliDate('2026-10-01')).toBe('(year:2026,month:10,day:1)');
    expect(campaignIdFromUrn('urn:li:sponsoredCampaign:42')).toBe('42');
    expect(campaignIdFromUrn('urn%3Ali%3AsponsoredCampaign%3A42')).toBe('42');
    expect(() => campaignIdFromUrn('urn:li:sponsoredCreative:1')).toThrow(ProviderTransientError);
  });

  it('knows Meta throttling codes and reads X-Business-Use-Case-Usage', () => {
    for (const c of [4, 17, 32, 613, 80000, 80004]) expect(isMetaThrottleCode(c)).toBe(true);
    for (const c of [1, 100, 190, 80015]) expect(isMetaThrottleCode(c)).toBe(false);
    const usage = metaUsage({
      'x-business-use-case-usage': JSON.stringify({
        '123': [{ type: 'ads_insights', call_count: 28, total_cputime: 97, total_time: 40, estimated_time_to_regain_access: 0 }],
        '456': [{ type: 'ads_management', call_count: 5, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: 12 }],
      }),
    });
    expect(usage).toEqual({ pct: 97, regainMinutes: 12 });
    expect(metaUsage({ 'x-fb-ads-insights-throttle': '{"app_id_util_pct": 99.5, "acc_id_util_pct": 3}' }).pct).toBe(99.5);
    expect(metaUsage({ 'x-business-use-case-usage': 'not json' })).toEqual({ pct: 0, regainMinutes: 0 });
  });

  it('never lets a token through in an error message', () => {
    expect(scrub('GET https://graph.facebook.com/v26.0/act_1/insights?access_token=EAAB123&after=x failed')).toBe(
      'GET https://graph.facebook.com/v26.0/act_1/insights?access_token=[redacted]&after=x failed',
    );
    expect(scrub('fb_exchange_token=abc client_secret=s3cr3t')).toBe('fb_exchange_token=[redacted] client_secret=[redacted]');
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '30' })).toBe(30_000);
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(retryAfterMs({ 'retry-after': 'Thu, 26 Nov 2026 12:01:00 GMT' }, now)).toBe(60_000);
    expect(retryAfterMs({})).toBeUndefined();
  });

  it('maps token endpoint answers: new token, kept refresh token, refusal is final', () => {
    const prev = { access_token: 'old', refresh_token: 'rt', client_id: 'c', client_secret: 's' };
    const now = Date.parse('2026-11-26T12:00:00Z');
    expect(
      credentialsFromTokenAnswer('ga4', { status: 200, headers: {}, body: { access_token: 'new', expires_in: 3599 } }, prev, now),
    ).toEqual({
      ...prev,
      access_token: 'new',
      expires_at: '2026-11-26T12:59:59.000Z',
    });
    try {
      credentialsFromTokenAnswer(
        'ga4',
        { status: 400, headers: {}, body: { error: 'invalid_grant', error_description: 'revoked' } },
        prev,
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderAuthError);
      expect((err as ProviderAuthError).final).toBe(true);
      expect((err as Error).message).toContain('invalid_grant: revoked');
      expect((err as Error).message).not.toContain('rt');
    }
    expect(() => credentialsFromTokenAnswer('ga4', { status: 503, headers: {}, body: undefined }, prev)).toThrow(
      ProviderTransientError,
    );
  });
});

describe('withRetries', () => {
  const policy = (sleeps: number[]) => ({
    attempts: 3,
    baseMs: 100,
    maxMs: 1_000,
    quotaPauseMs: 60_000,
    sleep: async (ms: number) => void sleeps.push(ms),
    now: () => 1_000_000,
  });

  it('retries transient faults and rate limits with jittered exponential backoff', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const out = await withRetries(async () => {
      calls += 1;
      if (calls === 1) throw new ProviderTransientError('ga4', '500');
      if (calls === 2) throw new ProviderRateLimitError('ga4', '429', 429, undefined);
      return 'ok';
    }, policy(sleeps));
    expect(out).toBe('ok');
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('honours Retry-After, and turns a long one or exhausted attempts into a QuotaStop', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await withRetries(async () => {
      if (++calls === 1) throw new ProviderRateLimitError('meta_ads', '429', 429, 4, 700);
      return 1;
    }, policy(sleeps));
    expect(sleeps).toEqual([700]);
    await expect(
      withRetries(async () => {
        throw new ProviderRateLimitError('meta_ads', 'busy', 400, 80004, 30 * 60_000);
      }, policy([])),
    ).rejects.toMatchObject({ name: 'QuotaStop', resumeAt: new Date(1_000_000 + 30 * 60_000) });
    const stop = await withRetries(async () => {
      throw new ProviderRateLimitError('ga4', 'RESOURCE_EXHAUSTED', 429, undefined);
    }, policy([])).catch((e: unknown) => e);
    expect(stop).toBeInstanceOf(QuotaStop);
    expect((stop as QuotaStop).resumeAt.getTime()).toBe(1_000_000 + 60_000);
  });

  it('does not retry permanent errors and rethrows a persistent transient fault', async () => {
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls += 1;
        throw new ProviderPermanentError('ga4', 'forbidden', 403);
      }, policy([])),
    ).rejects.toBeInstanceOf(ProviderPermanentError);
    expect(calls).toBe(1);
    await expect(
      withRetries(async () => {
        throw new ProviderTransientError('ga4', 'malformed JSON');
      }, policy([])),
    ).rejects.toBeInstanceOf(ProviderTransientError);
  });
});
