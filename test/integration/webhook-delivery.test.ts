import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { uuidv7 } from 'uuidv7';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { events } from '../../src/db/schema/events';
import type { EventEnvelope } from '../../src/events/catalogue';
import { QUEUE_BACKEND } from '../../src/jobs/jobs.tokens';
import type { QueueBackend } from '../../src/jobs/queue-backend';
import { deliverJobId, inboundJobId } from '../../src/modules/webhooks/job-definitions';
import { WebhooksSweep } from '../../src/modules/webhooks/webhooks.sweep';
import { DeliveryService, type AttemptResult } from '../../src/modules/webhooks/outbound/delivery.service';
import { OutboundJobs } from '../../src/modules/webhooks/outbound/outbound.jobs';
import { AUTO_DISABLE_AFTER_MS } from '../../src/modules/webhooks/outbound/retry-schedule';
import { WEBHOOK_CLOCK, type WebhookClock } from '../../src/modules/webhooks/webhooks.tokens';
import { WebhookReceiver, gone, ok, unavailable, type ReceivedRequest } from '../fakes/webhook-receiver';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const DAY = 24 * 3_600_000;

/**
 * The delivery engine driven by hand with a controllable clock: the app runs as `api` (no
 * worker), so nothing fires on its own; each test fans out events and makes attempts itself,
 * then checks what was sent, logged and scheduled.
 */
describe.each(await dbTargets())('outbound delivery engine (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let ws: WorkspaceId;
  let receiver: WebhookReceiver;
  let delivery: DeliveryService;
  let outbound: OutboundJobs;
  let queues: QueueBackend;
  let now = Date.UTC(2026, 5, 1, 12, 0, 0);
  const clock = { now: () => now };

  beforeAll(async () => {
    t = await startTestApp(target, { role: 'api', env: { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', RATE_LIMIT_MAX: '100000' } });
    owner = await registerUser(t);
    ws = owner.workspace.id as WorkspaceId;
    receiver = await WebhookReceiver.start();
    delivery = t.app.get(DeliveryService);
    outbound = t.app.get(OutboundJobs);
    queues = t.app.get(QUEUE_BACKEND);
    t.app.get<WebhookClock>(WEBHOOK_CLOCK).now = () => clock.now();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(() => receiver.reset());

  async function createEndpoint(extra: Record<string, unknown> = {}, path = '/hook') {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/webhook-endpoints',
      headers: bearer(owner.access_token),
      payload: { url: `${receiver.url}${path}`, event_types: ['lead.created'], ...extra },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; secret: string; url: string }>();
  }

  async function fanOut(type: EventEnvelope['type'] = 'lead.created'): Promise<string> {
    const id = uuidv7();
    await outbound.fanOut({
      id,
      type,
      workspace_id: ws,
      occurred_at: new Date(now).toISOString(),
      request_id: null,
      payload: { lead_id: uuidv7(), source: 'api' },
    });
    return id;
  }

  async function deliveries(endpointId: string) {
    const res = await t.inject({
      url: `/api/v1/webhook-endpoints/${endpointId}/deliveries`,
      headers: bearer(owner.access_token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ data: Array<{ id: string; status: string; attempts: number; event_id: string }> }>().data;
  }

  async function endpoint(id: string) {
    return (await t.inject({ url: `/api/v1/webhook-endpoints/${id}`, headers: bearer(owner.access_token) })).json();
  }

  const attempted = (r: AttemptResult) => {
    if (r.kind !== 'attempted') throw new Error(`expected an attempt, got ${JSON.stringify(r)}`);
    return r;
  };

  /** The signature of a request recomputed with the standardwebhooks package. */
  function signatureValid(req: ReceivedRequest, secret: string): boolean {
    const id = String(req.headers['webhook-id']);
    const ts = Number(req.headers['webhook-timestamp']);
    const expected = new Webhook(secret).sign(id, new Date(ts * 1000), req.body);
    return String(req.headers['webhook-signature']).split(' ').includes(expected);
  }

  it('delivers a signed message that standardwebhooks verifies, one per subscribed endpoint', async () => {
    const ep = await createEndpoint();
    const other = await createEndpoint({ event_types: ['lead.deleted'] });
    now = Date.now();
    const eventId = await fanOut();
    const [msg] = await deliveries(ep.id);
    expect(msg).toMatchObject({ status: 'pending', attempts: 0, event_id: eventId });
    expect(await deliveries(other.id)).toEqual([]);
    // The first attempt was queued at once, with a deterministic job id.
    expect(await queues.queue('webhooks').getJob(deliverJobId(msg.id, 1))).toBeTruthy();

    const r = attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    expect(r.next.kind).toBe('delivered');
    const [req] = receiver.requests;
    expect(req.headers['webhook-id']).toBe(msg.id);
    expect(req.headers['content-type']).toBe('application/json');
    const body = new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>) as {
      id: string;
      type: string;
      data: unknown;
    };
    expect(body).toMatchObject({ id: eventId, type: 'lead.created', workspace_id: ws });
    // Fan-out again for the same event: no second message.
    await outbound.fanOut({
      id: eventId,
      type: 'lead.created',
      workspace_id: ws,
      occurred_at: '',
      request_id: null,
      payload: body.data,
    } as never);
    expect(await deliveries(ep.id)).toHaveLength(1);
    await t.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${ep.id}`, headers: bearer(owner.access_token) });
    await t.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${other.id}`, headers: bearer(owner.access_token) });
  });

  it('row 18: retries on the schedule with jitter and the same webhook-id; the log keeps every attempt', async () => {
    const ep = await createEndpoint();
    now = Date.UTC(2026, 5, 2, 0, 0, 0);
    await fanOut();
    const [msg] = await deliveries(ep.id);
    receiver.enqueue(unavailable(), { kind: 'status', status: 500, body: 'boom' }, ok());
    const a1 = attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    expect(a1.next).toMatchObject({ kind: 'retry', attempt: 2 });
    const d1 = (a1.next as { delayMs: number }).delayMs;
    expect(d1).toBeGreaterThanOrEqual(4_000);
    expect(d1).toBeLessThanOrEqual(6_000);
    const job2 = await queues.queue('webhooks').getJob(deliverJobId(msg.id, 2));
    expect(job2?.opts.delay).toBe(d1);
    // Attempt 2 is not due twice: a duplicate call for attempt 1 does nothing.
    expect(await delivery.attempt(ws, msg.id, 1, 'scheduled')).toEqual({ kind: 'skipped', reason: 'not_due' });

    now += d1;
    const a2 = attempted(await delivery.attempt(ws, msg.id, 2, 'scheduled'));
    const d2 = (a2.next as { delayMs: number }).delayMs;
    expect(d2).toBeGreaterThanOrEqual(240_000);
    expect(d2).toBeLessThanOrEqual(360_000);
    now += d2;
    const a3 = attempted(await delivery.attempt(ws, msg.id, 3, 'scheduled'));
    expect(a3.next.kind).toBe('delivered');

    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id, msg.id]);
    expect(receiver.requests.every((r) => signatureValid(r, ep.secret))).toBe(true);
    // Each attempt is signed at its own time.
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-timestamp'])).size).toBe(3);

    const detail = (
      await t.inject({ url: `/api/v1/webhook-endpoints/${ep.id}/deliveries/${msg.id}`, headers: bearer(owner.access_token) })
    ).json();
    expect(detail.status).toBe('succeeded');
    expect(detail.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([503, 500, 200]);
    expect(detail.attempt_log[1].response_body).toBe('boom');
    expect((await endpoint(ep.id)).failing_since).toBeNull();
  });

  it('row 17: a 503 with Retry-After waits as asked', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    receiver.enqueue(unavailable('7200'));
    const a = attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    expect(a.next).toMatchObject({ kind: 'retry', delayMs: 7_200_000, honouredRetryAfter: true });
    const [m] = await deliveries(ep.id);
    expect(m.status).toBe('retrying');
  });

  it('row 16: a redirect is not followed and counts as a failure', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    receiver.enqueue({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' });
    const a = attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    expect(a.attempt).toMatchObject({ statusCode: 302, ok: false });
    expect(a.next.kind).toBe('retry');
    expect(receiver.requests).toHaveLength(1);
  });

  it('row 17: a 410 disables the endpoint and emits endpoint.disabled; later events skip it', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    receiver.enqueue(gone());
    const a = attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    expect(a.next.kind).toBe('gone');
    expect(a.endpointDisabled).toBe('gone');
    expect(await endpoint(ep.id)).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    const emitted = await t.runtime.database.db
      .select()
      .from(events)
      .where(and(eq(events.workspaceId, ws), eq(events.type, 'endpoint.disabled')));
    expect(emitted.map((e) => e.payload)).toContainEqual({ endpoint_id: ep.id, kind: 'webhook', reason: 'gone' });
    await fanOut();
    expect(await deliveries(ep.id)).toHaveLength(1);
  });

  it('row 18: down for 6 days → disabled after 5 days with endpoint.disabled; recover re-sends with the same webhook-ids', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const ep = await createEndpoint();
    receiver.respondWith(unavailable());
    const t0 = Date.UTC(2026, 6, 1, 0, 0, 0);
    let disabledAt: number | undefined;
    for (let day = 0; day <= 6 && disabledAt === undefined; day++) {
      now = t0 + day * DAY;
      await fanOut();
      const pending = (await deliveries(ep.id)).filter((m) => m.status === 'pending');
      for (const m of pending) {
        const a = attempted(await delivery.attempt(ws, m.id, 1, 'scheduled'));
        if (a.endpointDisabled) disabledAt = now;
      }
    }
    expect(disabledAt).toBe(t0 + 5 * DAY);
    expect(disabledAt! - t0).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER_MS);
    expect(await endpoint(ep.id)).toMatchObject({ enabled: false, disabled_reason: 'failing' });
    const emitted = await t.runtime.database.db.select().from(events).where(eq(events.type, 'endpoint.disabled'));
    expect(emitted.map((e) => e.payload)).toContainEqual({ endpoint_id: ep.id, kind: 'webhook', reason: 'failing' });
    const before = await deliveries(ep.id);
    expect(before).toHaveLength(6);
    const firstIds = new Set(receiver.requests.map((r) => r.headers['webhook-id']));

    // Manual recovery once the receiver is back.
    receiver.reset();
    receiver.respondWith(ok());
    const rec = await t.inject({
      method: 'POST',
      url: `/api/v1/webhook-endpoints/${ep.id}/recover`,
      headers: bearer(owner.access_token),
      payload: { since },
    });
    expect(rec.statusCode, rec.body).toBe(202);
    expect(rec.json()).toEqual({ recovered: 6 });
    expect(await endpoint(ep.id)).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    for (const m of await deliveries(ep.id)) {
      expect(m.status).toBe('pending');
      const a = attempted(await delivery.attempt(ws, m.id, m.attempts + 1, 'recover'));
      expect(a.next.kind).toBe('delivered');
    }
    expect(receiver.requests).toHaveLength(6);
    for (const r of receiver.requests) expect(firstIds.has(r.headers['webhook-id'])).toBe(true);
    expect((await deliveries(ep.id)).every((m) => m.status === 'succeeded')).toBe(true);
  });

  it('resend sends a message again with the same webhook-id and a new cycle', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    attempted(await delivery.attempt(ws, msg.id, 1, 'scheduled'));
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/webhook-endpoints/${ep.id}/deliveries/${msg.id}/resend`,
      headers: bearer(owner.access_token),
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ id: msg.id, status: 'pending', attempts: 1 });
    expect(await queues.queue('webhooks').getJob(deliverJobId(msg.id, 2))).toBeTruthy();
    receiver.enqueue(unavailable());
    const a = attempted(await delivery.attempt(ws, msg.id, 2, 'resend'));
    // A new cycle: the first retry comes after ~5 s again.
    expect((a.next as { delayMs: number }).delayMs).toBeLessThanOrEqual(6_000);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([msg.id, msg.id]);
  });

  it('rotate-secret: both secrets sign for 24 hours, then only the new one', async () => {
    const ep = await createEndpoint();
    const rot = await t.inject({
      method: 'POST',
      url: `/api/v1/webhook-endpoints/${ep.id}/rotate-secret`,
      headers: bearer(owner.access_token),
      payload: {},
    });
    expect(rot.statusCode, rot.body).toBe(200);
    const { secret: fresh, previous_secret_expires_at } = rot.json<{ secret: string; previous_secret_expires_at: string }>();
    expect(Date.parse(previous_secret_expires_at) - now).toBe(DAY);
    await fanOut();
    const [m1] = await deliveries(ep.id);
    attempted(await delivery.attempt(ws, m1.id, 1, 'scheduled'));
    const req = receiver.requests[0];
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(signatureValid(req, ep.secret)).toBe(true);
    expect(signatureValid(req, fresh)).toBe(true);
    now += DAY + 1000;
    await fanOut();
    const m2 = (await deliveries(ep.id)).find((m) => m.id !== m1.id)!;
    attempted(await delivery.attempt(ws, m2.id, 1, 'scheduled'));
    const req2 = receiver.requests[1];
    expect(String(req2.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(signatureValid(req2, fresh)).toBe(true);
    expect(signatureValid(req2, ep.secret)).toBe(false);
  });

  it('rate limit: deliveries beyond the per-second budget are deferred, not attempted', async () => {
    const ep = await createEndpoint({ rate_limit_per_second: 2 });
    for (let i = 0; i < 5; i++) await fanOut();
    const msgs = await deliveries(ep.id);
    const results = await Promise.all(msgs.map((m) => delivery.attempt(ws, m.id, 1, 'scheduled')));
    const sent = results.filter((r) => r.kind === 'attempted').length;
    const deferred = results.filter((r) => r.kind === 'rate_limited');
    // Two per window; a window boundary during the burst may let two more through.
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(sent).toBeLessThanOrEqual(4);
    expect(deferred.length).toBe(5 - sent);
    expect(receiver.requests).toHaveLength(sent);
    for (const d of deferred) expect((d as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
    expect((await deliveries(ep.id)).filter((m) => m.status === 'pending')).toHaveLength(5 - sent);
  });

  it('row 19: two runs of the same attempt at once send it once', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    const results = await Promise.allSettled([
      delivery.attempt(ws, msg.id, 1, 'scheduled'),
      delivery.attempt(ws, msg.id, 1, 'scheduled'),
    ]);
    expect(receiver.requests).toHaveLength(1);
    const kinds = results.map((r) => (r.status === 'fulfilled' ? r.value.kind : (r.reason as Error).name));
    expect(kinds).toContain('attempted');
    expect(kinds.filter((k) => k === 'attempted')).toHaveLength(1);
  });

  it('the sweep re-enqueues work whose queue hand-off was lost (row 20: crash between commit and enqueue)', async () => {
    const ep = await createEndpoint();
    await fanOut();
    const [msg] = await deliveries(ep.id);
    // As if the first job had been lost: nothing in the queue, the message due 5 minutes ago.
    await (await queues.queue('webhooks').getJob(deliverJobId(msg.id, 1)))?.remove();
    await t.runtime.database.pool.query(
      `update webhook_messages set next_attempt_at = now() - interval '5 minutes' where id = $1`,
      [msg.id],
    );
    // An inbound event stored a minute ago whose processing job never made it to the queue.
    const src = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: bearer(owner.access_token),
        payload: { provider: 'zapier', name: 'sweep' },
      })
    ).json<{ id: string; secret: string }>();
    await t.inject({
      method: 'POST',
      url: `/api/v1/webhooks/in/${src.id}`,
      headers: { 'x-webhook-key': src.secret },
      payload: { email: 'sweep@example.com' },
    });
    const { rows } = await t.runtime.database.pool.query<{ id: string }>(
      `update inbound_events set received_at = now() - interval '1 minute' where source_id = $1 returning id`,
      [src.id],
    );
    await new Promise((r) => setTimeout(r, 100)); // let the post-answer hand-off run, then lose it
    await (await queues.queue('webhooks').getJob(inboundJobId(rows[0].id, 0)))?.remove();

    const swept = await t.app.get(WebhooksSweep).sweep({});
    expect(swept.outbound).toBeGreaterThanOrEqual(1);
    expect(swept.inbound).toBeGreaterThanOrEqual(1);
    expect(await queues.queue('webhooks').getJob(deliverJobId(msg.id, 1))).toBeTruthy();
    expect(await queues.queue('webhooks').getJob(inboundJobId(rows[0].id, 0))).toBeTruthy();
    // A second sweep within the claim lease does not hand the inbound event out again.
    expect((await t.app.get(WebhooksSweep).sweep({})).inbound).toBe(0);
  });

  it('POST /test sends a signed sample now and returns the attempt', async () => {
    const ep = await createEndpoint();
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/webhook-endpoints/${ep.id}/test`,
      headers: bearer(owner.access_token),
      payload: { event_type: 'lead.converted' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.attempt).toMatchObject({ status_code: 200, ok: true, trigger: 'test' });
    expect(body.delivery).toMatchObject({ status: 'succeeded', event_type: 'lead.converted', event_id: null });
    const sent = JSON.parse(receiver.requests[0].body);
    expect(sent.type).toBe('lead.converted');
    expect(sent.data).toHaveProperty('lead_id');
    expect(signatureValid(receiver.requests[0], ep.secret)).toBe(true);
  });
});
