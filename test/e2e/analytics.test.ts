import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/common/crypto/encryption';
import { daysInclusive, todayUtc } from '../../src/modules/analytics/dates';
import { FakeAnalyticsProviders } from '../fakes/analytics/fake-providers';
import {
  GA4_PROPERTY,
  GA4_TOTALS,
  LINKEDIN_ACCOUNT,
  LINKEDIN_TOTALS,
  META_TOTALS,
  loadFixtures,
} from '../fakes/analytics/fixtures';
import { addMember, bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const fakes = new FakeAnalyticsProviders();
beforeAll(async () => {
  await fakes.start();
  loadFixtures(fakes);
});
afterAll(() => fakes.stop());

/** Polls until `check` returns a value (not undefined) or the time is up. */
async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const OCT = 'from=2026-10-01&to=2026-10-10';

describe.each(await dbTargets())('analytics API (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  let member: RegisteredUser;
  let readKey: string;
  const auth = () => bearer(owner.access_token);

  beforeAll(async () => {
    t = await startTestApp(target, {
      role: 'all',
      logLevel: process.env.DEBUG_ANALYTICS ? 'info' : 'warn',
      env: {
        ...fakes.env(),
        RATE_LIMIT_MAX: '100000',
        ANALYTICS_MIN_SYNC_INTERVAL_S: '1',
        // The first sync of a connection reaches back to the fixtures (October 2026).
        ANALYTICS_INITIAL_SYNC_DAYS: String(daysInclusive('2026-10-01', todayUtc()) + 1),
        ANALYTICS_RETRY_BASE_MS: '5',
        ANALYTICS_RETRY_MAX_MS: '50',
        ANALYTICS_PAGE_SIZE: '2',
        ANALYTICS_REPORT_INLINE_MAX_DAYS: '31',
      },
    });
    owner = await registerUser(t, { workspace_name: 'Analytics' });
    member = await addMember(t, owner, 'member');
    readKey = (await createApiKey(t, owner.access_token, ['analytics:read'])).key;
  });
  afterAll(async () => {
    if (process.env.DEBUG_ANALYTICS)
      for (const l of t?.logLines ?? [])
        if (/analytics-sync|analytics.sync|"level":"(warn|error)"/.test(l) && !/"status":404/.test(l))
          console.log(l.slice(0, 400));
    await t?.close();
  });

  it('answers the dashboard from first-party data with no connection', async () => {
    for (const url of [
      `/api/v1/analytics/summary?${OCT}`,
      `/api/v1/analytics/timeseries?${OCT}&metric=leads&interval=week`,
      `/api/v1/analytics/breakdown?${OCT}&by=campaign`,
      `/api/v1/analytics/leads?${OCT}&by=status`,
      '/api/v1/analytics/summary',
    ]) {
      const res = await t.inject({ url, headers: bearer(readKey) });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
    const s = (await t.inject({ url: `/api/v1/analytics/summary?${OCT}`, headers: auth() })).json();
    expect(s.totals).toMatchObject({ impressions: 0, leads: 0, customers: 0 });
    expect(s.kpis.ctr).toBeNull();
  });

  it('validates dashboard queries: 400 listing the field, limit clamped', async () => {
    const bad = await t.inject({ url: '/api/v1/analytics/summary?from=2026-10-10&to=2026-10-01', headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('from');
    const unknown = await t.inject({ url: `/api/v1/analytics/summary?${OCT}&workspace_id=x`, headers: auth() });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors.map((e: { path: string }) => e.path)).toContain('workspace_id');
    expect((await t.inject({ url: `/api/v1/analytics/breakdown?${OCT}`, headers: auth() })).statusCode).toBe(400);
    expect((await t.inject({ url: `/api/v1/analytics/summary?from=2026-02-30`, headers: auth() })).statusCode).toBe(400);
    expect((await t.inject({ url: `/api/v1/analytics/summary?from=2020-01-01&to=2026-01-01`, headers: auth() })).statusCode).toBe(
      400,
    );
    const clamped = await t.inject({ url: `/api/v1/analytics/breakdown?${OCT}&by=provider&limit=100000`, headers: auth() });
    expect(clamped.statusCode).toBe(200);
    expect((await t.inject({ url: `/api/v1/analytics/summary?${OCT}` })).statusCode).toBe(401);
  });

  it('manages connections: credentials sealed and never returned; only admins and manage keys change them', async () => {
    const creds = fakes.issueToken('meta');
    const body = { provider: 'meta_ads', account_id: '555', credentials: creds, schedule: '0 3 * * *', enabled: false };
    expect(
      (
        await t.inject({
          method: 'POST',
          url: '/api/v1/analytics/connections',
          headers: bearer(member.access_token),
          payload: body,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await t.inject({ method: 'POST', url: '/api/v1/analytics/connections', headers: bearer(readKey), payload: body }))
        .statusCode,
    ).toBe(403);
    const created = await t.inject({ method: 'POST', url: '/api/v1/analytics/connections', headers: auth(), payload: body });
    expect(created.statusCode, created.body).toBe(201);
    const conn = created.json();
    expect(conn).toMatchObject({
      provider: 'meta_ads',
      account_id: 'act_555',
      name: 'Meta Ads act_555',
      enabled: false,
      credentials: { refreshable: true, token_expires_at: null },
    });
    expect(created.body).not.toContain(creds.access_token);
    expect(created.body).not.toContain(creds.client_secret);
    const stored = await t.runtime.database.db.execute<{ c: string; k: string }>(
      sql`select credentials_ciphertext as c, credentials_key_id as k from analytics_connections where id = ${conn.id}::uuid`,
    );
    expect(stored.rows[0].c).not.toContain(creds.access_token);
    expect(stored.rows[0].k).toBe(new SecretBox(t.config.secrets.ENCRYPTION_KEY).currentKeyId);

    const dup = await t.inject({
      method: 'POST',
      url: '/api/v1/analytics/connections',
      headers: auth(),
      payload: { ...body, account_id: 'act_555' },
    });
    expect(dup.statusCode).toBe(409);
    const extra = await t.inject({
      method: 'POST',
      url: '/api/v1/analytics/connections',
      headers: auth(),
      payload: { ...body, workspace_id: owner.workspace.id },
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors.map((e: { path: string }) => e.path)).toEqual(['workspace_id']);
    const badAccount = await t.inject({
      method: 'POST',
      url: '/api/v1/analytics/connections',
      headers: auth(),
      payload: { ...body, provider: 'ga4', account_id: 'act_1' },
    });
    expect(badAccount.statusCode).toBe(400);
    expect(badAccount.json().errors[0].path).toBe('account_id');
    const badCron = await t.inject({
      method: 'POST',
      url: '/api/v1/analytics/connections',
      headers: auth(),
      payload: { ...body, account_id: '556', schedule: 'every hour' },
    });
    expect(badCron.statusCode).toBe(400);
    expect(badCron.json().errors[0].path).toBe('schedule');

    const list = await t.inject({ url: '/api/v1/analytics/connections', headers: bearer(member.access_token) });
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((c: { id: string }) => c.id)).toContain(conn.id);
    expect(list.body).not.toContain(creds.access_token);
    expect((await t.inject({ url: `/api/v1/analytics/connections/${conn.id}`, headers: bearer(readKey) })).json().id).toBe(
      conn.id,
    );

    const memberPatch = await t.inject({
      method: 'PATCH',
      url: `/api/v1/analytics/connections/${conn.id}`,
      headers: bearer(member.access_token),
      payload: { name: 'x' },
    });
    expect(memberPatch.statusCode).toBe(403);
    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/analytics/connections/${conn.id}`,
      headers: auth(),
      payload: { name: 'Brand account', currency: 'EUR' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Brand account', currency: 'EUR' });
    const immutable = await t.inject({
      method: 'PATCH',
      url: `/api/v1/analytics/connections/${conn.id}`,
      headers: auth(),
      payload: { account_id: '1' },
    });
    expect(immutable.statusCode).toBe(400);

    expect(
      (
        await t.inject({
          method: 'DELETE',
          url: `/api/v1/analytics/connections/${conn.id}`,
          headers: bearer(member.access_token),
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await t.inject({ method: 'DELETE', url: `/api/v1/analytics/connections/${conn.id}`, headers: auth() })).statusCode,
    ).toBe(204);
    expect((await t.inject({ url: `/api/v1/analytics/connections/${conn.id}`, headers: auth() })).statusCode).toBe(404);
    expect((await t.inject({ url: '/api/v1/analytics/connections/not-a-uuid', headers: auth() })).statusCode).toBe(404);
  });

  describe('with the fakes connected', () => {
    const ids: Record<string, string> = {};

    it('a scheduled sync fills ad_metrics_daily and the dashboard shows the fixture figures', async () => {
      // One connection at a time: embedded mode (pglite-socket) mixes up concurrent statements of
      // different connections (electric-sql/pglite#1046), so this test keeps database traffic serial.
      for (const [provider, fake, account] of [
        ['ga4', 'ga4', GA4_PROPERTY],
        ['meta_ads', 'meta', 'act_1001'],
        ['linkedin_ads', 'linkedin', LINKEDIN_ACCOUNT],
      ] as const) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/analytics/connections',
          headers: auth(),
          // Every 3 seconds (6-field cron) so the test does not wait for the hour.
          payload: { provider, account_id: account, credentials: fakes.issueToken(fake), schedule: '*/3 * * * * *' },
        });
        expect(res.statusCode, res.body).toBe(201);
        const id = res.json().id as string;
        ids[provider] = id;
        await waitFor(
          async () => {
            const c = (await t.inject({ url: `/api/v1/analytics/connections/${id}`, headers: auth() })).json();
            return c.last_sync_status === 'succeeded' ? c : undefined;
          },
          60_000,
          `first scheduled sync of ${provider}`,
        );
        // Stop the schedule so the figures below are stable, and let a running sync finish.
        const off = await t.inject({
          method: 'PATCH',
          url: `/api/v1/analytics/connections/${id}`,
          headers: auth(),
          payload: { enabled: false },
        });
        expect(off.statusCode).toBe(200);
        await waitFor(async () => {
          const c = (await t.inject({ url: `/api/v1/analytics/connections/${id}`, headers: auth() })).json();
          return c.syncing === false ? c : undefined;
        });
      }
      const runs = (
        await t.inject({ url: `/api/v1/analytics/connections/${ids.meta_ads}/runs`, headers: bearer(readKey) })
      ).json();
      expect(runs.data[runs.data.length - 1]).toMatchObject({ trigger: 'schedule', status: 'succeeded', backfill: false });
      expect(runs.data.some((r: { rows_upserted: number }) => r.rows_upserted === 5)).toBe(true);

      const s = (await t.inject({ url: `/api/v1/analytics/summary?${OCT}`, headers: bearer(readKey) })).json();
      expect(s.totals).toMatchObject({
        impressions: META_TOTALS.impressions + LINKEDIN_TOTALS.impressions,
        clicks: META_TOTALS.clicks + LINKEDIN_TOTALS.clicks,
        conversions: 21, // 15 Meta + 6 LinkedIn
        sessions: GA4_TOTALS.sessions,
        users: GA4_TOTALS.users,
        key_events: 16.5,
        spend: null, // USD (Meta), GBP (LinkedIn) and EUR (GA4 revenue): never summed
      });
      expect(s.currency).toBeNull();
      expect(
        s.by_currency.map((c: { currency: string; totals: { spend: number; site_revenue: number } }) => [
          c.currency,
          c.totals.spend,
          c.totals.site_revenue,
        ]),
      ).toEqual([
        ['EUR', 0, 133_486], // 1,334.859999 EUR
        ['GBP', 22_685, 0], // 226.85 GBP
        ['USD', 42_356, 0], // 423.555 USD, half-up to the cent
      ]);
      const meta = (await t.inject({ url: `/api/v1/analytics/summary?${OCT}&provider=meta_ads`, headers: auth() })).json();
      expect(meta.currency).toBe('USD');
      expect(meta.totals).toMatchObject({ spend: 42_356, conversion_value: 24_997, clicks: 930 });
      expect(meta.kpis).toMatchObject({ cpc: 45.54, ctr: 0.023846 }); // 42,355.5¢/930; 930/39,000
      const ts = (
        await t.inject({ url: `/api/v1/analytics/timeseries?${OCT}&metric=clicks&interval=day`, headers: auth() })
      ).json();
      expect(
        ts.series[0].points
          .filter((p: { value: number }) => p.value)
          .map((p: { period: string; value: number }) => [p.period, p.value]),
      ).toEqual([
        ['2026-10-08', 250 + 100 + 40],
        ['2026-10-09', 300 + 80 + 30],
        ['2026-10-10', 200 + 55],
      ]);
      const bd = (await t.inject({ url: `/api/v1/analytics/breakdown?${OCT}&by=provider`, headers: auth() })).json();
      expect(bd.data.map((r: { key: string }) => r.key).sort()).toEqual(['ga4', 'linkedin_ads', 'meta_ads']);
    }, 240_000);

    it('a backfill via POST …/sync is recorded as a run and leaves identical totals', async () => {
      const before = (await t.inject({ url: `/api/v1/analytics/summary?${OCT}`, headers: auth() })).json();
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/analytics/connections/${ids.meta_ads}/sync`,
        headers: auth(),
        payload: { from: '2026-10-01', to: '2026-10-10' },
      });
      expect(res.statusCode, res.body).toBe(202);
      const run = res.json();
      expect(run).toMatchObject({ status: 'queued', trigger: 'manual', backfill: true, from: '2026-10-01', to: '2026-10-10' });
      const done = await waitFor(async () => {
        const runs = (await t.inject({ url: `/api/v1/analytics/connections/${ids.meta_ads}/runs`, headers: auth() })).json();
        const r = runs.data.find((x: { id: string }) => x.id === run.id);
        return r && ['succeeded', 'failed', 'skipped'].includes(r.status) ? r : undefined;
      });
      expect(done).toMatchObject({ status: 'succeeded', rows_upserted: 5, error: null });
      expect(done.duration_ms).toBeGreaterThanOrEqual(0);
      const after = (await t.inject({ url: `/api/v1/analytics/summary?${OCT}`, headers: auth() })).json();
      expect(after.totals).toEqual(before.totals);
      expect(after.by_currency).toEqual(before.by_currency);

      const incremental = await t.inject({
        method: 'POST',
        url: `/api/v1/analytics/connections/${ids.ga4}/sync`,
        headers: auth(),
      });
      expect(incremental.statusCode, incremental.body).toBe(202);
      expect(incremental.json()).toMatchObject({ backfill: false, from: null });
      await waitFor(async () => {
        const runs = (await t.inject({ url: `/api/v1/analytics/connections/${ids.ga4}/runs`, headers: auth() })).json();
        const r = runs.data.find((x: { id: string }) => x.id === incremental.json().id);
        return r && r.status === 'succeeded' ? r : undefined;
      });
      const badRange = await t.inject({
        method: 'POST',
        url: `/api/v1/analytics/connections/${ids.ga4}/sync`,
        headers: auth(),
        payload: { from: '2026-10-01' },
      });
      expect(badRange.statusCode).toBe(400);
      const member403 = await t.inject({
        method: 'POST',
        url: `/api/v1/analytics/connections/${ids.ga4}/sync`,
        headers: bearer(member.access_token),
        payload: {},
      });
      expect(member403.statusCode).toBe(403);
    });

    it('reports: inline JSON for a small range with an analytics:read key', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/analytics/report',
        headers: bearer(readKey),
        payload: { date_range: '2026-10-01..2026-10-10', metrics: ['clicks', 'spend', 'ctr', 'leads'], provider: 'meta_ads' },
      });
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json();
      expect(r).toMatchObject({
        from: '2026-10-01',
        to: '2026-10-10',
        currency: 'USD',
        metrics: ['clicks', 'spend', 'ctr', 'leads'],
      });
      expect(r.totals).toEqual({ clicks: 930, spend: 42_356, ctr: 0.023846, leads: 0 });
      expect(r.rows).toHaveLength(10);
      expect(r.rows[7]).toEqual({ date: '2026-10-08', clicks: 350, spend: 17_355, ctr: 0.023333, leads: 0 });
      const bad = await t.inject({
        method: 'POST',
        url: '/api/v1/analytics/report',
        headers: bearer(readKey),
        payload: { date_range: 'forever', metrics: ['spend'] },
      });
      expect(bad.statusCode).toBe(400);
      const badMetric = await t.inject({
        method: 'POST',
        url: '/api/v1/analytics/report',
        headers: bearer(readKey),
        payload: { date_range: 'last_7_days', metrics: ['mood'] },
      });
      expect(badMetric.statusCode).toBe(400);
      const preset = await t.inject({
        method: 'POST',
        url: '/api/v1/analytics/report',
        headers: bearer(readKey),
        payload: { date_range: 'last_7_days', metrics: ['sessions'] },
      });
      expect(preset.statusCode).toBe(200);
      expect(preset.json().rows).toHaveLength(7);
    });

    it('reports: a large range answers 202, a job writes CSV and JSON to download', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/analytics/report',
        headers: bearer(readKey),
        payload: { date_range: '2026-06-01..2026-10-10', metrics: ['spend', 'clicks', 'sessions'] },
      });
      expect(res.statusCode, res.body).toBe(202);
      const queued = res.json();
      expect(res.headers.location).toBe(`/api/v1/analytics/reports/${queued.id}`);
      expect(queued).toMatchObject({ status: 'pending', downloads: null, request: { from: '2026-06-01', to: '2026-10-10' } });
      const done = await waitFor(async () => {
        const r = (await t.inject({ url: `/api/v1/analytics/reports/${queued.id}`, headers: bearer(readKey) })).json();
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      });
      expect(done).toMatchObject({ status: 'succeeded', row_count: 132, error: null });
      const json = await t.inject({ url: done.downloads.json, headers: bearer(readKey) });
      expect(json.statusCode).toBe(200);
      expect(json.headers['content-type']).toMatch(/^application\/json/);
      const body = json.json();
      // Three currencies and no rate table: spend comes per currency.
      expect(body.totals).toEqual({ spend_EUR: 0, spend_GBP: 22_685, spend_USD: 42_356, clicks: 1_055, sessions: 640 });
      const csv = await t.inject({ url: done.downloads.csv, headers: bearer(readKey) });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.headers['content-disposition']).toContain(`report-${queued.id}.csv`);
      const lines = csv.body.trim().split('\n');
      expect(lines[0]).toBe('date,spend_EUR,spend_GBP,spend_USD,clicks,sessions');
      expect(lines).toHaveLength(1 + 132 + 1);
      expect(lines).toContain('2026-10-08,0,8025,17355,390,200');
      expect(lines[lines.length - 1]).toBe('total,0,22685,42356,1055,640');
    });
  });
});
