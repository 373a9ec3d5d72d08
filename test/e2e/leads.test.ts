import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStripe, stripeEvent } from '../fakes/webhook-providers';
import { bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

describe.each(await dbTargets())('leads API (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;
  const post = (payload: unknown, headers = h) =>
    t.inject({ method: 'POST', url: '/api/v1/leads', headers, payload: payload as object });

  beforeAll(async () => {
    t = await startTestApp(target, { env: { RATE_LIMIT_MAX: '100000' } });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
  });
  afterAll(() => t?.close());

  it('creates (201) then merges (200) the same normalised email (reliability row 25)', async () => {
    const created = await post({ email: ' Ann@Example.COM ', first_name: 'Ann', phone: '+1 415 555 0123', tags: ['vip'] });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      result: 'created',
      lead: { email: 'ann@example.com', phone: '+14155550123', status: 'new', tags: ['vip'] },
    });
    const merged = await post({ email: 'ann@example.com', first_name: '', last_name: 'Lee', tags: ['news'] });
    expect(merged.statusCode).toBe(200);
    expect(merged.json()).toMatchObject({
      result: 'merged',
      changed_fields: ['last_name', 'tags'],
      lead: { id: c.lead.id, first_name: 'Ann', last_name: 'Lee', tags: ['vip', 'news'] },
    });
  });

  it('flags the Gmail variant as a possible duplicate, not merged', async () => {
    const ann = (await post({ email: 'ann@gmail.com' })).json();
    const variant = await post({ email: 'a.nn+x@gmail.com' });
    expect(variant.statusCode).toBe(201);
    expect(variant.json().lead.possible_duplicate_of).toBe(ann.lead.id);
  });

  it('refuses invalid phones, NUL and bidi controls in names, unknown and internal properties (rows 2, 26)', async () => {
    const bad = await post({
      email: 'x@example.com',
      phone: '+1 555',
      first_name: 'A\u0000b',
      last_name: 'x\u202Ey',
      workspace_id: 'w',
      id: 'i',
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['first_name', 'id', 'last_name', 'phone', 'workspace_id']);
    expect((await post({ email: 'nope' })).statusCode).toBe(400);
  });

  it('lists with filters and cursor pages, reads, patches and shows the timeline', async () => {
    for (let i = 0; i < 5; i++)
      await post({ email: `page${i}@example.com`, source: 'webinar', tags: i % 2 ? ['odd'] : ['even'] });
    const page1 = await t.inject({ url: '/api/v1/leads?source=webinar&limit=2', headers: h });
    expect(page1.statusCode).toBe(200);
    const b1 = page1.json();
    expect(b1.data).toHaveLength(2);
    expect(b1.data[0].email).toBe('page4@example.com');
    const page2 = (await t.inject({ url: `/api/v1/leads?source=webinar&limit=2&cursor=${b1.next_cursor}`, headers: h })).json();
    expect(page2.data.map((l: { email: string }) => l.email)).toEqual(['page2@example.com', 'page1@example.com']);
    const odd = (await t.inject({ url: '/api/v1/leads?tag=odd', headers: h })).json();
    expect(odd.data.map((l: { email: string }) => l.email).sort()).toEqual(['page1@example.com', 'page3@example.com']);
    const q = (await t.inject({ url: '/api/v1/leads?q=PAGE3', headers: h })).json();
    expect(q.data).toHaveLength(1);
    expect((await t.inject({ url: '/api/v1/leads?limit=100000', headers: h })).statusCode).toBe(200);

    const id = q.data[0].id;
    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/leads/${id}`,
      headers: h,
      payload: { first_name: 'Pat', status: 'qualified' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ first_name: 'Pat', status: 'qualified' });
    const activity = (await t.inject({ url: `/api/v1/leads/${id}/activity`, headers: h })).json();
    expect(activity.data.map((a: { type: string }) => a.type)).toEqual(['updated', 'status_changed', 'created']);
    expect((await t.inject({ url: `/api/v1/leads/${id}`, headers: h })).json().first_name).toBe('Pat');
    expect((await t.inject({ url: '/api/v1/leads/not-a-uuid', headers: h })).statusCode).toBe(404);
  });

  it('exports CSV with formula cells escaped (row 26)', async () => {
    await post({ email: 'formula@example.com', company: '=HYPERLINK("http://evil.example","click")', first_name: '@sum' });
    const res = await t.inject({ url: '/api/v1/leads/export?q=formula', headers: h });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse<Record<string, string>>(res.body, { columns: true });
    expect(rows).toHaveLength(1);
    expect(rows[0].company).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(rows[0].first_name).toBe(`'@sum`);
  });

  it('GDPR: exports everything, erases everywhere, keeps the address suppressed (row 29)', async () => {
    const lead = (await post({ email: 'gdpr@example.com', first_name: 'Gina', custom_fields: { plan: 'pro' } })).json().lead;
    // A stored Idempotency-Key replay also holds the person's data.
    const withKey = await t.inject({
      method: 'POST',
      url: '/api/v1/leads',
      headers: { ...h, 'idempotency-key': 'gdpr-key-1' },
      payload: { email: 'gdpr@example.com', last_name: 'Gdpr' },
    });
    expect(withKey.statusCode).toBe(200);
    const exported = await t.inject({ url: `/api/v1/leads/${lead.id}/export`, headers: h });
    expect(exported.statusCode).toBe(200);
    const dump = exported.json();
    expect(dump.lead).toMatchObject({
      email: 'gdpr@example.com',
      first_name: 'Gina',
      last_name: 'Gdpr',
      custom_fields: { plan: 'pro' },
    });
    expect(dump.activity.map((a: { type: string }) => a.type)).toEqual(['created', 'merged']);
    // A provider webhook about the person (kept in the inbox) holds their address too.
    const source = await t.inject({
      method: 'POST',
      url: '/api/v1/webhook-sources',
      headers: h,
      payload: { provider: 'stripe', name: 'gdpr', secret: 'whsec_gdpr_0123456789abcdef' },
    });
    expect(source.statusCode, source.body).toBe(201);
    const stripeBody = JSON.stringify(
      stripeEvent('customer.updated', { id: 'cus_gdpr', object: 'customer', email: 'gdpr@example.com', name: 'Gina Gdpr' }),
    );
    const delivered = await t.inject({
      method: 'POST',
      url: `/api/v1/webhooks/in/${source.json().id}`,
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(stripeBody, 'whsec_gdpr_0123456789abcdef') },
      payload: stripeBody,
    });
    expect(delivered.statusCode, delivered.body).toBe(200);

    const erased = await t.inject({ method: 'DELETE', url: `/api/v1/leads/${lead.id}?erase=true`, headers: h });
    expect(erased.statusCode).toBe(204);
    expect((await t.inject({ url: `/api/v1/leads/${lead.id}`, headers: h })).statusCode).toBe(404);
    // Every table (the suppression list keeps a hash, never the address).
    const pool = t.runtime.database.pool;
    const tables = await pool.query<{ name: string }>(
      `select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['leads', 'inbound_events', 'idempotency_keys']));
    for (const { name } of tables.rows) {
      const found = await pool.query(
        `select count(*)::int as n from "${name}" t where t::text ilike '%gdpr@example.com%' or t::text ilike '%Gina%'`,
      );
      expect(found.rows[0].n, name).toBe(0);
    }
    const again = await post({ email: 'GDPR@example.com' });
    expect(again.statusCode).toBe(201);
    expect(again.json().lead.status).toBe('unsubscribed');
    // Nothing to erase from the logs: they never held the person's data (ids only).
    expect(t.logLines.length).toBeGreaterThan(0);
    expect(t.logLines.join('\n')).not.toMatch(/gdpr@example\.com|Gina|Gdpr/i);
  });

  it('deletes without erasure (404 afterwards, address not suppressed)', async () => {
    const lead = (await post({ email: 'plain-delete@example.com' })).json().lead;
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/leads/${lead.id}`, headers: h })).statusCode).toBe(204);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/leads/${lead.id}`, headers: h })).statusCode).toBe(404);
    expect((await post({ email: 'plain-delete@example.com' })).json().lead.status).toBe('new');
  });

  it('needs leads:write to write; a read-only key gets 403', async () => {
    const ro = await createApiKey(t, owner.access_token, ['leads:read']);
    expect((await post({ email: 'ro@example.com' }, bearer(ro.key))).statusCode).toBe(403);
    expect((await t.inject({ url: '/api/v1/leads', headers: bearer(ro.key) })).statusCode).toBe(200);
    expect((await t.inject({ url: '/api/v1/leads' })).statusCode).toBe(401);
  });
});
