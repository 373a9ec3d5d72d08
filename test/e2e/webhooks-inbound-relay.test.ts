import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundEvents } from '../../src/db/schema/webhooks';
import { checkoutSessionCompleted, signStripe } from '../fakes/webhook-providers';
import { createApiKey, registerUser } from '../support/auth';
import { postgresAvailable } from '../support/postgres';
import { startTestApp, type TestApp } from '../support/test-app';

// Ingest is one write: an `api` process stores the event and answers; the inbound relay of a
// worker process (here a second app, role all, on the same database) finds the row and queues it.

const ENV = { RATE_LIMIT_MAX: '100000' };

describe.runIf(await postgresAvailable())('inbound relay across processes (postgres)', () => {
  let api: TestApp;
  let worker: TestApp | undefined;

  beforeAll(async () => {
    api = await startTestApp('postgres', { role: 'api', env: ENV });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  it('an api process only stores; a worker relays the row to processing', async () => {
    const owner = await registerUser(api);
    const key = (await createApiKey(api, owner.access_token, ['webhooks:manage', 'leads:read'])).key;
    const secret = 'whsec_relay_source_0123456789abcdef';
    const source = await api.inject({
      method: 'POST',
      url: '/api/v1/webhook-sources',
      headers: { 'x-api-key': key },
      payload: { provider: 'stripe', name: 'relay', secret },
    });
    expect(source.statusCode, source.body).toBe(201);
    const body = JSON.stringify(checkoutSessionCompleted('relay@example.com', 4_200, 'eur'));
    const res = await api.inject({
      method: 'POST',
      url: `/api/v1/webhooks/in/${source.json<{ id: string }>().id}`,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, secret) },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);

    const db = api.runtime.database.db;
    const rows = () => db.select().from(inboundEvents).where(eq(inboundEvents.sourceKey, source.json<{ id: string }>().id));
    await new Promise((r) => setTimeout(r, 600)); // longer than the relay's poll: nobody relays in an api process
    expect((await rows()).map((r) => [r.status, r.claimedUntil])).toEqual([['received', null]]);

    worker = await startTestApp('postgres', { role: 'all', env: { ...ENV, DATABASE_URL: api.config.DATABASE_URL! } });
    const deadline = Date.now() + 20_000;
    while ((await rows())[0]?.status !== 'processed') {
      if (Date.now() > deadline) throw new Error(`not processed: ${JSON.stringify(await rows())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await rows())[0]).toMatchObject({ status: 'processed', attempts: 1 });
  });
});
