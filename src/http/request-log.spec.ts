import { describe, expect, it } from 'vitest';
import { loggableUrl } from './request-log';

describe('loggableUrl', () => {
  it('redacts the values of token-like query parameters and keeps the rest', () => {
    expect(loggableUrl('/api/v1/capture?key=sb_pk_abc_def&utm_source=google')).toBe(
      '/api/v1/capture?key=[redacted]&utm_source=google',
    );
    expect(loggableUrl('/u/unsubscribe?token=eyJhbGciOi&x=1')).toBe('/u/unsubscribe?token=[redacted]&x=1');
    expect(loggableUrl('/cb?access_token=a&Signature=b&api%5Fkey=c&flag')).toBe(
      '/cb?access_token=[redacted]&Signature=[redacted]&api%5Fkey=[redacted]&flag',
    );
  });

  it('leaves URLs without a query alone', () => {
    expect(loggableUrl('/api/v1/leads/0190aaaa')).toBe('/api/v1/leads/0190aaaa');
  });
});
