import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';
import { RecordingStandardHandler, WebhookEffectsTestModule } from '../fakes/webhook-effects.module';
import { checkoutSessionCompleted, signStripe, standardHeaders } from '../fakes/webhook-providers';

const ENV = {
  RATE_LIMIT_MAX: '100000',
  OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
  JOBS_BACKOFF_DELAY_MS: '50',
  OUTBOX_POLL_INTERVAL_MS: '200',
};

async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(await dbTargets())('inbound webhooks (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let handler: RecordingStandardHandler;
  beforeAll(async () => {
    t = await startTestApp(target, { role: 'all', env: ENV, extraImports: [WebhookEffectsTestModule] });
    owner = await registerUser(t);
    handler = t.app.get(RecordingStandardHandler);
  });
  afterAll(() => t?.close());

  const createSource = async (payload: Record<string, unknown>) => {
    const res = await t.inject({ method: 'POST', url: '/api/v1/webhook-sources', headers: bearer(owner.access_token), payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; url: string; secret?: string }>();
  };

  it('creates a Stripe source and stores a signed event once', async () => {
    const secret = 'whsec_stripe_source_0123456789abcdef';
    const src = await createSource({ provider: 'stripe', name: 'Stripe live', secret });
    expect(src.url).toMatch(new RegExp(`/api/v1/webhooks/in/${src.id}$`));
    expect(src.secret).toBeUndefined();
    const body = JSON.stringify(checkoutSessionCompleted('ann@example.com'));
    const post = () =>
      t.inject({
        method: 'POST',
        url: `/api/v1/webhooks/in/${src.id}`,
        headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, secret) },
        payload: body,
      });
    const res = await post();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ received: 1, duplicates: 0 });
    const again = await post();
    expect(again.json()).toMatchObject({ received: 1, duplicates: 1 });
    const list = await t.inject({
      url: `/api/v1/webhooks/inbound-events?source_id=${src.id}`,
      headers: bearer(owner.access_token),
    });
    expect(list.json().data).toHaveLength(1);
  });

  it('processes a Standard Webhooks event in a job, exactly once under 3 concurrent deliveries', async () => {
    const src = await createSource({ provider: 'standard', name: 'Svix sender' });
    expect(src.secret).toMatch(/^whsec_/);
    const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1' } });
    const headers = { 'content-type': 'application/json', ...standardHeaders(src.secret!, body, { id: 'msg_once_1' }) };
    const answers = await Promise.all(
      [1, 2, 3].map(() => t.inject({ method: 'POST', url: `/api/v1/webhooks/in/${src.id}`, headers, payload: body })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    await waitFor(async () => {
      const l = await t.inject({
        url: `/api/v1/webhooks/inbound-events?source_id=${src.id}`,
        headers: bearer(owner.access_token),
      });
      return l.json().data[0]?.status === 'processed';
    });
    expect(handler.applied.filter((id) => id === 'msg_once_1')).toHaveLength(1);
  });
});
