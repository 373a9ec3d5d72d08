import { Agent, request, type Dispatcher } from 'undici';
import type { AnalyticsProvider } from '../../../db/schema/analytics';
import { ProviderRateLimitError, ProviderTransientError, QuotaStop, scrub } from './provider-errors';

export { scrub };

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; `undefined` for an empty body. */
  body: unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface RequestStats {
  requests: number;
}

/** Largest provider answer we read (a GA4 page of 250,000 rows is about 60 MB). */
const MAX_BODY_BYTES = 128 * 1024 * 1024;

/**
 * Outbound HTTP for the provider clients: undici with its own connection pool, a timeout per
 * request, a capped body read and JSON parsing. It never throws on an HTTP status (the provider
 * clients classify those); network faults, timeouts and malformed JSON become
 * ProviderTransientError. URLs and headers are never put in error messages (Meta's token rides
 * in the query string).
 */
export class ProviderHttp {
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly timeoutMs: number,
    dispatcher?: Dispatcher,
  ) {
    this.dispatcher =
      dispatcher ??
      new Agent({
        connect: { timeout: Math.min(timeoutMs, 10_000) },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connections: 16,
      });
  }

  async send(provider: AnalyticsProvider, req: HttpRequest, stats?: RequestStats): Promise<HttpResponse> {
    if (stats) stats.requests += 1;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, {
        method: req.method,
        headers: { accept: 'application/json', 'user-agent': 'switchboard-analytics/1', ...req.headers },
        body: req.body,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
        // undici's request() never follows redirects (no redirect interceptor is installed).
      });
    } catch (err) {
      throw new ProviderTransientError(provider, `request failed: ${(err as Error).name}: ${scrub((err as Error).message)}`);
    }
    let text: string;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          throw new Error(`answer larger than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      throw new ProviderTransientError(provider, `reading the answer failed: ${(err as Error).message}`, res.statusCode);
    }
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        // A 5xx HTML page from a proxy is as transient as the 5xx itself; a 2xx that is not JSON
        // is a provider glitch (or truncation): retry rather than store anything.
        throw new ProviderTransientError(provider, `malformed JSON in a ${res.statusCode} answer`, res.statusCode);
      }
    }
    return { status: res.statusCode, headers: res.headers, body };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** `Retry-After` as milliseconds (seconds or an HTTP date), when present and sane. */
export function retryAfterMs(headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const v = header(headers, 'retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Pause before resuming after a quota stop when the provider gave no hint. */
  quotaPauseMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retries `fn` on rate limits and transient faults with exponential backoff and full jitter
 * (AWS's recommendation), honouring the provider's Retry-After. A rate limit that outlasts the
 * attempts — or asks for a wait longer than `maxMs` — becomes a QuotaStop so the sync can
 * checkpoint instead of holding a worker; a transient fault that outlasts them is rethrown.
 */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const wait = policy.sleep ?? sleep;
  const now = policy.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const rateLimited = err instanceof ProviderRateLimitError;
      if (!rateLimited && !(err instanceof ProviderTransientError)) throw err;
      const asked = rateLimited ? err.retryAfterMs : undefined;
      if (rateLimited && asked !== undefined && asked > policy.maxMs) throw new QuotaStop(new Date(now() + asked), err.message);
      if (attempt >= policy.attempts) {
        if (rateLimited) throw new QuotaStop(new Date(now() + Math.max(asked ?? 0, policy.quotaPauseMs)), err.message);
        throw err;
      }
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const delay = asked ?? Math.floor(Math.random() * (ceiling + 1));
      await wait(delay);
    }
  }
}

export { ProviderRateLimitError };
