import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import type { Db } from '../../src/db/database';
import { FakeAnalyticsProviders } from '../fakes/analytics/fake-providers';
import {
  GA4_PROPERTY,
  GA4_TOTALS,
  LINKEDIN_ACCOUNT,
  LINKEDIN_TOTALS,
  META_ACCOUNT,
  META_TOTALS,
  loadFixtures,
} from '../fakes/analytics/fixtures';
import {
  accountTotals,
  buildSyncHarness,
  createConnection,
  createWorkspace,
  expectRollupsMatch,
  type SyncHarness,
} from '../fakes/analytics/harness';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const fakes = new FakeAnalyticsProviders();
beforeAll(async () => {
  await fakes.start();
});
afterAll(() => fakes.stop());

describe.each(await dbTargets())('analytics sync (%s)', (target) => {
  let t: TestApp;
  let db: Db;
  let h: SyncHarness;
  let ws: WorkspaceId;

  beforeAll(async () => {
    t = await startTestApp(target, { env: fakes.env(), logLevel: 'silent' });
    db = t.runtime.database.db;
  });
  afterAll(async () => {
    await h?.close();
    await t?.close();
  });
  beforeEach(async () => {
    loadFixtures(fakes);
    for (const p of ['ga4', 'meta', 'linkedin'] as const) {
      fakes.faults[p].length = 0;
      fakes.faultAfter[p] = 0;
      fakes.dataRequests[p] = 0;
    }
    fakes.requests.length = 0;
    fakes.meta.usagePct = 10;
    await h?.close();
    h = buildSyncHarness(db, t.config);
    ws = await createWorkspace(db);
  });

  it('normalises GA4 rows exactly, paging with offset/limit until rowCount', async () => {
    const id = await createConnection(h, ws, 'ga4', GA4_PROPERTY, fakes.issueToken('ga4'));
    const out = await h.engine.run(ws, id, { trigger: 'manual' });
    expect(out).toMatchObject({ status: 'succeeded', rows: 5 });
    const totals = await accountTotals(db, ws, 'ga4', GA4_PROPERTY);
    expect(totals).toMatchObject({
      rows: GA4_TOTALS.rows,
      sessions: GA4_TOTALS.sessions,
      users: GA4_TOTALS.users,
      conversions: GA4_TOTALS.conversions,
      conversionValueMicros: GA4_TOTALS.conversionValueMicros,
      spendMicros: 0n,
    });
    await expectRollupsMatch(db, ws, 'ga4', GA4_PROPERTY);
    const row = (
      await db.execute<Record<string, string>>(sql`
        select date::text, campaign_name, campaign_key, source, medium, channel, currency, conversions::text,
          conversion_value_micros::text as cvalue, sessions::text
        from ad_metrics_daily where workspace_id = ${ws}::uuid and source = 'google' and date = '2026-10-08'`)
    ).rows[0];
    expect(row).toEqual({
      date: '2026-10-08',
      campaign_name: 'spring_sale',
      campaign_key: 'spring_sale',
      source: 'google',
      medium: 'cpc',
      channel: 'Paid Search',
      currency: 'EUR',
      conversions: '7.000000',
      cvalue: '1234560000',
      sessions: '120',
    });
    // Windows 10-01..10-07 (empty) and 10-08..10-10 (5 rows, limit 2 → offsets 0, 2, 4).
    const calls = fakes.dataRequestsOf('ga4');
    expect(calls.map((c) => (c.body as { offset: number }).offset)).toEqual([0, 0, 2, 4]);
    const body = calls[1].body as Record<string, unknown>;
    expect(body).toMatchObject({
      dateRanges: [{ startDate: '2026-10-08', endDate: '2026-10-10' }],
      limit: 2,
      keepEmptyRows: false,
    });
    expect((body.dimensions as Array<{ name: string }>).map((d) => d.name)).toEqual([
      'date',
      'sessionCampaignName',
      'sessionSource',
      'sessionMedium',
      'sessionDefaultChannelGroup',
    ]);
    expect(calls[1].headers.authorization).toMatch(/^Bearer ga4-at-/);
    const conn = await h.connections.get(ws, id);
    expect(conn).toMatchObject({
      currency: 'EUR',
      timeZone: 'Europe/Berlin',
      syncedThrough: '2026-10-10',
      lastSyncStatus: 'succeeded',
    });
  });

  it('normalises Meta insights exactly, following cursors while paging.next is present', async () => {
    const id = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, fakes.issueToken('meta'));
    expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded', rows: 5 });
    const totals = await accountTotals(db, ws, 'meta_ads', META_ACCOUNT);
    expect(totals).toMatchObject({
      rows: META_TOTALS.rows,
      impressions: META_TOTALS.impressions,
      clicks: META_TOTALS.clicks,
      spendMicros: META_TOTALS.spendMicros,
      conversions: META_TOTALS.conversions,
      conversionValueMicros: META_TOTALS.conversionValueMicros,
    });
    await expectRollupsMatch(db, ws, 'meta_ads', META_ACCOUNT);
    const calls = fakes.dataRequestsOf('meta');
    // A new connection starts 29 days back (the 28-day lookback + today) in 7-day windows; the
    // window 10-03..10-09 holds 4 rows → 2 pages of 2, the second with `after`.
    expect(calls.map((c) => [JSON.parse(c.query.get('time_range')!).since, c.query.has('after')])).toEqual([
      ['2026-09-12', false],
      ['2026-09-19', false],
      ['2026-09-26', false],
      ['2026-10-03', false],
      ['2026-10-03', true],
      ['2026-10-10', false],
    ]);
    const q = calls[4].query;
    expect(q.get('level')).toBe('campaign');
    expect(q.get('time_increment')).toBe('1');
    expect(q.get('limit')).toBe('2');
    expect(JSON.parse(q.get('time_range')!)).toEqual({ since: '2026-10-03', until: '2026-10-09' });
    expect(q.get('fields')!.split(',')).toEqual(
      expect.arrayContaining(['campaign_id', 'campaign_name', 'spend', 'actions', 'date_start']),
    );
    expect(calls[4].path).toBe('/meta/v26.0/act_1001/insights');
    const spring = (
      await db.execute<Record<string, string>>(sql`
        select spend_micros::text as spend, conversions::text, conversion_value_micros::text as cvalue, currency, source, channel
        from ad_metrics_daily where workspace_id = ${ws}::uuid and campaign_external_id = '23851' and date = '2026-10-09'`)
    ).rows[0];
    // "150.005" is kept to the micro: no float rounding to 150.00 or 150.01.
    expect(spring).toEqual({
      spend: '150005000',
      conversions: '6.000000',
      cvalue: '0',
      currency: 'USD',
      source: 'facebook',
      channel: 'Paid Social',
    });
  });

  it('normalises LinkedIn adAnalytics exactly (Rest.li 2.0 query, version headers, names by id)', async () => {
    const id = await createConnection(h, ws, 'linkedin_ads', LINKEDIN_ACCOUNT, fakes.issueToken('linkedin'));
    expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded', rows: 3 });
    const totals = await accountTotals(db, ws, 'linkedin_ads', LINKEDIN_ACCOUNT);
    expect(totals).toMatchObject({
      rows: LINKEDIN_TOTALS.rows,
      impressions: LINKEDIN_TOTALS.impressions,
      clicks: LINKEDIN_TOTALS.clicks,
      spendMicros: LINKEDIN_TOTALS.spendMicros,
      conversions: LINKEDIN_TOTALS.conversions,
      conversionValueMicros: LINKEDIN_TOTALS.conversionValueMicros,
    });
    const analytics = fakes.dataRequestsOf('linkedin').filter((r) => r.path.endsWith('/adAnalytics'));
    expect(analytics).toHaveLength(2); // one per window, no pagination
    expect(analytics[1].rawQuery).toContain('dateRange=(start:(year:2026,month:10,day:8),end:(year:2026,month:10,day:10))');
    expect(analytics[1].rawQuery).toContain('accounts=List(urn%3Ali%3AsponsoredAccount%3A507404993)');
    expect(analytics[1].rawQuery).toContain('q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY');
    expect(analytics[1].headers['linkedin-version']).toBe('202606');
    expect(analytics[1].headers['x-restli-protocol-version']).toBe('2.0.0');
    const names = await db.execute<{ id: string; name: string; currency: string }>(sql`
      select distinct campaign_external_id as id, campaign_name as name, currency from ad_metrics_daily
      where workspace_id = ${ws}::uuid and provider = 'linkedin_ads' order by 1`);
    expect(names.rows).toEqual([
      { id: '9001', name: 'Q4 ABM', currency: 'GBP' },
      { id: '9002', name: '9002', currency: 'GBP' }, // no name available: the id stands in
    ]);
  });

  it('re-syncing an overlapping range leaves identical totals; late changes update rows in place; vanished rows go', async () => {
    const id = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, fakes.issueToken('meta'));
    await h.engine.run(ws, id, { trigger: 'manual' });
    const first = await accountTotals(db, ws, 'meta_ads', META_ACCOUNT);
    // Overlapping backfill and a second incremental run (28-day lookback covers everything).
    expect(await h.engine.run(ws, id, { trigger: 'manual', range: { from: '2026-10-05', to: '2026-10-09' } })).toMatchObject({
      status: 'succeeded',
    });
    h.clock.now += 3_600_000;
    expect(await h.engine.run(ws, id, { trigger: 'schedule' })).toMatchObject({ status: 'succeeded' });
    expect(await accountTotals(db, ws, 'meta_ads', META_ACCOUNT)).toEqual(first);
    await expectRollupsMatch(db, ws, 'meta_ads', META_ACCOUNT);

    // A late conversion on 10-09 and a campaign-day Meta no longer reports.
    const rows = fakes.meta.rows.get(META_ACCOUNT)!;
    rows[2].actions = [{ action_type: 'lead', value: '8' }];
    rows.splice(3, 1); // Retargeting on 10-09 (spend 0.01, 4000 impressions, 80 clicks)
    expect(await h.engine.run(ws, id, { trigger: 'schedule' })).toMatchObject({ status: 'succeeded' });
    const after = await accountTotals(db, ws, 'meta_ads', META_ACCOUNT);
    expect(after).toMatchObject({
      rows: 4,
      impressions: 35_000,
      clicks: 850,
      spendMicros: 423_545_000n,
      conversions: '17.000000',
    });
    await expectRollupsMatch(db, ws, 'meta_ads', META_ACCOUNT);
    const runs = await h.runs.listRuns(ws, id, 10);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(runs[0].rowsDeleted).toBe(1);
    expect(runs[3]).toMatchObject({ rangeFrom: '2026-09-12', rangeTo: '2026-10-10', trigger: 'manual', rowsUpserted: 5 });
    expect(runs[2]).toMatchObject({ rangeFrom: '2026-10-05', rangeTo: '2026-10-09', backfill: true });
  });

  it('row 30: a 429 mid-sync checkpoints after the last whole page and the next run resumes from that page', async () => {
    const id = await createConnection(h, ws, 'ga4', GA4_PROPERTY, fakes.issueToken('ga4'));
    // Requests 1 (window 1) and 2 (window 2, offset 0) succeed; then 429 on every attempt.
    fakes.faultAfter.ga4 = 2;
    fakes.inject('ga4', { kind: '429' }, { kind: '429' }, { kind: '429' });
    const paused = await h.engine.run(ws, id, { trigger: 'schedule' });
    expect(paused.status).toBe('paused');
    if (paused.status !== 'paused') return;
    expect(paused.resumeAt.getTime()).toBe(h.clock.now + 60_000); // ANALYTICS_QUOTA_PAUSE_MS of the harness
    expect(h.sleeps).toHaveLength(2); // backoff between the three attempts
    // Only whole pages: the first page of window 2 (2 rows), nothing of the refused one.
    expect((await accountTotals(db, ws, 'ga4', GA4_PROPERTY)).rows).toBe(2);
    const cp = await h.runs.getCheckpoint(ws, id);
    expect(cp).toMatchObject({
      windowFrom: '2026-10-08',
      windowTo: '2026-10-10',
      cursor: '2',
      reason: expect.stringContaining('RESOURCE_EXHAUSTED'),
    });
    const run = await h.runs.getRun(ws, paused.runId);
    expect(run).toMatchObject({ status: 'paused', rowsUpserted: 2, pages: 2 });
    expect(run!.resumeAt!.getTime()).toBe(paused.resumeAt.getTime());

    fakes.requests.length = 0;
    h.clock.now = paused.resumeAt.getTime();
    const resumed = await h.engine.run(ws, id, { trigger: 'resume' });
    expect(resumed).toMatchObject({ status: 'succeeded', rows: 3 });
    // It resumed at offset 2 of the same window instead of starting over.
    expect(fakes.dataRequestsOf('ga4').map((c) => (c.body as { offset: number }).offset)).toEqual([2, 4]);
    expect(await h.runs.getCheckpoint(ws, id)).toBeUndefined();
    const totals = await accountTotals(db, ws, 'ga4', GA4_PROPERTY);
    expect(totals).toMatchObject({
      rows: 5,
      sessions: GA4_TOTALS.sessions,
      conversionValueMicros: GA4_TOTALS.conversionValueMicros,
    });
    await expectRollupsMatch(db, ws, 'ga4', GA4_PROPERTY);
  });

  it('row 30: backs off on Meta throttling codes and stops with a checkpoint when Meta says how long to wait', async () => {
    const id = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, fakes.issueToken('meta'));
    // Code 17 and 613 are retried after a backoff and the sync goes on.
    fakes.inject('meta', { kind: 'meta-throttle', code: 17 }, { kind: 'meta-throttle', code: 613 });
    expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded' });
    expect(h.sleeps.length).toBe(2);

    // 80004 with estimated_time_to_regain_access = 30 minutes: longer than any backoff → checkpoint.
    fakes.faultAfter.meta = fakes.dataRequests.meta + 2;
    fakes.inject('meta', { kind: 'meta-throttle', code: 80004, regainMinutes: 30 });
    const out = await h.engine.run(ws, id, { trigger: 'schedule' });
    expect(out).toMatchObject({ status: 'paused' });
    if (out.status === 'paused') expect(out.resumeAt.getTime()).toBe(h.clock.now + 30 * 60_000);
    // Incremental run from 09-12 (28-day lookback) in 7-day windows: the third window was refused.
    expect(await h.runs.getCheckpoint(ws, id)).toMatchObject({
      windowFrom: '2026-09-26',
      cursor: null,
      resumeAt: out.status === 'paused' ? out.resumeAt : null,
    });
  });

  it('slows down when X-Business-Use-Case-Usage passes the threshold', async () => {
    const id = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, fakes.issueToken('meta'));
    fakes.faultAfter.meta = 1;
    fakes.inject('meta', { kind: 'meta-usage', pct: 97 });
    expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded' });
    // One pause of ANALYTICS_RETRY_MAX_MS (50 ms in the harness) after the hot answer.
    expect(h.sleeps).toEqual([50]);
    fakes.inject('meta', { kind: 'meta-usage', pct: 99, regainMinutes: 5 });
    fakes.faultAfter.meta = fakes.dataRequests.meta + 1;
    const paused = await h.engine.run(ws, id, { trigger: 'manual' });
    expect(paused).toMatchObject({ status: 'paused' });
  });

  it('refreshes an expired token (GA4 and LinkedIn refresh_token grant, Meta token exchange) and stores it sealed', async () => {
    for (const [provider, fake, account] of [
      ['ga4', 'ga4', GA4_PROPERTY],
      ['meta_ads', 'meta', META_ACCOUNT],
      ['linkedin_ads', 'linkedin', LINKEDIN_ACCOUNT],
    ] as const) {
      const creds = fakes.issueToken(fake);
      const id = await createConnection(h, ws, provider, account, creds);
      fakes.inject(fake, { kind: 'expire-token' });
      expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded' });
      const row = (await h.connections.get(ws, id))!;
      expect(row.credentialsCiphertext).not.toContain(creds.access_token);
      const stored = h.vault.open(id, row.credentialsCiphertext);
      expect(stored.access_token).not.toBe(creds.access_token);
      expect(fakes.tokens[fake].valid.has(stored.access_token)).toBe(true);
      expect(stored.client_secret).toBe(creds.client_secret);
      if (provider === 'linkedin_ads') expect(stored.refresh_token).not.toBe(creds.refresh_token); // rotated
      expect(row.tokenExpiresAt).toBeInstanceOf(Date);
    }
    const tokenCalls = fakes.requests.filter((r) => r.provider.endsWith('-token'));
    expect(tokenCalls.map((r) => r.provider)).toEqual(['google-token', 'meta-token', 'linkedin-token']);
    expect(tokenCalls[0].body).toMatchObject({ grant_type: 'refresh_token', client_id: 'google-client' });
    expect(tokenCalls[1].query.get('grant_type')).toBe('fb_exchange_token');
  });

  it('refreshes ahead of expiry: GA4 in its last two minutes, Meta in its last week', async () => {
    const ga4 = fakes.issueToken('ga4');
    const gid = await createConnection(h, ws, 'ga4', GA4_PROPERTY, {
      ...ga4,
      expires_at: new Date(h.clock.now + 60_000).toISOString(),
    });
    const meta = fakes.issueToken('meta');
    const mid = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, {
      ...meta,
      expires_at: new Date(h.clock.now + 3 * 86_400_000).toISOString(),
    });
    const lin = fakes.issueToken('linkedin');
    const lid = await createConnection(h, ws, 'linkedin_ads', LINKEDIN_ACCOUNT, {
      ...lin,
      expires_at: new Date(h.clock.now + 3 * 86_400_000).toISOString(),
    });
    for (const id of [gid, mid, lid])
      expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded' });
    // Token endpoints were called first for GA4 and Meta, not for LinkedIn (3 days left of 60).
    expect(fakes.requests.filter((r) => r.provider.endsWith('-token')).map((r) => r.provider)).toEqual([
      'google-token',
      'meta-token',
    ]);
    expect(fakes.requests.find((r) => r.provider === 'ga4')!.headers.authorization).not.toContain(ga4.access_token);
    expect(h.vault.open(lid, (await h.connections.get(ws, lid))!.credentialsCiphertext).access_token).toBe(lin.access_token);
  });

  it('fails clearly when the token expired and cannot be refreshed', async () => {
    const { access_token } = fakes.issueToken('ga4');
    const id = await createConnection(h, ws, 'ga4', GA4_PROPERTY, { access_token });
    fakes.inject('ga4', { kind: 'expire-token' });
    const out = await h.engine.run(ws, id, { trigger: 'schedule' });
    expect(out).toMatchObject({ status: 'failed', error: expect.stringMatching(/no refresh_token.*reconnect/) });
    expect(await h.connections.get(ws, id)).toMatchObject({ lastSyncStatus: 'failed' });
  });

  it('row 30: retries 500s and malformed JSON; when they persist the run fails with whole pages only and resumes later', async () => {
    const id = await createConnection(h, ws, 'linkedin_ads', LINKEDIN_ACCOUNT, fakes.issueToken('linkedin'));
    fakes.inject('linkedin', { kind: '500' }, { kind: 'malformed' });
    expect(await h.engine.run(ws, id, { trigger: 'manual' })).toMatchObject({ status: 'succeeded', rows: 3 });

    const gid = await createConnection(h, ws, 'ga4', GA4_PROPERTY, fakes.issueToken('ga4'));
    fakes.faultAfter.ga4 = 2;
    fakes.inject('ga4', { kind: 'malformed' }, { kind: '500' }, { kind: 'malformed' });
    const failed = await h.engine.run(ws, gid, { trigger: 'schedule' });
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/malformed JSON/) });
    expect((await accountTotals(db, ws, 'ga4', GA4_PROPERTY)).rows).toBe(2);
    expect(await h.runs.getCheckpoint(ws, gid)).toMatchObject({ cursor: '2' });
    expect(await h.engine.run(ws, gid, { trigger: 'schedule' })).toMatchObject({ status: 'succeeded' });
    expect((await accountTotals(db, ws, 'ga4', GA4_PROPERTY)).rows).toBe(5);
  });

  it('row 30: one sync per connection at a time — scheduled on three workers, it runs once', async () => {
    const id = await createConnection(h, ws, 'meta_ads', META_ACCOUNT, fakes.issueToken('meta'));
    const outcomes = await Promise.all([1, 2, 3].map(() => h.engine.run(ws, id, { trigger: 'schedule' })));
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'busy')).toHaveLength(2);
    expect(await h.runs.listRuns(ws, id, 10)).toHaveLength(1);
    expect((await accountTotals(db, ws, 'meta_ads', META_ACCOUNT)).rows).toBe(5);
    // The lease is released afterwards.
    expect(await h.connections.isLeased(ws, id)).toBe(false);
  });

  it('row 30: stops writing when its lease was taken over by another worker (fencing)', async () => {
    const id = await createConnection(h, ws, 'ga4', GA4_PROPERTY, fakes.issueToken('ga4'));
    // After the first page, another worker "takes over" the (expired) lease.
    const original = h.metrics.upsert.bind(h.metrics);
    let calls = 0;
    h.metrics.upsert = async (...args) => {
      calls += 1;
      // Inside the page transaction only its own client may be used (PGlite has one session).
      if (calls === 1)
        await args[4].execute(sql`update analytics_connections set lease_id = gen_random_uuid() where id = ${id}::uuid`);
      return original(...args);
    };
    const out = await h.engine.run(ws, id, { trigger: 'schedule' });
    expect(out).toMatchObject({ status: 'failed', error: expect.stringMatching(/lease was lost/) });
    // The first page committed (its fence check ran before the takeover); nothing after it.
    expect(calls).toBe(1);
    expect((await accountTotals(db, ws, 'ga4', GA4_PROPERTY)).rows).toBe(0);
  });

  it('never shows one workspace the rows of another', async () => {
    const other = await createWorkspace(db, 'Other');
    const a = await createConnection(h, ws, 'linkedin_ads', LINKEDIN_ACCOUNT, fakes.issueToken('linkedin'));
    const b = await createConnection(h, other, 'linkedin_ads', LINKEDIN_ACCOUNT, fakes.issueToken('linkedin'));
    await h.engine.run(ws, a, { trigger: 'manual' });
    expect((await accountTotals(db, other, 'linkedin_ads', LINKEDIN_ACCOUNT)).rows).toBe(0);
    expect(await h.engine.run(ws, b, { trigger: 'manual' })).toEqual({ status: 'not_found' });
    await h.engine.run(other, b, { trigger: 'manual' });
    expect((await accountTotals(db, other, 'linkedin_ads', LINKEDIN_ACCOUNT)).rows).toBe(3);
    expect((await accountTotals(db, ws, 'linkedin_ads', LINKEDIN_ACCOUNT)).rows).toBe(3);
  });
});
