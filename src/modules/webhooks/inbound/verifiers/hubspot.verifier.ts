import { createHash, createHmac } from 'node:crypto';
import {
  WebhookVerificationError,
  checkTimestamp,
  header,
  parseJson,
  safeEqual,
  type InboundRequest,
  type VerifiedEvent,
  type Verifier,
} from './types';

export const HUBSPOT_WINDOW_MS = 5 * 60_000;

/**
 * HubSpot v3 asks receivers to decode these percent-encodings in the URI before signing; whether
 * its own signer does so for every character is not confirmed, so both forms are tried.
 */
const V3_DECODE: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};
function v3Decode(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => V3_DECODE[m.toUpperCase()] ?? m);
}

function uriCandidates(req: InboundRequest): string[] {
  const out = new Set<string>();
  for (const u of req.urls) {
    out.add(u);
    out.add(v3Decode(u));
  }
  return [...out];
}

/**
 * The signatures HubSpot computes (same formulas as `@hubspot/api-client`'s `Signature`, which a
 * unit test uses as the oracle; its `isValid` compares with `===`, so we compare here in
 * constant time instead).
 */
export function hubspotSignature(
  version: 'v1' | 'v2' | 'v3',
  o: { secret: string; method: string; uri: string; body: string; timestamp?: string },
): string {
  switch (version) {
    case 'v1':
      return createHash('sha256')
        .update(o.secret + o.body)
        .digest('hex');
    case 'v2':
      return createHash('sha256')
        .update(o.secret + o.method + o.uri + o.body)
        .digest('hex');
    case 'v3':
      return createHmac('sha256', o.secret)
        .update(o.method + o.uri + o.body + (o.timestamp ?? ''))
        .digest('base64');
  }
}

function toEvents(payload: unknown): VerifiedEvent[] {
  const list = Array.isArray(payload) ? payload : [payload];
  if (!list.length) throw new WebhookVerificationError('malformed_payload', 'The HubSpot payload is an empty array');
  return list.map((e: unknown) => {
    if (!e || typeof e !== 'object') throw new WebhookVerificationError('malformed_payload', 'A HubSpot event is not an object');
    const ev = e as Record<string, unknown>;
    if (ev.eventId === undefined || typeof ev.subscriptionType !== 'string') {
      throw new WebhookVerificationError('malformed_payload', 'A HubSpot event has no eventId or subscriptionType');
    }
    // HubSpot does not promise eventId is unique on its own; with the object and time it is
    // stable across its retries (attemptNumber changes, these do not).
    const eventId = [ev.eventId, ev.objectId ?? '', ev.occurredAt ?? ''].map(String).join(':');
    const occurredAt = typeof ev.occurredAt === 'number' ? new Date(ev.occurredAt) : null;
    return { eventId, type: ev.subscriptionType, payload: ev, occurredAt };
  });
}

export const verifyHubspot: Verifier = (req, ctx) => {
  const body = req.rawBody.toString('utf8');
  const method = req.method.toUpperCase();
  const v3 = header(req, 'x-hubspot-signature-v3');
  if (v3) {
    const ts = header(req, 'x-hubspot-request-timestamp');
    if (!ts) throw new WebhookVerificationError('missing_header', 'Missing X-HubSpot-Request-Timestamp header');
    // Milliseconds since the epoch; reject outside a 5-minute window either way.
    checkTimestamp(/^\d+$/.test(ts) ? Number(ts) : NaN, ctx.now, HUBSPOT_WINDOW_MS);
    const ok = ctx.secrets.some((secret) =>
      uriCandidates(req).some((uri) => safeEqual(hubspotSignature('v3', { secret, method, uri, body, timestamp: ts }), v3)),
    );
    if (!ok) throw new WebhookVerificationError('bad_signature', 'The HubSpot v3 signature does not match');
    return toEvents(parseJson(req.rawBody));
  }
  const legacy = header(req, 'x-hubspot-signature');
  if (!legacy) throw new WebhookVerificationError('missing_header', 'Missing X-HubSpot-Signature-v3 header');
  if (!ctx.settings.hubspotAcceptLegacy) {
    throw new WebhookVerificationError('missing_header', 'Only v3 HubSpot signatures are accepted by this source');
  }
  const version = (header(req, 'x-hubspot-signature-version') ?? 'v1').toLowerCase();
  if (version !== 'v1' && version !== 'v2')
    throw new WebhookVerificationError('bad_signature', `Unknown HubSpot signature version ${version}`);
  const ok = ctx.secrets.some((secret) =>
    version === 'v1'
      ? safeEqual(hubspotSignature('v1', { secret, method, uri: '', body }), legacy.toLowerCase())
      : uriCandidates(req).some((uri) => safeEqual(hubspotSignature('v2', { secret, method, uri, body }), legacy.toLowerCase())),
  );
  if (!ok) throw new WebhookVerificationError('bad_signature', `The HubSpot ${version} signature does not match`);
  return toEvents(parseJson(req.rawBody));
};
