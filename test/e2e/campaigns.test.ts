import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asWorkspaceId } from '../../src/auth/auth-context';
import { LeadConversionsService } from '../../src/modules/leads/lead-conversions.service';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

describe.each(await dbTargets())('campaigns and conversions (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(target, { env: { RATE_LIMIT_MAX: '100000' } });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
  });
  afterAll(() => t?.close());

  const create = (payload: object) => t.inject({ method: 'POST', url: '/api/v1/campaigns', headers: h, payload });

  it('creates, lists, reads, patches and deletes campaigns', async () => {
    const res = await create({
      name: 'Spring launch',
      channel: 'paid_social',
      budget: { amount_minor: 150000, currency: 'eur' },
      starts_on: '2026-03-01',
      ends_on: '2026-03-31',
      utm_campaign: 'spring-26',
    });
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({ status: 'draft', budget: { amount_minor: 150000, currency: 'EUR' }, utm_campaign: 'spring-26' });
    expect((await create({ name: 'Dup', channel: 'email', utm_campaign: 'spring-26' })).statusCode).toBe(409);
    expect(
      (await create({ name: 'Bad dates', channel: 'email', starts_on: '2026-03-02', ends_on: '2026-03-01' })).statusCode,
    ).toBe(400);
    expect((await create({ name: 'x', channel: 'carrier-pigeon' })).statusCode).toBe(400);
    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/campaigns/${c.id}`,
      headers: h,
      payload: { status: 'active', budget: null },
    });
    expect(patched.json()).toMatchObject({ status: 'active', budget: null });
    expect(
      (await t.inject({ method: 'PATCH', url: `/api/v1/campaigns/${c.id}`, headers: h, payload: { ends_on: '2026-01-01' } }))
        .statusCode,
    ).toBe(400);
    const list = (await t.inject({ url: '/api/v1/campaigns?status=active', headers: h })).json();
    expect(list.data.map((x: { id: string }) => x.id)).toEqual([c.id]);
    const other = (await create({ name: 'Temp', channel: 'other' })).json();
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/campaigns/${other.id}`, headers: h })).statusCode).toBe(204);
    expect((await t.inject({ url: `/api/v1/campaigns/${other.id}`, headers: h })).statusCode).toBe(404);
  });

  it('attributes leads by utm_campaign and reports the funnel and revenue, counting each conversion once', async () => {
    const c = (await create({ name: 'Webinar', channel: 'event', utm_campaign: 'webinar-7' })).json();
    const post = (payload: object) => t.inject({ method: 'POST', url: '/api/v1/leads', headers: h, payload });
    const a = (await post({ email: 'a@camp.test', utm_campaign: 'webinar-7', consent: { status: 'granted' } })).json().lead;
    const b = (await post({ email: 'b@camp.test', utm_campaign: 'webinar-7' })).json().lead;
    await post({ email: 'c@camp.test', utm_campaign: 'other' });
    expect(a.campaign_id).toBe(c.id);

    const conversions = t.app.get(LeadConversionsService);
    const ws = asWorkspaceId(owner.workspace.id);
    const paid = {
      email: 'A@camp.test',
      amount_minor: 4900,
      currency: 'usd',
      occurred_at: new Date().toISOString(),
      source: 'stripe',
      external_id: 'in_1',
    };
    const first = await conversions.recordConversion(ws, paid);
    expect(first).toMatchObject({ duplicate: false, lead_id: a.id, lead_created: false });
    expect((await conversions.recordConversion(ws, paid)).duplicate).toBe(true);
    await conversions.recordConversion(ws, { ...paid, amount_minor: -900, external_id: 're_1' });
    const newCustomer = await conversions.recordConversion(ws, {
      ...paid,
      email: 'new@camp.test',
      external_id: 'in_2',
      amount_minor: 1000,
    });
    expect(newCustomer.lead_created).toBe(true);

    const lead = (await t.inject({ url: `/api/v1/leads/${a.id}`, headers: h })).json();
    expect(lead.status).toBe('customer');
    expect(lead.converted_at).not.toBeNull();
    const events = await t.runtime.database.pool.query(
      `select payload from events where type = 'lead.converted' and payload->>'lead_id' = $1`,
      [a.id],
    );
    expect(events.rows).toEqual([
      { payload: { lead_id: a.id, campaign_id: c.id, value: { amount_minor: 4900, currency: 'USD' } } },
    ]);

    await t.inject({ method: 'PATCH', url: `/api/v1/leads/${b.id}`, headers: h, payload: { status: 'unsubscribed' } });
    const stats = await t.inject({ url: `/api/v1/campaigns/${c.id}/stats`, headers: h });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toEqual({
      campaign_id: c.id,
      leads: 2,
      confirmed: 1,
      emailed: 0,
      unsubscribed: 1,
      customers: 1,
      revenue: [{ currency: 'USD', amount_minor: 4000 }],
    });
  });

  it('creates or merges from provider payloads (for the HubSpot/Zapier webhooks)', async () => {
    const conversions = t.app.get(LeadConversionsService);
    const ws = asWorkspaceId(owner.workspace.id);
    const created = await conversions.upsertFromProvider(ws, { email: ' Zed@Example.com ', first_name: 'Zed' }, 'zapier');
    expect(created).toMatchObject({ result: 'created', lead: { email: 'zed@example.com', source: 'zapier' } });
    const merged = await conversions.upsertFromProvider(ws, { email: 'zed@example.com', company: 'Zco' }, 'hubspot');
    expect(merged).toMatchObject({ result: 'merged', changed_fields: ['company'], lead: { source: 'zapier' } });
    await expect(conversions.upsertFromProvider(ws, { email: 'bad' }, 'zapier')).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
