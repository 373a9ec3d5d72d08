import { createHash, timingSafeEqual } from 'node:crypto';

export const PROVIDERS = ['stripe', 'hubspot', 'zapier', 'standard', 'hmac'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** The request as it arrived: the raw bytes are what was signed. */
export interface InboundRequest {
  rawBody: Buffer;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  method: string;
  /**
   * Full URLs the sender may have signed (HubSpot v2/v3 sign the exact URI): PUBLIC_URL + path
   * and the scheme/host the request arrived with. Any match is accepted.
   */
  urls: string[];
  /** The request's content type as sent (only Zapier posts may be form-encoded). */
  contentType?: string;
}

/** One verified provider event, ready for the inbox. */
export interface VerifiedEvent {
  /** The provider's id for this event (the inbox's dedupe key with the source). */
  eventId: string;
  type: string;
  payload: unknown;
  /** The payload's JSON text when it is the whole body as sent: stored as is, not re-serialised. */
  payloadJson?: string;
  occurredAt: Date | null;
}

export type VerificationFailure =
  'missing_header' | 'bad_signature' | 'stale_timestamp' | 'future_timestamp' | 'malformed_payload' | 'bad_api_key';

export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Generic HMAC settings of an `hmac` source (also the shape stored with the source). */
export interface HmacSettings {
  header: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  encoding: 'hex' | 'base64';
  /** Stripped from the header value before comparing, e.g. `sha256=` (GitHub style). */
  prefix?: string;
  /** Header carrying the event id; else the payload's `id`, else the body's SHA-256. */
  eventIdHeader?: string;
}

export interface SourceSettings {
  hmac?: HmacSettings;
  /** HubSpot v1/v2 signatures carry no timestamp: accepted only when this is set. */
  hubspotAcceptLegacy?: boolean;
  /** Header holding the Zapier source key (default `x-webhook-key`). */
  apiKeyHeader?: string;
}

export interface VerifyContext {
  /** Active secrets of the source: during a rotation several are, and any may match. */
  secrets: readonly string[];
  settings: SourceSettings;
  /** Milliseconds since the epoch (injectable clock). */
  now: number;
}

export type Verifier = (req: InboundRequest, ctx: VerifyContext) => VerifiedEvent[];

export function header(req: InboundRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Constant-time string comparison (the length is not secret: every signature has a fixed size). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function parseJson(raw: Buffer): unknown {
  return parseJsonText(raw.toString('utf8'));
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new WebhookVerificationError('malformed_payload', 'The body is not valid JSON');
  }
}

/** JSON, or (Zapier's default payload type) an `application/x-www-form-urlencoded` body as an object. */
export function parseJsonOrForm(raw: Buffer, contentType: string | undefined): unknown {
  if (contentType && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      out[k] = v;
    }
    return { ...out };
  }
  return parseJson(raw);
}

export function sha256Hex(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Seconds-based tolerance check shared by the timestamped schemes. */
export function checkTimestamp(timestampMs: number, now: number, toleranceMs: number): void {
  if (!Number.isFinite(timestampMs))
    throw new WebhookVerificationError('missing_header', 'The signature timestamp is not a number');
  if (now - timestampMs > toleranceMs)
    throw new WebhookVerificationError('stale_timestamp', 'The signature timestamp is too old');
  if (timestampMs - now > toleranceMs)
    throw new WebhookVerificationError('future_timestamp', 'The signature timestamp is in the future');
}

export function stringField(obj: unknown, key: string): string | undefined {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const v = (obj as Record<string, unknown>)[key];
    if (typeof v === 'string' && v.length > 0 && v.length <= 255) return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}
