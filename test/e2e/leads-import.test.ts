import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

describe.each(await dbTargets())('CSV import through the job (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let h: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp(target, { role: 'all', env: { RATE_LIMIT_MAX: '100000' } });
    owner = await registerUser(t);
    h = bearer(owner.access_token);
  });
  afterAll(() => t?.close());

  const upload = (csv: string, query = '') =>
    t.inject({
      method: 'POST',
      url: `/api/v1/leads/import${query}`,
      headers: { ...h, 'content-type': 'text/csv' },
      payload: csv,
    });

  it('validates while streaming, reports per-row errors at once, merges in one job with progress', async () => {
    // An existing lead that the file merges into, and a Gmail address whose variant the file brings.
    await t.inject({
      method: 'POST',
      url: '/api/v1/leads',
      headers: h,
      payload: { email: 'existing@example.com', first_name: 'Old' },
    });
    await t.inject({ method: 'POST', url: '/api/v1/leads', headers: h, payload: { email: 'ann@gmail.com' } });
    const rows = ['E-mail,First Name,Plan,Phone'];
    for (let i = 0; i < 300; i++) rows.push(`user${i}@example.com,User ${i},${i % 2 ? 'pro' : ''},`);
    rows.push('EXISTING@example.com,New,,');
    rows.push('a.nn+promo@gmail.com,Ann,,');
    rows.push('not-an-email,Bad,,');
    rows.push('bad-phone@example.com,Bad,,12');
    rows.push('user1@example.com,Again,,');
    const res = await upload(
      rows.join('\r\n'),
      `?mapping=${encodeURIComponent(JSON.stringify({ 'E-mail': 'email', 'First Name': 'first_name', Plan: 'custom.plan', Phone: 'phone' }))}&filename=leads.csv`,
    );
    expect(res.statusCode, res.body).toBe(202);
    const started = res.json();
    expect(started).toMatchObject({ status: 'queued', filename: 'leads.csv', total_rows: 305, valid_rows: 303, invalid_rows: 2 });
    expect(started.errors).toEqual([
      { row: 303, line: 304, errors: [expect.objectContaining({ path: 'email' })] },
      { row: 304, line: 305, errors: [expect.objectContaining({ path: 'phone' })] },
    ]);

    let view = started;
    const end = Date.now() + 60_000;
    while (view.status !== 'completed' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      view = (await t.inject({ url: `/api/v1/leads/imports/${started.id}`, headers: h })).json();
      expect(view.status).not.toBe('failed');
    }
    expect(view).toMatchObject({ status: 'completed', processed_rows: 303, created: 301, merged: 2, failed: 0, progress: 1 });

    const existing = (await t.inject({ url: '/api/v1/leads?q=existing%40example.com', headers: h })).json().data[0];
    expect(existing.first_name).toBe('New');
    const user1 = (await t.inject({ url: '/api/v1/leads?q=user1%40example.com', headers: h })).json().data[0];
    expect(user1).toMatchObject({ first_name: 'Again', custom_fields: { plan: 'pro' } });
    const variant = (await t.inject({ url: '/api/v1/leads?q=a.nn%2Bpromo', headers: h })).json().data[0];
    expect(variant.possible_duplicate_of).not.toBeNull();
    const staged = await t.runtime.database.pool.query(`select count(*)::int as n from lead_import_rows`);
    expect(staged.rows[0].n).toBe(0);
  });

  it('refuses a file without an email column, bad CSV and a non-CSV body', async () => {
    expect((await upload('name\nAnn\n')).statusCode).toBe(400);
    expect((await upload('email,name\n"a@b.co,Ann\n')).statusCode).toBe(400);
    const json = await t.inject({ method: 'POST', url: '/api/v1/leads/import', headers: h, payload: { email: 'x@example.com' } });
    expect(json.statusCode).toBe(415);
    expect((await upload('email\na@b.co\n', '?mapping=not-json')).statusCode).toBe(400);
  });
});
