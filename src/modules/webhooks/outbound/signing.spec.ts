import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryHeaders, generateEndpointSecret, isEndpointSecret, signatureHeader } from './signing';

describe('Standard Webhooks signing', () => {
  const body = JSON.stringify({ type: 'lead.created', data: { id: '0190', email: 'ann@example.com' } });
  const now = Math.floor(Date.now() / 1000);

  it('generates whsec_ secrets of 32 random bytes', () => {
    const a = generateEndpointSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(isEndpointSecret(a)).toBe(true);
    expect(generateEndpointSecret()).not.toBe(a);
    expect(isEndpointSecret('whsec_' + Buffer.alloc(8).toString('base64'))).toBe(false);
    expect(isEndpointSecret('sk_nope')).toBe(false);
  });

  it('signs so that the standardwebhooks package verifies', () => {
    const secret = generateEndpointSecret();
    const headers = deliveryHeaders([secret], 'msg_2x', now, body);
    expect(headers['webhook-id']).toBe('msg_2x');
    expect(headers['webhook-timestamp']).toBe(String(now));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('carries one signature per active secret during a rotation; either verifies', () => {
    const oldSecret = generateEndpointSecret();
    const newSecret = generateEndpointSecret();
    const sig = signatureHeader([newSecret, oldSecret], 'msg_rot', now, body);
    expect(sig.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'msg_rot', 'webhook-timestamp': String(now), 'webhook-signature': sig };
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateEndpointSecret()).verify(body, headers)).toThrow();
  });

  it('fails verification when the body, id or timestamp is altered', () => {
    const secret = generateEndpointSecret();
    const headers = deliveryHeaders([secret], 'msg_3', now, body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('ann', 'bob'), headers)).toThrow();
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_4' })).toThrow();
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
  });

  it('refuses to sign with no secret', () => {
    expect(() => signatureHeader([], 'm', now, body)).toThrow();
  });
});
