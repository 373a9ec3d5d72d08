import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver, gone } from '../fakes/webhook-receiver';
import { addMember, bearer, createApiKey, registerUser, uniqueEmail, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const ENV = {
  RATE_LIMIT_MAX: '100000',
  OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
  OUTBOX_POLL_INTERVAL_MS: '200',
};

async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null> | T,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The whole path with the worker running: a lead is created → outbox → fan-out → signed delivery. */
describe.each(await dbTargets())('outbound webhooks end to end (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;
  let receiver: WebhookReceiver;
  let zap: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp(target, { role: 'all', env: ENV });
    owner = await registerUser(t);
    // An API key, not the 15-minute access token: on a busy machine this suite outlives a token.
    h = { 'x-api-key': (await createApiKey(t, owner.access_token, ['webhooks:manage', 'leads:read', 'leads:write'])).key };
    zap = await createApiKey(t, owner.access_token, ['webhooks:manage']);
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(() => receiver.reset());

  const createLead = async (email = uniqueEmail('lead')) => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/leads', headers: h, payload: { email, source: 'api' } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ lead: { id: string } }>().lead.id;
  };

  it('endpoint CRUD: the secret is shown once; event types come from the catalogue', async () => {
    const created = await t.inject({
      method: 'POST',
      url: '/api/v1/webhook-endpoints',
      headers: h,
      payload: { url: `${receiver.url}/crud`, event_types: ['lead.created', 'lead.converted'], description: 'CRM' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const ep = created.json();
    expect(ep.secret).toMatch(/^whsec_/);
    const got = (await t.inject({ url: `/api/v1/webhook-endpoints/${ep.id}`, headers: h })).json();
    expect(got).not.toHaveProperty('secret');
    expect(JSON.stringify(got)).not.toContain(ep.secret);
    expect(got.secrets[0].hint).toBe(`…${ep.secret.slice(-4)}`);

    const unknown = await t.inject({
      method: 'POST',
      url: '/api/v1/webhook-endpoints',
      headers: h,
      payload: { url: `${receiver.url}/x`, event_types: ['lead.exploded'] },
    });
    expect(unknown.statusCode).toBe(400);
    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/webhook-endpoints/${ep.id}`,
      headers: h,
      payload: { enabled: false },
    });
    expect(patched.json()).toMatchObject({ enabled: false, disabled_reason: 'manual' });
    const types = (await t.inject({ url: '/api/v1/webhooks/event-types', headers: h })).json();
    expect(types.data.map((x: { type: string }) => x.type)).toEqual(
      expect.arrayContaining(['lead.created', 'endpoint.disabled']),
    );
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${ep.id}`, headers: h })).statusCode).toBe(204);
    expect((await t.inject({ url: `/api/v1/webhook-endpoints/${ep.id}`, headers: h })).statusCode).toBe(404);
  });

  it('row 3: a member cannot edit webhook endpoints', async () => {
    const member = await addMember(t, owner, 'member');
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/webhook-endpoints',
      headers: bearer(member.access_token),
      payload: { url: `${receiver.url}/m`, event_types: ['*'] },
    });
    expect(res.statusCode).toBe(403);
  });

  it('a lead created through the API reaches the receiver signed, verifiable with standardwebhooks', async () => {
    const ep = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-endpoints',
        headers: h,
        payload: { url: `${receiver.url}/flow`, event_types: ['*'] },
      })
    ).json();
    const leadId = await createLead();
    await waitFor(() => receiver.requests.find((r) => JSON.parse(r.body).data?.lead_id === leadId), 20_000, 'delivery');
    const req = receiver.requests.find((r) => JSON.parse(r.body).data?.lead_id === leadId)!;
    const body = new Webhook(ep.secret).verify(req.body, req.headers as Record<string, string>) as {
      type: string;
      workspace_id: string;
    };
    expect(body).toMatchObject({ type: 'lead.created', workspace_id: owner.workspace.id });
    const log = await waitFor(async () => {
      const d = (await t.inject({ url: `/api/v1/webhook-endpoints/${ep.id}/deliveries`, headers: h })).json().data;
      return d.find((m: { status: string }) => m.status === 'succeeded');
    });
    expect(log.id).toBe(req.headers['webhook-id']);
    await t.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${ep.id}`, headers: h });
  });

  describe('Zapier REST hooks', () => {
    it('/me answers for a valid key and 401 for a bad one', async () => {
      const { key, id } = zap;
      const me = await t.inject({ url: '/api/v1/me', headers: { 'x-api-key': key } });
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({ workspace_id: owner.workspace.id, kind: 'api_key', api_key_id: id });
      expect((await t.inject({ url: '/api/v1/me', headers: { 'x-api-key': 'sb_sk_nope_nope' } })).statusCode).toBe(401);
      expect((await t.inject({ url: '/api/v1/me' })).statusCode).toBe(401);
    });

    it('samples are shaped like the payload', async () => {
      const res = await t.inject({ url: '/api/v1/zapier/samples/lead.created', headers: h });
      expect(res.statusCode, res.body).toBe(200);
      const list = res.json();
      expect(Array.isArray(list)).toBe(true);
      expect(list[0]).toMatchObject({
        type: 'lead.created',
        workspace_id: owner.workspace.id,
        data: { lead_id: expect.any(String) },
      });
      expect((await t.inject({ url: '/api/v1/zapier/samples/nope.nope', headers: h })).statusCode).toBe(400);
    });

    it('subscribe → deliveries of that event only; a 410 unsubscribes; DELETE removes the hook', async () => {
      const { key } = zap;
      const zh = { 'x-api-key': key };
      const sub = await t.inject({
        method: 'POST',
        url: '/api/v1/zapier/hooks',
        headers: zh,
        payload: { target_url: `${receiver.url}/zap`, event: 'lead.created' },
      });
      expect(sub.statusCode, sub.body).toBe(201);
      const hook = sub.json();
      expect(hook).toMatchObject({ event: 'lead.created', enabled: true });
      // Zapier hooks are not listed as webhook endpoints.
      const eps = (await t.inject({ url: '/api/v1/webhook-endpoints?limit=200', headers: h })).json().data;
      expect(eps.map((e: { id: string }) => e.id)).not.toContain(hook.id);

      const leadId = await createLead();
      await waitFor(
        () => receiver.requests.find((r) => r.url === '/zap' && JSON.parse(r.body).data?.lead_id === leadId),
        20_000,
        'zap delivery',
      );
      receiver.respondWith(gone());
      const second = await createLead();
      await waitFor(
        () => receiver.requests.find((r) => r.url === '/zap' && JSON.parse(r.body).data?.lead_id === second),
        20_000,
        '410',
      );
      await waitFor(
        async () => {
          const rows = await t.runtime.database.pool.query(
            'select enabled, disabled_reason from webhook_endpoints where id = $1',
            [hook.id],
          );
          return rows.rows[0]?.enabled === false && rows.rows[0]?.disabled_reason === 'gone';
        },
        20_000,
        'hook disabled',
      );
      const del = await t.inject({ method: 'DELETE', url: `/api/v1/zapier/hooks/${hook.id}`, headers: zh });
      expect(del.statusCode).toBe(204);
      expect((await t.inject({ method: 'DELETE', url: `/api/v1/zapier/hooks/${hook.id}`, headers: zh })).statusCode).toBe(404);
    });
  });
});
