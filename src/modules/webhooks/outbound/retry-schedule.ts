/**
 * Outbound retry policy, as pure functions of (attempt, answer, clock, randomness) so every rule
 * is unit-tested without sleeping.
 *
 * Schedule (Svix's): the first attempt immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
 * after each failure — 8 attempts over about 28 hours — each delay with ±20 % jitter so a
 * receiver that comes back is not hit by every queued message in the same second.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length;
export const JITTER_RATIO = 0.2;
/** A Retry-After longer than this is clamped (a receiver cannot park a message for weeks). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** Continuous failure for this long disables an endpoint (Svix: 5 days). */
export const AUTO_DISABLE_AFTER_MS = 5 * 24 * 3_600_000;

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Applies ±JITTER_RATIO jitter; `random` returns [0, 1). */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  if (delayMs <= 0) return 0;
  const factor = 1 + (random() * 2 - 1) * JITTER_RATIO;
  return Math.round(delayMs * factor);
}

/**
 * Parses `Retry-After` (RFC 9110: delay-seconds or an HTTP-date) into milliseconds from now.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date always names a weekday/month ("Wed, 21 Oct 2015 07:28:00 GMT").
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

export interface AttemptResult {
  /** HTTP status, or null when no answer arrived (timeout, refused, SSRF block). */
  status: number | null;
  retryAfter?: string | null;
}

export type NextStep =
  | { kind: 'delivered' }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled. */
  | { kind: 'gone' }
  | { kind: 'retry'; attempt: number; delayMs: number; at: number; honouredRetryAfter: boolean }
  | { kind: 'exhausted' };

/**
 * What happens after attempt number `attempt` (1-based) ended with `result`.
 * A 429 or 503 with Retry-After waits at least as long as asked (never less than the schedule).
 */
export function nextStep(
  attempt: number,
  result: AttemptResult,
  clock: Clock = systemClock,
  random: () => number = Math.random,
): NextStep {
  const s = result.status;
  if (s !== null && s >= 200 && s < 300) return { kind: 'delivered' };
  if (s === 410) return { kind: 'gone' };
  if (attempt >= MAX_ATTEMPTS) return { kind: 'exhausted' };
  const now = clock.now();
  let delayMs = withJitter(RETRY_SCHEDULE_MS[attempt], random);
  let honouredRetryAfter = false;
  if (s === 429 || s === 503) {
    const asked = parseRetryAfter(result.retryAfter, now);
    if (asked !== undefined && asked > delayMs) {
      delayMs = asked;
      honouredRetryAfter = true;
    }
  }
  return { kind: 'retry', attempt: attempt + 1, delayMs, at: now + delayMs, honouredRetryAfter };
}

export interface EndpointHealth {
  /** Start of the current run of failures; null while the endpoint is healthy. */
  failingSince: number | null;
}

export type HealthVerdict =
  { failingSince: number | null; disable: false } | { failingSince: number | null; disable: true; reason: 'gone' | 'failing' };

/**
 * Endpoint health after one attempt: a success clears the failure run; a failure starts one (or
 * continues it); a failure run of AUTO_DISABLE_AFTER_MS disables the endpoint; a 410 disables at once.
 */
export function endpointHealthAfter(health: EndpointHealth, result: AttemptResult, clock: Clock = systemClock): HealthVerdict {
  const s = result.status;
  if (s !== null && s >= 200 && s < 300) return { failingSince: null, disable: false };
  const now = clock.now();
  const failingSince = health.failingSince ?? now;
  if (s === 410) return { failingSince, disable: true, reason: 'gone' };
  if (now - failingSince >= AUTO_DISABLE_AFTER_MS) return { failingSince, disable: true, reason: 'failing' };
  return { failingSince, disable: false };
}
