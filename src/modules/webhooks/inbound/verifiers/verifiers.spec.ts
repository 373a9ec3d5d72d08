import { Signature } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import {
  checkoutSessionCompleted,
  hmacSignature,
  hubspotContactCreation,
  hubspotLegacyHeaders,
  hubspotPropertyChange,
  hubspotV3Headers,
  signStripe,
  signStripeRolled,
  standardHeaders,
} from '../../../../../test/fakes/webhook-providers';
import { hubspotSignature } from './hubspot.verifier';
import { WebhookVerificationError, verifyInbound, type InboundRequest, type Provider, type SourceSettings } from './index';

const NOW = Date.now();
const SIX_MIN = 6 * 60_000;
const STRIPE_SECRET = 'whsec_test_stripe_0123456789abcdef';
const URL_ = 'https://switchboard.example.com/api/v1/webhooks/in/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

function req(body: string, headers: Record<string, string>, urls = [URL_]): InboundRequest {
  return { rawBody: Buffer.from(body), headers, method: 'POST', urls };
}

function failure(provider: Provider, r: InboundRequest, secrets: string[], settings: SourceSettings = {}, now = NOW) {
  try {
    verifyInbound(provider, r, { secrets, settings, now });
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error('verification unexpectedly succeeded');
}

describe('Stripe verifier (official stripe package)', () => {
  const event = checkoutSessionCompleted('ann@example.com');
  const body = JSON.stringify(event, null, 2);
  const ts = Math.floor(NOW / 1000);

  it('accepts an event signed by generateTestHeaderString and returns the event', () => {
    const events = verifyInbound('stripe', req(body, { 'stripe-signature': signStripe(body, STRIPE_SECRET, ts) }), {
      secrets: [STRIPE_SECRET],
      settings: {},
      now: NOW,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ eventId: event.id, type: 'checkout.session.completed' });
    expect((events[0].payload as { data: { object: { customer_email: string } } }).data.object.customer_email).toBe(
      'ann@example.com',
    );
  });

  it('accepts any of several v1 signatures (secret roll) and any of several configured secrets', () => {
    const other = 'whsec_other_0123456789abcdef0123';
    const rolled = signStripeRolled(body, [other, STRIPE_SECRET], ts);
    expect(
      verifyInbound('stripe', req(body, { 'stripe-signature': rolled }), { secrets: [STRIPE_SECRET], settings: {}, now: NOW }),
    ).toHaveLength(1);
    const single = signStripe(body, other, ts);
    expect(
      verifyInbound('stripe', req(body, { 'stripe-signature': single }), {
        secrets: [STRIPE_SECRET, other],
        settings: {},
        now: NOW,
      }),
    ).toHaveLength(1);
  });

  it('row 10: tampered body, wrong secret, missing or garbled header → refused', () => {
    const sig = signStripe(body, STRIPE_SECRET, ts);
    expect(failure('stripe', req(body.replace('ann@', 'eve@'), { 'stripe-signature': sig }), [STRIPE_SECRET])).toBe(
      'bad_signature',
    );
    expect(failure('stripe', req(body, { 'stripe-signature': sig }), ['whsec_wrong_0123456789abcdef'])).toBe('bad_signature');
    expect(failure('stripe', req(body, {}), [STRIPE_SECRET])).toBe('missing_header');
    expect(failure('stripe', req(body, { 'stripe-signature': 'garbage' }), [STRIPE_SECRET])).toBe('missing_header');
    expect(failure('stripe', req(body, { 'stripe-signature': `t=${ts},v0=abc` }), [STRIPE_SECRET])).toBe('missing_header');
    expect(failure('stripe', req(body, { 'stripe-signature': sig }), [])).toBe('bad_signature');
  });

  it('row 11: a signature 6 minutes old or 6 minutes in the future is refused', () => {
    const old = signStripe(body, STRIPE_SECRET, ts - 360);
    expect(failure('stripe', req(body, { 'stripe-signature': old }), [STRIPE_SECRET])).toBe('stale_timestamp');
    const future = signStripe(body, STRIPE_SECRET, ts + 360);
    expect(failure('stripe', req(body, { 'stripe-signature': future }), [STRIPE_SECRET])).toBe('future_timestamp');
    // 4 minutes either way is inside the 300 s tolerance.
    for (const t of [ts - 240, ts + 240]) {
      expect(
        verifyInbound('stripe', req(body, { 'stripe-signature': signStripe(body, STRIPE_SECRET, t) }), {
          secrets: [STRIPE_SECRET],
          settings: {},
          now: NOW,
        }),
      ).toHaveLength(1);
    }
  });

  it('refuses a correctly signed body that is not a Stripe event', () => {
    const junk = '{"hello":"world"}';
    expect(failure('stripe', req(junk, { 'stripe-signature': signStripe(junk, STRIPE_SECRET, ts) }), [STRIPE_SECRET])).toBe(
      'malformed_payload',
    );
  });
});

describe('HubSpot verifier', () => {
  const secret = 'hubspot-client-secret-0123456789';
  const body = JSON.stringify([hubspotContactCreation(101), hubspotPropertyChange(101, 'email', 'ann@example.com')]);

  it('computes the same signatures as @hubspot/api-client for v1, v2 and v3', () => {
    const common = { clientSecret: secret, requestBody: body, url: URL_, signature: '' };
    expect(hubspotSignature('v1', { secret, method: 'POST', uri: URL_, body })).toBe(
      Signature.getSignature('POST', 'v1', common),
    );
    expect(hubspotSignature('v2', { secret, method: 'POST', uri: URL_, body })).toBe(
      Signature.getSignature('POST', 'v2', common),
    );
    expect(hubspotSignature('v3', { secret, method: 'POST', uri: URL_, body, timestamp: String(NOW) })).toBe(
      Signature.getSignature('POST', 'v3', { ...common, timestamp: NOW }),
    );
  });

  it('accepts a v3 request and splits the batch into one event per notification', () => {
    const events = verifyInbound('hubspot', req(body, hubspotV3Headers({ secret, uri: URL_, body, timestampMs: NOW })), {
      secrets: [secret],
      settings: {},
      now: NOW,
    });
    expect(events.map((e) => e.type)).toEqual(['contact.creation', 'contact.propertyChange']);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(2);
    expect(events[0].occurredAt).toBeInstanceOf(Date);
  });

  it('matches whichever candidate URL HubSpot signed (public URL or the request host), with decoded characters', () => {
    const withQuery = `${URL_}?a=1&email=ann%40example.com`;
    const decoded = `${URL_}?a=1&email=ann@example.com`;
    const headers = hubspotV3Headers({ secret, uri: decoded, body, timestampMs: NOW });
    expect(
      verifyInbound('hubspot', req(body, headers, ['http://internal:3000/x', withQuery]), {
        secrets: [secret],
        settings: {},
        now: NOW,
      }),
    ).toHaveLength(2);
  });

  it('row 10: tampered body, wrong secret, other URL, missing headers → refused', () => {
    const headers = hubspotV3Headers({ secret, uri: URL_, body, timestampMs: NOW });
    expect(failure('hubspot', req(body.replace('101', '102'), headers), [secret])).toBe('bad_signature');
    expect(failure('hubspot', req(body, headers), ['another-secret-0123456789'])).toBe('bad_signature');
    expect(failure('hubspot', req(body, headers, ['https://evil.example.com/x']), [secret])).toBe('bad_signature');
    expect(failure('hubspot', req(body, {}), [secret])).toBe('missing_header');
    expect(failure('hubspot', req(body, { 'x-hubspot-signature-v3': headers['x-hubspot-signature-v3'] }), [secret])).toBe(
      'missing_header',
    );
  });

  it('row 11: v3 timestamps 6 minutes old or in the future are refused', () => {
    const old = hubspotV3Headers({ secret, uri: URL_, body, timestampMs: NOW - SIX_MIN });
    expect(failure('hubspot', req(body, old), [secret])).toBe('stale_timestamp');
    const future = hubspotV3Headers({ secret, uri: URL_, body, timestampMs: NOW + SIX_MIN });
    expect(failure('hubspot', req(body, future), [secret])).toBe('future_timestamp');
    const seconds = hubspotV3Headers({ secret, uri: URL_, body, timestampMs: Math.floor(NOW / 1000) });
    expect(failure('hubspot', req(body, seconds), [secret])).toBe('stale_timestamp');
  });

  it('accepts v1/v2 only when the source opts in to legacy signatures', () => {
    const v1 = hubspotLegacyHeaders({ secret, version: 'v1', uri: URL_, body });
    const v2 = hubspotLegacyHeaders({ secret, version: 'v2', uri: URL_, body });
    expect(failure('hubspot', req(body, v1), [secret])).toBe('missing_header');
    const legacy = { hubspotAcceptLegacy: true };
    expect(verifyInbound('hubspot', req(body, v1), { secrets: [secret], settings: legacy, now: NOW })).toHaveLength(2);
    expect(verifyInbound('hubspot', req(body, v2), { secrets: [secret], settings: legacy, now: NOW })).toHaveLength(2);
    expect(failure('hubspot', req(body.replace('101', '9'), v2), [secret], legacy)).toBe('bad_signature');
    expect(failure('hubspot', req(body, v2, ['https://other.example.com/']), [secret], legacy)).toBe('bad_signature');
  });

  it('refuses a signed payload that is not HubSpot events', () => {
    const junk = '[{"hello":1}]';
    expect(failure('hubspot', req(junk, hubspotV3Headers({ secret, uri: URL_, body: junk, timestampMs: NOW })), [secret])).toBe(
      'malformed_payload',
    );
  });
});

describe('Standard Webhooks verifier', () => {
  const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  const body = JSON.stringify({ type: 'invoice.created', data: { id: 'inv_1' } });

  it('accepts a signed message; the event id is webhook-id', () => {
    const headers = standardHeaders(secret, body, { id: 'msg_abc', timestamp: new Date(NOW) });
    const [e] = verifyInbound('standard', req(body, headers), { secrets: [secret], settings: {}, now: NOW });
    expect(e).toMatchObject({ eventId: 'msg_abc', type: 'invoice.created' });
  });

  it('accepts when one of several signatures or secrets matches', () => {
    const other = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    const a = standardHeaders(other, body, { id: 'm1', timestamp: new Date(NOW) });
    const b = standardHeaders(secret, body, { id: 'm1', timestamp: new Date(NOW) });
    const both = { ...a, 'webhook-signature': `${a['webhook-signature']} ${b['webhook-signature']}` };
    expect(verifyInbound('standard', req(body, both), { secrets: [secret], settings: {}, now: NOW })).toHaveLength(1);
    expect(verifyInbound('standard', req(body, a), { secrets: [secret, other], settings: {}, now: NOW })).toHaveLength(1);
  });

  it('row 10 and 11: tampered, wrong secret, missing header, stale, future → refused', () => {
    const headers = standardHeaders(secret, body, { timestamp: new Date(NOW) });
    expect(failure('standard', req(body + ' ', headers), [secret])).toBe('bad_signature');
    expect(failure('standard', req(body, headers), ['whsec_' + Buffer.alloc(32, 1).toString('base64')])).toBe('bad_signature');
    const { 'webhook-signature': _s, ...noSig } = headers;
    expect(failure('standard', req(body, noSig), [secret])).toBe('missing_header');
    expect(failure('standard', req(body, standardHeaders(secret, body, { timestamp: new Date(NOW - SIX_MIN) })), [secret])).toBe(
      'stale_timestamp',
    );
    expect(failure('standard', req(body, standardHeaders(secret, body, { timestamp: new Date(NOW + SIX_MIN) })), [secret])).toBe(
      'future_timestamp',
    );
    expect(
      failure('standard', req(body, { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') }), [
        secret,
      ]),
    ).toBe('bad_signature');
  });
});

describe('generic HMAC verifier', () => {
  const secret = 'generic-hmac-secret-0123456789';
  const body = JSON.stringify({ id: 'ord_1', type: 'order.paid', total: 10 });

  it.each([
    ['sha256', 'hex', undefined],
    ['sha256', 'base64', undefined],
    ['sha1', 'hex', 'sha1='],
    ['sha512', 'base64', undefined],
    ['sha256', 'hex', 'sha256='],
  ] as const)('accepts %s/%s (prefix %s)', (algorithm, encoding, prefix) => {
    const settings: SourceSettings = { hmac: { header: 'X-Signature', algorithm, encoding, prefix } };
    const sig = (prefix ?? '') + hmacSignature(secret, body, algorithm, encoding);
    const [e] = verifyInbound('hmac', req(body, { 'x-signature': sig }), { secrets: [secret], settings, now: NOW });
    expect(e).toMatchObject({ eventId: 'ord_1', type: 'order.paid' });
  });

  it('row 10: tampered body, wrong secret, missing header → refused; event id from a header or the body hash', () => {
    const settings: SourceSettings = {
      hmac: { header: 'x-sig', algorithm: 'sha256', encoding: 'hex', eventIdHeader: 'x-delivery' },
    };
    const sig = hmacSignature(secret, body);
    expect(failure('hmac', req(body.replace('10', '99'), { 'x-sig': sig }), [secret], settings)).toBe('bad_signature');
    expect(failure('hmac', req(body, { 'x-sig': sig }), ['other-secret-0123456789'], settings)).toBe('bad_signature');
    expect(failure('hmac', req(body, {}), [secret], settings)).toBe('missing_header');
    const [withHeader] = verifyInbound('hmac', req(body, { 'x-sig': sig, 'x-delivery': 'd-77' }), {
      secrets: [secret],
      settings,
      now: NOW,
    });
    expect(withHeader.eventId).toBe('d-77');
    const anon = '{"total":1}';
    const [hashed] = verifyInbound('hmac', req(anon, { 'x-sig': hmacSignature(secret, anon) }), {
      secrets: [secret],
      settings,
      now: NOW,
    });
    expect(hashed.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('Zapier verifier (API key header)', () => {
  const key = 'zapier-source-key-0123456789abcdef';
  const body = JSON.stringify({ email: 'ann@example.com', first_name: 'Ann' });

  it('accepts the right key; the event id comes from Idempotency-Key, the id field or the body hash', () => {
    const [a] = verifyInbound('zapier', req(body, { 'x-webhook-key': key }), { secrets: [key], settings: {}, now: NOW });
    expect(a.eventId).toMatch(/^sha256:/);
    expect(a.type).toBe('zapier.post');
    const [b] = verifyInbound('zapier', req(body, { 'x-webhook-key': key, 'idempotency-key': 'zap-1' }), {
      secrets: [key],
      settings: {},
      now: NOW,
    });
    expect(b.eventId).toBe('zap-1');
    const custom = { apiKeyHeader: 'x-zap-key' };
    expect(verifyInbound('zapier', req(body, { 'x-zap-key': key }), { secrets: [key], settings: custom, now: NOW })).toHaveLength(
      1,
    );
  });

  it('a wrong or missing key is bad_api_key (401)', () => {
    expect(failure('zapier', req(body, { 'x-webhook-key': 'nope' }), [key])).toBe('bad_api_key');
    expect(failure('zapier', req(body, {}), [key])).toBe('bad_api_key');
    expect(failure('zapier', req('not json', { 'x-webhook-key': key }), [key])).toBe('malformed_payload');
  });
});
