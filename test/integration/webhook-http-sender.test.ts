import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboundAddressPolicy } from '../../src/modules/webhooks/outbound/ssrf/address-policy';
import { createGuardedAgent } from '../../src/modules/webhooks/outbound/ssrf/guarded-agent';
import { RESPONSE_BODY_KEEP_BYTES, sendWebhook } from '../../src/modules/webhooks/outbound/http-sender';
import { deliveryHeaders, generateEndpointSecret } from '../../src/modules/webhooks/outbound/signing';
import { WebhookReceiver, gone, tooMany, unavailable } from '../fakes/webhook-receiver';

describe('outbound HTTP sender against a local receiver (row 17)', () => {
  let receiver: WebhookReceiver;
  const agent = createGuardedAgent(new OutboundAddressPolicy(['127.0.0.1/32']));
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await agent.close();
    await receiver.close();
  });
  afterEach(() => receiver.reset());

  it('delivers a Standard Webhooks request that the standardwebhooks package verifies', async () => {
    const secret = generateEndpointSecret();
    const body = JSON.stringify({ type: 'lead.created', data: { id: 'l1' } });
    const now = Math.floor(Date.now() / 1000);
    const res = await sendWebhook(agent, {
      url: `${receiver.url}/in`,
      headers: deliveryHeaders([secret], 'msg_1', now, body),
      body,
    });
    expect(res).toMatchObject({ status: 200, ok: true, body: 'ok', errorCode: null });
    const got = receiver.requests[0];
    expect(got.method).toBe('POST');
    expect(got.body).toBe(body);
    expect(got.headers['webhook-id']).toBe('msg_1');
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('row 17: a receiver that hangs is cut off at the timeout', async () => {
    receiver.respondWith({ kind: 'hang' });
    const started = Date.now();
    const res = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}', timeoutMs: 300 });
    expect(res.status).toBeNull();
    expect(res.errorCode).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('row 17: a huge answer is read only up to 4 KB', async () => {
    receiver.respondWith({ kind: 'huge' });
    const res = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}' });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(RESPONSE_BODY_KEEP_BYTES);
    expect(res.bodyTruncated).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    // The receiver stops writing once we hang up: far less than the gigabyte it would send.
    expect(receiver.hugeBytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('keeps a short answer whole and untruncated', async () => {
    receiver.respondWith({ kind: 'status', status: 200, body: 'x'.repeat(RESPONSE_BODY_KEEP_BYTES) });
    const exact = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}' });
    expect(exact.body.length).toBe(RESPONSE_BODY_KEEP_BYTES);
    expect(exact.bodyTruncated).toBe(false);
  });

  it('row 17: reports 410, 429 and 503 with their Retry-After', async () => {
    receiver.enqueue(gone(), tooMany('7'), unavailable('120'));
    const a = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}' });
    const b = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}' });
    const c = await sendWebhook(agent, { url: receiver.url, headers: {}, body: '{}' });
    expect([a.status, b.status, c.status]).toEqual([410, 429, 503]);
    expect([a.ok, b.ok, c.ok]).toEqual([false, false, false]);
    expect(b.headers['retry-after']).toBe('7');
    expect(c.headers['retry-after']).toBe('120');
  });

  it('reports a refused connection as a failure without a status', async () => {
    const closed = await WebhookReceiver.start();
    const url = closed.url;
    await closed.close();
    const res = await sendWebhook(agent, { url, headers: {}, body: '{}' });
    expect(res.status).toBeNull();
    expect(res.errorCode).toBe('connection_refused');
  });
});
