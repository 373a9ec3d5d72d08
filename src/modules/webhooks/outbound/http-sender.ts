import { request, type Dispatcher } from 'undici';

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Bytes of the receiver's answer kept in the delivery log; the rest is never read. */
export const RESPONSE_BODY_KEEP_BYTES = 4096;

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs?: number;
  maxBodyBytes?: number;
}

export interface SendOutcome {
  /** HTTP status, or null when no response arrived (connect error, timeout, SSRF refusal). */
  status: number | null;
  /** True for 2xx only: redirects are never followed and count as failures. */
  ok: boolean;
  headers: Record<string, string>;
  /** The first bytes of the body, UTF-8 decoded (lossy). */
  body: string;
  bodyTruncated: boolean;
  durationMs: number;
  /** Why it failed without a response: `timeout`, `ssrf_blocked`, `connect_error`, … */
  errorCode: string | null;
  errorMessage: string | null;
}

function errorCodeOf(err: unknown, timedOut: boolean): string {
  if (timedOut) return 'timeout';
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'ERR_SSRF_BLOCKED') return 'ssrf_blocked';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return 'timeout';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns_error';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection_reset';
  return 'network_error';
}

/**
 * One POST of a webhook through the guarded dispatcher. The whole exchange (connect, headers,
 * the capped body read) is bounded by `timeoutMs` (15 s); at most `maxBodyBytes` of the answer
 * are read, then the stream is destroyed so a 1 GB answer costs 4 KB.
 */
export async function sendWebhook(dispatcher: Dispatcher, req: SendRequest, now: () => number = Date.now): Promise<SendOutcome> {
  const started = now();
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const keep = req.maxBodyBytes ?? RESPONSE_BODY_KEEP_BYTES;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const res = await request(req.url, {
      method: 'POST',
      dispatcher,
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let bodyError: string | null = null;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        if (size >= keep) {
          truncated = true;
          break;
        }
        const room = keep - size;
        if (buf.length > room) {
          chunks.push(buf.subarray(0, room));
          size = keep;
          truncated = true;
          break;
        }
        chunks.push(buf);
        size += buf.length;
      }
    } catch (err) {
      // The status already arrived and is what counts; note the body was cut short.
      bodyError = timedOut ? `body not complete within ${timeoutMs} ms` : (err as Error).message;
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return {
      status: res.statusCode,
      ok: res.statusCode >= 200 && res.statusCode < 300,
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
      bodyTruncated: truncated,
      durationMs: now() - started,
      errorCode: null,
      errorMessage: bodyError,
    };
  } catch (err) {
    const code = errorCodeOf(err, timedOut);
    const cause = (err as { cause?: Error }).cause;
    const message = timedOut
      ? `No complete answer within ${timeoutMs} ms`
      : code === 'ssrf_blocked'
        ? ((err as Error).message ?? cause?.message)
        : (err as Error).message;
    return {
      status: null,
      ok: false,
      headers: {},
      body: '',
      bodyTruncated: false,
      durationMs: now() - started,
      errorCode: code,
      errorMessage: message,
    };
  } finally {
    clearTimeout(timer);
  }
}
