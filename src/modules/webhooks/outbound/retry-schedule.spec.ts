import { describe, expect, it } from 'vitest';
import {
  AUTO_DISABLE_AFTER_MS,
  MAX_ATTEMPTS,
  RETRY_SCHEDULE_MS,
  endpointHealthAfter,
  nextStep,
  parseRetryAfter,
  withJitter,
  type Clock,
} from './retry-schedule';

const T0 = Date.UTC(2026, 0, 1);
const clockAt = (ms: number): Clock => ({ now: () => ms });
const noJitter = () => 0.5; // factor 1

describe('retry schedule', () => {
  it('follows the Svix schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(RETRY_SCHEDULE_MS).toEqual([0, 5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]);
    expect(MAX_ATTEMPTS).toBe(8);
    const delays: number[] = [];
    let attempt = 1;
    for (;;) {
      const step = nextStep(attempt, { status: 500 }, clockAt(T0), noJitter);
      if (step.kind !== 'retry') {
        expect(step.kind).toBe('exhausted');
        break;
      }
      delays.push(step.delayMs);
      expect(step.at).toBe(T0 + step.delayMs);
      attempt = step.attempt;
    }
    expect(delays).toEqual(RETRY_SCHEDULE_MS.slice(1));
    expect(attempt).toBe(8);
  });

  it('applies ±20 % jitter', () => {
    expect(withJitter(300_000, () => 0)).toBe(240_000);
    expect(withJitter(300_000, () => 0.999999)).toBeLessThanOrEqual(360_000);
    expect(withJitter(300_000, () => 0.999999)).toBeGreaterThan(359_000);
    expect(withJitter(0, () => 0)).toBe(0);
    const seen = new Set(Array.from({ length: 50 }, () => withJitter(5_000)));
    expect(seen.size).toBeGreaterThan(1);
    for (const d of seen) expect(d).toBeGreaterThanOrEqual(4_000);
  });

  it('delivered on 2xx, gone on 410, retried on other statuses and on no answer', () => {
    expect(nextStep(1, { status: 204 }).kind).toBe('delivered');
    expect(nextStep(3, { status: 410 }).kind).toBe('gone');
    for (const status of [null, 302, 400, 404, 500, 502]) expect(nextStep(1, { status }).kind).toBe('retry');
  });

  it('row 17: honours Retry-After on 429 and 503 (seconds or HTTP date), never less than the schedule', () => {
    const step = nextStep(2, { status: 503, retryAfter: '3600' }, clockAt(T0), noJitter);
    expect(step).toMatchObject({ kind: 'retry', delayMs: 3_600_000, honouredRetryAfter: true, at: T0 + 3_600_000 });
    const date = new Date(T0 + 90 * 60_000).toUTCString();
    expect(nextStep(2, { status: 429, retryAfter: date }, clockAt(T0), noJitter)).toMatchObject({ delayMs: 90 * 60_000 });
    // Asking for less than the schedule does not hurry the retry.
    expect(nextStep(2, { status: 429, retryAfter: '1' }, clockAt(T0), noJitter)).toMatchObject({
      delayMs: 300_000,
      honouredRetryAfter: false,
    });
    // Retry-After on other statuses is ignored.
    expect(nextStep(2, { status: 500, retryAfter: '3600' }, clockAt(T0), noJitter)).toMatchObject({ delayMs: 300_000 });
  });

  it('parses Retry-After defensively and clamps it to 24 h', () => {
    expect(parseRetryAfter('120', T0)).toBe(120_000);
    expect(parseRetryAfter('99999999', T0)).toBe(24 * 3_600_000);
    expect(parseRetryAfter(new Date(T0 - 5000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(undefined, T0)).toBeUndefined();
    expect(parseRetryAfter('-5', T0)).toBeUndefined();
  });

  it('row 18: five days of continuous failure disable an endpoint; a success resets the clock', () => {
    let health = endpointHealthAfter({ failingSince: null }, { status: 503 }, clockAt(T0));
    expect(health).toEqual({ failingSince: T0, disable: false });
    health = endpointHealthAfter(health, { status: null }, clockAt(T0 + AUTO_DISABLE_AFTER_MS - 1));
    expect(health.disable).toBe(false);
    const reset = endpointHealthAfter(health, { status: 200 }, clockAt(T0 + AUTO_DISABLE_AFTER_MS - 1));
    expect(reset).toEqual({ failingSince: null, disable: false });
    const disabled = endpointHealthAfter(health, { status: 500 }, clockAt(T0 + AUTO_DISABLE_AFTER_MS));
    expect(disabled).toEqual({ failingSince: T0, disable: true, reason: 'failing' });
  });

  it('row 17: a 410 disables at once', () => {
    expect(endpointHealthAfter({ failingSince: null }, { status: 410 }, clockAt(T0))).toEqual({
      failingSince: T0,
      disable: true,
      reason: 'gone',
    });
  });
});
