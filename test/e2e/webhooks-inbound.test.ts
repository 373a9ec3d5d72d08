import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { conversions } from '../../src/db/schema/leads';
import { inboundEvents } from '../../src/db/schema/webhooks';
import { InboundRepository } from '../../src/modules/webhooks/inbound/inbound.repository';
import { WebhookEffectsTestModule, RecordingStandardHandler } from '../fakes/webhook-effects.module';
import {
  checkoutSessionCompleted,
  hubspotContactCreation,
  hubspotPropertyChange,
  hubspotV3Headers,
  signStripe,
  standardHeaders,
  stripeEvent,
} from '../fakes/webhook-providers';
import { addMember, bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const ENV = { RATE_LIMIT_MAX: '100000', OUTBOX_POLL_INTERVAL_MS: '200' };
const SEED_SECRET = 'whsec_test_0123456789abcdef0123456789abcdef0123'; // WEBHOOK_SECRET of the test harness

async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null> | T,
  timeoutMs = 15_000,
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

describe.each(await dbTargets())('inbound webhooks (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;
  let handler: RecordingStandardHandler;

  beforeAll(async () => {
    t = await startTestApp(target, { role: 'all', env: ENV, extraImports: [WebhookEffectsTestModule] });
    owner = await registerUser(t);
    // An API key, not the 15-minute access token: on a busy machine this suite outlives a token.
    h = { 'x-api-key': (await createApiKey(t, owner.access_token, ['webhooks:manage', 'leads:read'])).key };
    handler = t.app.get(RecordingStandardHandler);
  });
  afterAll(() => t?.close());

  const createSource = async (payload: Record<string, unknown>) => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/webhook-sources', headers: h, payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; url: string; secret?: string }>();
  };
  const inboxOf = async (sourceId: string) => {
    const res = await t.inject({ url: `/api/v1/webhooks/inbound-events?source_id=${sourceId}&limit=200`, headers: h });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{
      data: Array<{
        id: string;
        status: string;
        outcome: string | null;
        type: string;
        provider_event_id: string;
        attempts: number;
      }>;
    }>().data;
  };
  const postStripe = (path: string, body: string, secret: string, timestamp?: number) =>
    t.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, secret, timestamp) },
      payload: body,
    });
  const lead = async (email: string) => {
    const res = await t.inject({ url: `/api/v1/leads?q=${encodeURIComponent(email)}`, headers: h });
    return res.json<{
      data: Array<{ id: string; email: string; status: string; first_name: string | null; source: string | null }>;
    }>().data[0];
  };
  const rejectedCount = async (provider: string, reason: string) => {
    const m = (await t.inject({ url: '/metrics' })).body;
    const line = m
      .split('\n')
      .find((l) => l.startsWith(`webhook_inbound_rejected_total{provider="${provider}",reason="${reason}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  describe('sources', () => {
    it('CRUD with encrypted secrets shown as hints; settings validated per provider', async () => {
      const src = await createSource({
        provider: 'hmac',
        name: 'Shop',
        settings: { hmac: { header: 'X-Shop-Signature', encoding: 'base64' } },
      });
      expect(src.secret).toMatch(/^[0-9a-f]{64}$/);
      const got = (await t.inject({ url: `/api/v1/webhook-sources/${src.id}`, headers: h })).json();
      expect(got).toMatchObject({
        provider: 'hmac',
        settings: { hmac: { header: 'x-shop-signature', algorithm: 'sha256', encoding: 'base64' } },
      });
      expect(got.secrets).toEqual([expect.objectContaining({ hint: `…${src.secret!.slice(-4)}`, expires_at: null })]);
      expect(JSON.stringify(got)).not.toContain(src.secret);
      const [row] = await t.runtime.database.db
        .execute<{ secrets_sealed: string }>(`select secrets_sealed from webhook_sources where id = '${src.id}'` as never)
        .then((r) => r.rows);
      expect(row.secrets_sealed).toMatch(/^v1\./);
      expect(row.secrets_sealed).not.toContain(src.secret);

      const bad = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: h,
        payload: { provider: 'hmac', name: 'x' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors.map((e: { path: string }) => e.path)).toContain('settings.hmac');
      const noSecret = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: h,
        payload: { provider: 'stripe', name: 'x' },
      });
      expect(noSecret.statusCode).toBe(400);
      const extra = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: h,
        payload: { provider: 'zapier', name: 'x', workspace_id: owner.workspace.id },
      });
      expect(extra.statusCode).toBe(400);
      expect(extra.json().errors[0].path).toBe('workspace_id');

      const list = (await t.inject({ url: '/api/v1/webhook-sources?limit=1', headers: h })).json();
      expect(list.data).toHaveLength(1);
      const del = await t.inject({ method: 'DELETE', url: `/api/v1/webhook-sources/${src.id}`, headers: h });
      expect(del.statusCode).toBe(204);
      const gone = await t.inject({ method: 'POST', url: `/api/v1/webhooks/in/${src.id}`, payload: {} });
      expect(gone.statusCode).toBe(404);
    });

    it('row 3: a member cannot manage sources', async () => {
      const member = await addMember(t, owner, 'member');
      const res = await t.inject({ method: 'GET', url: '/api/v1/webhook-sources', headers: bearer(member.access_token) });
      expect(res.statusCode).toBe(403);
    });

    it('rotating the secret keeps the old one valid (several active secrets)', async () => {
      const oldSecret = 'whsec_old_secret_0123456789abcdef';
      const src = await createSource({ provider: 'stripe', name: 'rotating', secret: oldSecret });
      const newSecret = 'whsec_new_secret_0123456789abcdef';
      const patched = await t.inject({
        method: 'PATCH',
        url: `/api/v1/webhook-sources/${src.id}`,
        headers: h,
        payload: { secret: newSecret },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().secrets).toHaveLength(2);
      expect(patched.json().secrets[1].expires_at).not.toBeNull();
      for (const secret of [oldSecret, newSecret]) {
        const body = JSON.stringify(stripeEvent('customer.updated', { id: `cus_${secret.slice(6, 9)}`, object: 'customer' }));
        expect((await postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret)).statusCode).toBe(200);
      }
    });
  });

  describe('verification (rows 10, 11)', () => {
    it('row 10: tampered body, wrong secret, missing header → 400, nothing stored, counted on /metrics', async () => {
      const secret = 'whsec_verify_source_0123456789abc';
      const src = await createSource({ provider: 'stripe', name: 'verify', secret });
      const path = `/api/v1/webhooks/in/${src.id}`;
      const body = JSON.stringify(checkoutSessionCompleted('tamper@example.com'));
      const before = await rejectedCount('stripe', 'bad_signature');
      const tampered = await t.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, secret) },
        payload: body.replace('tamper@', 'evil@'),
      });
      expect(tampered.statusCode).toBe(400);
      expect(tampered.headers['content-type']).toMatch(/problem\+json/);
      expect((await postStripe(path, body, 'whsec_wrong_0123456789abcdef')).statusCode).toBe(400);
      const missing = await t.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      expect(missing.statusCode).toBe(400);
      expect(await inboxOf(src.id)).toEqual([]);
      expect(await rejectedCount('stripe', 'bad_signature')).toBe(before + 2);
      expect(await rejectedCount('stripe', 'missing_header')).toBeGreaterThanOrEqual(1);
    });

    it('row 11: a signature 6 minutes old or 6 minutes ahead is refused', async () => {
      const secret = 'whsec_stale_source_0123456789abcd';
      const src = await createSource({ provider: 'stripe', name: 'stale', secret });
      const body = JSON.stringify(checkoutSessionCompleted('stale@example.com'));
      const now = Math.floor(Date.now() / 1000);
      expect((await postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret, now - 360)).statusCode).toBe(400);
      expect((await postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret, now + 360)).statusCode).toBe(400);
      expect(await inboxOf(src.id)).toEqual([]);
    });

    it('keeps the raw body for signed routes only; other routes still parse JSON and refuse bad JSON', async () => {
      const src = await createSource({ provider: 'standard', name: 'raw' });
      // Whitespace and key order are part of what was signed.
      const body = '{ "type" : "raw.check",\n  "data": {"b":1,"a":2} }';
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/webhooks/in/${src.id}`,
        headers: { 'content-type': 'application/json; charset=utf-8', ...standardHeaders(src.secret!, body) },
        payload: body,
      });
      expect(res.statusCode, res.body).toBe(200);
      const broken = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: { ...h, 'content-type': 'application/json' },
        payload: '{"x":',
      });
      expect(broken.statusCode).toBe(400);
      const deep = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-sources',
        headers: { ...h, 'content-type': 'application/json' },
        payload: '['.repeat(100) + ']'.repeat(100),
      });
      expect(deep.statusCode).toBe(400);
    });

    it('Zapier: a wrong key is 401; JSON and form posts create or merge a lead', async () => {
      const src = await createSource({ provider: 'zapier', name: 'Zap' });
      const path = `/api/v1/webhooks/in/${src.id}`;
      const bad = await t.inject({
        method: 'POST',
        url: path,
        headers: { 'x-webhook-key': 'nope' },
        payload: { email: 'z@example.com' },
      });
      expect(bad.statusCode).toBe(401);
      const json = await t.inject({
        method: 'POST',
        url: path,
        headers: { 'x-webhook-key': src.secret! },
        payload: { Email: 'zap@example.com', 'First Name': 'Zed', plan: 'pro' },
      });
      expect(json.statusCode, json.body).toBe(200);
      const form = await t.inject({
        method: 'POST',
        url: path,
        headers: { 'x-webhook-key': src.secret!, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=zap%40example.com&company=Acme&tags=a%2Cb',
      });
      expect(form.statusCode, form.body).toBe(200);
      await waitFor(
        async () => (await inboxOf(src.id)).every((e) => e.status === 'processed') && (await inboxOf(src.id)).length === 2,
        15_000,
        'zapier processed',
      );
      const l = await lead('zap@example.com');
      expect(l).toMatchObject({ email: 'zap@example.com', first_name: 'Zed', source: 'zapier' });
      expect((await inboxOf(src.id)).map((e) => e.outcome).sort()).toEqual(['lead_created', 'lead_merged']);
    });
  });

  describe('inbox and processing (rows 12, 13, 14)', () => {
    it('row 12: the same event delivered 3 times at once → 2xx each time, effect once', async () => {
      const src = await createSource({ provider: 'standard', name: 'Svix sender' });
      expect(src.secret).toMatch(/^whsec_/);
      const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1' } });
      const headers = { 'content-type': 'application/json', ...standardHeaders(src.secret!, body, { id: 'msg_once_1' }) };
      const answers = await Promise.all(
        [1, 2, 3].map(() => t.inject({ method: 'POST', url: `/api/v1/webhooks/in/${src.id}`, headers, payload: body })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
      expect(answers.map((a) => a.json().duplicates).sort()).toEqual([0, 1, 1]);
      await waitFor(async () => (await inboxOf(src.id))[0]?.status === 'processed', 15_000, 'processed');
      expect(await inboxOf(src.id)).toHaveLength(1);
      expect(handler.applied.filter((id) => id === 'msg_once_1')).toHaveLength(1);
    });

    it('row 12: three concurrent Stripe deliveries of one checkout → one conversion', async () => {
      const secret = 'whsec_conc_source_0123456789abcd';
      const src = await createSource({ provider: 'stripe', name: 'conc', secret });
      const body = JSON.stringify(checkoutSessionCompleted('once@example.com', 12_900, 'eur'));
      const answers = await Promise.all([1, 2, 3].map(() => postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret)));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
      await waitFor(async () => (await inboxOf(src.id))[0]?.status === 'processed', 15_000, 'processed');
      const l = await lead('once@example.com');
      expect(l.status).toBe('customer');
      const conv = await t.runtime.database.db.select().from(conversions).where(eq(conversions.leadId, l.id));
      expect(conv).toHaveLength(1);
      expect(conv[0]).toMatchObject({ amountMinor: 12_900, currency: 'EUR', source: 'stripe' });
    });

    it('row 13: invoice.paid before customer.created converges; a refund records negative revenue', async () => {
      const secret = 'whsec_order_source_0123456789abc';
      const src = await createSource({ provider: 'stripe', name: 'order', secret });
      const path = `/api/v1/webhooks/in/${src.id}`;
      const email = 'order@example.com';
      const invoice = stripeEvent('invoice.paid', {
        id: 'in_123',
        object: 'invoice',
        customer_email: email,
        amount_paid: 5000,
        currency: 'usd',
      });
      const customer = stripeEvent('customer.created', { id: 'cus_123', object: 'customer', email, name: 'Olive Order' });
      expect((await postStripe(path, JSON.stringify(invoice), secret)).statusCode).toBe(200);
      expect((await postStripe(path, JSON.stringify(customer), secret)).statusCode).toBe(200);
      await waitFor(
        async () => (await inboxOf(src.id)).filter((e) => e.status === 'processed').length === 2,
        45_000,
        'both processed',
      );
      const l = await lead(email);
      expect(l.status).toBe('customer');
      const refund = stripeEvent('charge.refunded', {
        id: 'ch_123',
        object: 'charge',
        currency: 'usd',
        amount: 5000,
        amount_refunded: 2000,
        billing_details: { email },
        refunds: { data: [{ id: 're_1', amount: 2000, created: Math.floor(Date.now() / 1000) }] },
      });
      expect((await postStripe(path, JSON.stringify(refund), secret)).statusCode).toBe(200);
      await waitFor(
        async () => (await inboxOf(src.id)).filter((e) => e.status === 'processed').length === 3,
        45_000,
        'refund processed',
      );
      const conv = await t.runtime.database.db.select().from(conversions).where(eq(conversions.leadId, l.id));
      expect(conv.map((c) => c.amountMinor).sort((a, b) => a - b)).toEqual([-2000, 5000]);
      // The reverse order in another workspace source gives the same state.
      const email2 = 'order2@example.com';
      const c2 = stripeEvent('customer.created', { id: 'cus_2', object: 'customer', email: email2 });
      const i2 = stripeEvent('invoice.paid', {
        id: 'in_2',
        object: 'invoice',
        customer_email: email2,
        amount_paid: 5000,
        currency: 'usd',
      });
      await postStripe(path, JSON.stringify(c2), secret);
      await postStripe(path, JSON.stringify(i2), secret);
      await waitFor(
        async () => (await inboxOf(src.id)).filter((e) => e.status === 'processed').length === 5,
        45_000,
        'reverse processed',
      );
      const l2 = await lead(email2);
      expect(l2.status).toBe('customer');
      expect(await t.runtime.database.db.select().from(conversions).where(eq(conversions.leadId, l2.id))).toHaveLength(1);
    });

    it('row 14: when the insert fails the provider gets a 5xx (and a retry then succeeds)', async () => {
      const secret = 'whsec_fail_source_0123456789abcd';
      const src = await createSource({ provider: 'stripe', name: 'fail', secret });
      const body = JSON.stringify(checkoutSessionCompleted('retry@example.com'));
      const repo = t.app.get(InboundRepository);
      const spy = vi.spyOn(repo, 'insertNew').mockRejectedValueOnce(new Error('connection terminated'));
      const failed = await postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret);
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['retry-after']).toBeDefined();
      expect(await inboxOf(src.id)).toEqual([]);
      spy.mockRestore();
      const retried = await postStripe(`/api/v1/webhooks/in/${src.id}`, body, secret);
      expect(retried.statusCode).toBe(200);
      expect(await inboxOf(src.id)).toHaveLength(1);
    });

    it('a failing handler retries; replay re-runs an event without repeating applied effects', async () => {
      const src = await createSource({ provider: 'standard', name: 'flaky' });
      handler.failNext = 1;
      const body = JSON.stringify({ type: 'order.created', data: { id: 'o1' } });
      await t.inject({
        method: 'POST',
        url: `/api/v1/webhooks/in/${src.id}`,
        headers: { 'content-type': 'application/json', ...standardHeaders(src.secret!, body, { id: 'msg_flaky' }) },
        payload: body,
      });
      const ev = await waitFor(
        async () => (await inboxOf(src.id)).find((e) => e.status === 'processed'),
        20_000,
        'processed after retry',
      );
      expect(ev.attempts).toBeGreaterThanOrEqual(2);
      expect(handler.applied.filter((x) => x === 'msg_flaky')).toHaveLength(1);
      const replay = await t.inject({ method: 'POST', url: `/api/v1/webhooks/inbound-events/${ev.id}/replay`, headers: h });
      expect(replay.statusCode, replay.body).toBe(202);
      await waitFor(async () => (await inboxOf(src.id))[0]?.status === 'processed', 15_000, 'replayed');
      expect(handler.applied.filter((x) => x === 'msg_flaky')).toHaveLength(1);
      const detail = (await t.inject({ url: `/api/v1/webhooks/inbound-events/${ev.id}`, headers: h })).json();
      expect(detail).toMatchObject({ replay_count: 1, payload: { type: 'order.created' } });
      expect(detail.headers).toHaveProperty('webhook-id', 'msg_flaky');
    });

    it('events no handler knows are stored and marked ignored', async () => {
      const src = await createSource({ provider: 'standard', name: 'unhandled' });
      const body = JSON.stringify({ type: 'unhandled.type' });
      await t.inject({
        method: 'POST',
        url: `/api/v1/webhooks/in/${src.id}`,
        headers: { 'content-type': 'application/json', ...standardHeaders(src.secret!, body) },
        payload: body,
      });
      const ev = await waitFor(async () => (await inboxOf(src.id)).find((e) => e.status === 'ignored'), 15_000, 'ignored');
      expect(ev.outcome).toBe('no_handler');
    });
  });

  describe('HubSpot', () => {
    it('v3-signed contact events upsert the lead; a property change before the email converges', async () => {
      const secret = 'hubspot-app-client-secret-0123456789';
      const src = await createSource({ provider: 'hubspot', name: 'HubSpot app', secret });
      const path = `/api/v1/webhooks/in/${src.id}`;
      const post = (events: unknown[]) => {
        const body = JSON.stringify(events);
        return t.inject({
          method: 'POST',
          url: path,
          headers: {
            host: 'hooks.example.com',
            'content-type': 'application/json',
            ...hubspotV3Headers({ secret, uri: `http://hooks.example.com${path}`, body }),
          },
          payload: body,
        });
      };
      // Out of order: the name arrives before the email.
      const name = await post([hubspotPropertyChange(901, 'firstname', 'Hana')]);
      expect(name.statusCode, name.body).toBe(200);
      const both = await post([hubspotContactCreation(901), hubspotPropertyChange(901, 'email', 'hana@example.com')]);
      expect(both.json()).toMatchObject({ received: 2, duplicates: 0 });
      await waitFor(async () => (await lead('hana@example.com'))?.first_name === 'Hana', 30_000, 'lead converged');
      const l = await lead('hana@example.com');
      expect(l.source).toBe('hubspot');
      const stale = await t.inject({
        method: 'POST',
        url: path,
        headers: {
          host: 'hooks.example.com',
          'content-type': 'application/json',
          ...hubspotV3Headers({
            secret,
            uri: `http://hooks.example.com${path}`,
            body: '[]',
            timestampMs: Date.now() - 6 * 60_000,
          }),
        },
        payload: '[]',
      });
      expect(stale.statusCode).toBe(400);
    });
  });

  describe('seed route POST /webhooks/stripe', () => {
    it('verifies with WEBHOOK_SECRET and stores for the only workspace; several workspaces need DEFAULT_WORKSPACE_ID', async () => {
      const solo = await startTestApp(target, { role: 'api', env: ENV });
      try {
        const user = await registerUser(solo);
        const body = JSON.stringify(checkoutSessionCompleted('seed@example.com'));
        const post = (secret: string) =>
          solo.inject({
            method: 'POST',
            url: '/api/v1/webhooks/stripe',
            headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, secret) },
            payload: body,
          });
        expect((await post('whsec_not_the_configured_secret_01')).statusCode).toBe(400);
        const ok = await post(SEED_SECRET);
        expect(ok.statusCode, ok.body).toBe(200);
        const rows = await solo.runtime.database.db
          .select()
          .from(inboundEvents)
          .where(eq(inboundEvents.sourceKey, 'seed:stripe'));
        expect(rows).toHaveLength(1);
        expect(rows[0].workspaceId).toBe(user.workspace.id);
        const list = (await solo.inject({ url: '/api/v1/webhooks/inbound-events', headers: bearer(user.access_token) })).json();
        expect(list.data[0]).toMatchObject({ source_id: null, provider: 'stripe', type: 'checkout.session.completed' });
      } finally {
        await solo.close();
      }
      // This app has several workspaces and no DEFAULT_WORKSPACE_ID: the event is refused with a 5xx (Stripe retries).
      const body = JSON.stringify(checkoutSessionCompleted('many@example.com'));
      const many = await postStripe('/api/v1/webhooks/stripe', body, SEED_SECRET);
      expect(many.statusCode).toBe(503);
      expect(many.json().detail).toMatch(/DEFAULT_WORKSPACE_ID/);
    });
  });

  describe('outbound URLs (row 15, at save time)', () => {
    it.each([
      'http://169.254.169.254/',
      'http://127.0.0.1:6379',
      'http://[::ffff:127.0.0.1]/',
      'http://10.0.0.1/',
      'http://100.64.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://localhost:8080/',
      'ftp://example.com/',
      'https://user:pw@example.com/',
    ])('refuses %s', async (url) => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/webhook-endpoints',
        headers: h,
        payload: { url, event_types: ['*'] },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].path).toBe('url');
      const zap = await t.inject({
        method: 'POST',
        url: '/api/v1/zapier/hooks',
        headers: h,
        payload: { target_url: url, event: 'lead.created' },
      });
      expect(zap.statusCode).toBe(400);
    });
  });
});
