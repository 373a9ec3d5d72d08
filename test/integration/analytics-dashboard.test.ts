import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import type { Db } from '../../src/db/database';
import type { AnalyticsProvider } from '../../src/db/schema/analytics';
import { DashboardRepository } from '../../src/modules/analytics/dashboard/dashboard.repository';
import { DashboardService } from '../../src/modules/analytics/dashboard/dashboard.service';
import { FirstPartyRepository } from '../../src/modules/analytics/first-party/first-party.repository';
import { toMicros } from '../../src/modules/analytics/money';
import type { NormalizedRow } from '../../src/modules/analytics/providers/provider-client';
import { AdMetricsRepository } from '../../src/modules/analytics/sync/ad-metrics.repository';
import { createWorkspace } from '../fakes/analytics/harness';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

type RowSpec = Partial<NormalizedRow> & Pick<NormalizedRow, 'date' | 'campaignName'>;

function row(spec: RowSpec): NormalizedRow {
  return {
    campaignExternalId: spec.campaignName,
    source: '',
    medium: '',
    channel: '',
    impressions: 0,
    clicks: 0,
    spendMicros: 0n,
    currency: 'USD',
    conversions: '0',
    conversionValueMicros: 0n,
    sessions: 0,
    users: 0,
    ...spec,
  };
}

async function load(db: Db, ws: WorkspaceId, provider: AnalyticsProvider, accountId: string, rows: NormalizedRow[]) {
  const repo = new AdMetricsRepository(db);
  await db.transaction(async (tx) => {
    await repo.upsert(ws, { provider, accountId }, uuidv7(), rows, tx);
    await repo.refreshRollup(ws, { provider, accountId }, { from: '2026-01-01', to: '2026-12-31' }, tx);
  });
}

/**
 * Hand-checked dataset, October 2026, all USD:
 *   Meta "Spring Sale": 10-05 20,000 impr / 400 clicks / $200.00 / 8 conv / $400.00 value;
 *                       10-12 20,000 / 600 / $300.00 / 12 / $800.00
 *   LinkedIn "B2B Webinar": 10-06 10,000 / 100 / $150.00 / 5 / $0
 *   GA4 spring_sale google/cpc 10-05: 500 sessions, 450 users, 20 key events, $1,000.00 revenue;
 *       (not set) (direct) 10-12: 300 sessions, 280 users
 *   Our campaign "Spring Sale" (utm_campaign spring_sale): leads A (10-05, utm_source facebook,
 *       converted 10-10, $250.00), B (10-06, source website) and a $50.00 refund on 10-14;
 *   lead C (10-07, first touch utm_campaign "B2B Webinar", utm_source linkedin, converted 10-13, $500.00);
 *   lead D (10-20, no campaign, pending double opt-in, unsubscribed).
 * Totals: impressions 50,000 · clicks 1,100 · spend 65,000¢ · conversions 25 · value 120,000¢ ·
 *   sessions 800 · users 730 · key events 20 · site revenue 100,000¢ · leads 4 · customers 2 ·
 *   revenue 25,000+50,000−5,000 = 70,000¢.
 * KPIs: ctr 1,100/50,000 = 0.022 · cpc 65,000/1,100 = 59.09 · cpm 65,000×1,000/50,000 = 1,300 ·
 *   conversion rate 25/1,100 = 0.022727 · cpa 65,000/25 = 2,600 · cpl 65,000/4 = 16,250 ·
 *   cac 65,000/2 = 32,500 · roas 700/650 = 1.0769.
 */
async function seed(db: Db, ws: WorkspaceId): Promise<{ spring: string }> {
  await load(db, ws, 'meta_ads', 'act_1', [
    row({
      date: '2026-10-05',
      campaignExternalId: '111',
      campaignName: 'Spring Sale',
      source: 'facebook',
      channel: 'Paid Social',
      impressions: 20_000,
      clicks: 400,
      spendMicros: toMicros('200.00'),
      conversions: '8',
      conversionValueMicros: toMicros('400'),
    }),
    row({
      date: '2026-10-12',
      campaignExternalId: '111',
      campaignName: 'Spring Sale',
      source: 'facebook',
      channel: 'Paid Social',
      impressions: 20_000,
      clicks: 600,
      spendMicros: toMicros('300.00'),
      conversions: '12',
      conversionValueMicros: toMicros('800'),
    }),
  ]);
  await load(db, ws, 'linkedin_ads', '77', [
    row({
      date: '2026-10-06',
      campaignExternalId: '222',
      campaignName: 'B2B Webinar',
      source: 'linkedin',
      channel: 'Paid Social',
      impressions: 10_000,
      clicks: 100,
      spendMicros: toMicros('150'),
      conversions: '5',
    }),
  ]);
  await load(db, ws, 'ga4', '999', [
    row({
      date: '2026-10-05',
      campaignName: 'spring_sale',
      source: 'google',
      medium: 'cpc',
      channel: 'Paid Search',
      sessions: 500,
      users: 450,
      conversions: '20',
      conversionValueMicros: toMicros('1000.00'),
    }),
    row({
      date: '2026-10-12',
      campaignName: '(not set)',
      source: '(direct)',
      medium: '(none)',
      channel: 'Direct',
      sessions: 300,
      users: 280,
    }),
  ]);
  const spring = uuidv7();
  await db.execute(sql`insert into campaigns (id, workspace_id, name, channel, status, utm_campaign)
    values (${spring}::uuid, ${ws}::uuid, 'Spring Sale', 'paid_social', 'active', 'spring_sale')`);
  const lead = async (p: {
    email: string;
    created: string;
    campaign?: string;
    touch?: object;
    source?: string;
    converted?: string;
    status?: string;
    consent?: string;
  }) => {
    const id = uuidv7();
    await db.execute(sql`insert into leads (id, workspace_id, email, email_key, source, status, consent_status, first_touch, campaign_id, created_at, converted_at)
      values (${id}::uuid, ${ws}::uuid, ${p.email}, ${p.email}, ${p.source ?? null}, ${p.status ?? 'new'}, ${p.consent ?? 'none'},
        ${JSON.stringify(p.touch ?? {})}::jsonb, ${p.campaign ?? null}::uuid, ${p.created}::timestamptz, ${p.converted ?? null}::timestamptz)`);
    return id;
  };
  const conversion = async (leadId: string | null, campaign: string | null, amount: number, at: string) =>
    db.execute(sql`insert into conversions (id, workspace_id, lead_id, campaign_id, amount_minor, currency, occurred_at, source, external_id)
      values (${uuidv7()}::uuid, ${ws}::uuid, ${leadId}::uuid, ${campaign}::uuid, ${amount}, 'USD', ${at}::timestamptz, 'stripe', ${uuidv7()})`);
  const a = await lead({
    email: 'a@x.test',
    created: '2026-10-05T09:00:00Z',
    campaign: spring,
    touch: { utm_source: 'facebook', utm_campaign: 'spring_sale' },
    converted: '2026-10-10T12:00:00Z',
    status: 'customer',
  });
  await lead({ email: 'b@x.test', created: '2026-10-06T23:59:59Z', campaign: spring, source: 'website' });
  const c = await lead({
    email: 'c@x.test',
    created: '2026-10-07T08:00:00Z',
    touch: { utm_source: 'linkedin', utm_campaign: 'B2B Webinar' },
    converted: '2026-10-13T08:00:00Z',
    status: 'customer',
  });
  await lead({ email: 'd@x.test', created: '2026-10-20T10:00:00Z', status: 'unsubscribed', consent: 'pending' });
  await conversion(a, spring, 25_000, '2026-10-10T12:00:00Z');
  await conversion(c, null, 50_000, '2026-10-13T08:00:00Z');
  await conversion(a, spring, -5_000, '2026-10-14T08:00:00Z');
  // Outside the range: must not count.
  await lead({ email: 'e@x.test', created: '2026-11-02T10:00:00Z' });
  await conversion(c, null, 99_999, '2026-11-01T00:00:00Z');
  return { spring };
}

const OCT = { from: '2026-10-01', to: '2026-10-31' };

describe.each(await dbTargets())('analytics dashboard on a hand-checked dataset (%s)', (target) => {
  let t: TestApp;
  let db: Db;
  let ws: WorkspaceId;
  let spring: string;
  let svc: DashboardService;

  beforeAll(async () => {
    t = await startTestApp(target, { logLevel: 'silent' });
    db = t.runtime.database.db;
    ws = await createWorkspace(db);
    ({ spring } = await seed(db, ws));
    svc = new DashboardService(new DashboardRepository(db), new FirstPartyRepository(db), t.config);
  });
  afterAll(() => t?.close());

  it('summary: totals in minor units and every KPI', async () => {
    const s = await svc.summary(ws, OCT);
    expect(s.currency).toBe('USD');
    expect(s.totals).toEqual({
      impressions: 50_000,
      clicks: 1_100,
      spend: 65_000,
      conversions: 25,
      conversion_value: 120_000,
      sessions: 800,
      users: 730,
      key_events: 20,
      site_revenue: 100_000,
      leads: 4,
      customers: 2,
      revenue: 70_000,
    });
    expect(s.kpis).toEqual({
      ctr: 0.022,
      cpc: 59.09,
      cpm: 1_300,
      conversion_rate: 0.022727,
      cpa: 2_600,
      cpl: 16_250,
      cac: 32_500,
      roas: 1.0769,
    });
    expect(s.notes).toEqual([]);
  });

  it('summary for one of our campaigns matches ad rows by utm_campaign and name', async () => {
    const s = await svc.summary(ws, { ...OCT, campaign_id: spring });
    // Meta "Spring Sale" (by name) + GA4 "spring_sale" (by utm_campaign); leads A and B; A converted.
    expect(s.totals).toMatchObject({
      impressions: 40_000,
      clicks: 1_000,
      spend: 50_000,
      conversions: 20,
      sessions: 500,
      key_events: 20,
      leads: 2,
      customers: 1,
      revenue: 20_000,
    });
    expect(s.kpis).toMatchObject({ cac: 50_000, roas: 0.4, cpl: 25_000 });
    await expect(svc.summary(ws, { ...OCT, campaign_id: uuidv7() })).rejects.toMatchObject({ code: 'not_found' });
    const byName = await svc.summary(ws, { ...OCT, campaign: 'b2b webinar' });
    expect(byName.totals).toMatchObject({ spend: 15_000, leads: 1, customers: 1, revenue: 50_000 });
  });

  it('summary by provider notes that first-party figures are not split by provider', async () => {
    const s = await svc.summary(ws, { ...OCT, provider: 'linkedin_ads' });
    expect(s.totals).toMatchObject({ impressions: 10_000, clicks: 100, spend: 15_000, sessions: 0, leads: 4 });
    expect(s.notes[0]).toMatch(/not split by ad provider/);
  });

  it('timeseries by day, week and month, zero-filled and clamped to the range', async () => {
    const week = await svc.timeseries(ws, OCT, 'spend', 'week');
    expect(week.series).toHaveLength(1);
    expect(week.series[0].currency).toBe('USD');
    expect(week.series[0].points).toEqual([
      { period: '2026-09-28', from: '2026-10-01', to: '2026-10-04', value: 0 },
      { period: '2026-10-05', from: '2026-10-05', to: '2026-10-11', value: 35_000 },
      { period: '2026-10-12', from: '2026-10-12', to: '2026-10-18', value: 30_000 },
      { period: '2026-10-19', from: '2026-10-19', to: '2026-10-25', value: 0 },
      { period: '2026-10-26', from: '2026-10-26', to: '2026-10-31', value: 0 },
    ]);
    const days = await svc.timeseries(ws, OCT, 'leads', 'day');
    expect(days.series[0].points).toHaveLength(31);
    expect(days.series[0].points.filter((p) => p.value).map((p) => [p.period, p.value])).toEqual([
      ['2026-10-05', 1],
      ['2026-10-06', 1], // 23:59:59Z is still the 6th in UTC
      ['2026-10-07', 1],
      ['2026-10-20', 1],
    ]);
    const month = await svc.timeseries(ws, OCT, 'roas', 'month');
    expect(month.series[0].points).toEqual([{ period: '2026-10-01', from: '2026-10-01', to: '2026-10-31', value: 1.0769 }]);
    const ctr = await svc.timeseries(ws, { from: '2026-10-05', to: '2026-10-06' }, 'ctr', 'day');
    expect(ctr.series[0].points.map((p) => p.value)).toEqual([0.02, 0.01]); // 400/20,000; 100/10,000
  });

  it('breakdown by provider, campaign, source and channel', async () => {
    const page = { limit: 50 };
    const prov = await svc.breakdown(ws, OCT, 'provider', page);
    expect(prov.data.map((r) => [r.key, r.totals.spend, r.totals.sessions, r.totals.leads])).toEqual([
      ['meta_ads', 50_000, 0, null],
      ['linkedin_ads', 15_000, 0, null],
      ['ga4', 0, 800, null],
    ]);
    expect(prov.data[0].kpis).toMatchObject({ cpc: 50, ctr: 0.025, roas: null });

    const camp = await svc.breakdown(ws, OCT, 'campaign', page);
    expect(
      camp.data.map((r) => [
        r.label,
        r.campaign_id,
        r.providers,
        r.totals.spend,
        r.totals.sessions,
        r.totals.leads,
        r.totals.customers,
        r.totals.revenue,
      ]),
    ).toEqual([
      ['Spring Sale', spring, ['ga4', 'meta_ads'], 50_000, 500, 2, 1, 20_000],
      ['B2B Webinar', null, ['linkedin_ads'], 15_000, 0, 1, 1, 50_000],
      ['(not set)', null, ['ga4'], 0, 300, 0, 0, 0],
      ['(no campaign)', null, [], 0, 0, 1, 0, 0],
    ]);
    expect(camp.data[0].key).toBe('spring_sale');
    expect(camp.data[1].kpis).toMatchObject({ cac: 15_000, roas: 3.3333 });

    const src = await svc.breakdown(ws, OCT, 'source', page);
    expect(src.data.map((r) => [r.key, r.totals.spend, r.totals.sessions, r.totals.leads, r.totals.revenue])).toEqual([
      ['facebook', 50_000, 0, 1, 20_000],
      ['linkedin', 15_000, 0, 1, 50_000],
      ['google', 0, 500, 0, 0],
      ['(direct)', 0, 300, 0, 0],
      ['(none)', 0, 0, 1, 0],
      ['website', 0, 0, 1, 0],
    ]);

    const ch = await svc.breakdown(ws, OCT, 'channel', { limit: 1 });
    expect(ch.data.map((r) => [r.key, r.totals.spend])).toEqual([['Paid Social', 65_000]]);
    expect(ch.next_cursor).not.toBeNull();
    const next = await svc.breakdown(ws, OCT, 'channel', { limit: 5, cursor: ch.next_cursor! });
    expect(next.data.map((r) => r.key)).toEqual(['Paid Search', 'Direct']); // by sessions: 500, 300
    expect(next.next_cursor).toBeNull();
  });

  it('the campaign breakdown (whole weeks + edge days from the campaign rollups) equals the raw sums for any range', async () => {
    const dense = await createWorkspace(db, 'Dense');
    // Three campaigns every day for ten weeks, with day-dependent figures.
    const rows: NormalizedRow[] = [];
    for (let d = 0; d < 70; d++) {
      const date = new Date(Date.parse('2026-09-01T00:00:00Z') + d * 86_400_000).toISOString().slice(0, 10);
      for (const c of ['Alpha', 'Beta', 'Gamma'])
        rows.push(
          row({ date, campaignName: c, impressions: 100 + d, clicks: 1 + (d % 7), spendMicros: toMicros(`${d}.${c.length}1`) }),
        );
    }
    await load(db, dense, 'meta_ads', 'act_dense', rows);
    for (const [from, to] of [
      ['2026-09-01', '2026-11-09'], // Tuesday .. Monday
      ['2026-09-07', '2026-09-20'], // exactly two ISO weeks
      ['2026-09-08', '2026-09-13'], // inside one week: edge days only
      ['2026-09-05', '2026-10-21'],
      ['2026-09-03', '2026-09-03'],
    ]) {
      const api = await svc.breakdown(dense, { from, to }, 'campaign', { limit: 50 });
      const raw = await db.execute<{ key: string; clicks: string; spend: string; impressions: string }>(sql`
        select campaign_key as key, sum(clicks)::text as clicks, sum(spend_micros)::text as spend, sum(impressions)::text as impressions
        from ad_metrics_daily where workspace_id = ${dense}::uuid and date between ${from}::date and ${to}::date
        group by 1 order by 1`);
      expect(api.data.map((r) => [r.key, r.totals.clicks, r.totals.impressions]).sort(), `${from}..${to}`).toEqual(
        raw.rows.map((r) => [r.key, Number(r.clicks), Number(r.impressions)]),
      );
      for (const r of raw.rows)
        expect(api.data.find((x) => x.key === r.key)!.totals.spend).toBe(Number((BigInt(r.spend) + 5000n) / 10000n));
    }
  });

  it('first-party lead analytics work without any ad connection', async () => {
    const empty = await createWorkspace(db, 'No ads');
    const s = await svc.summary(empty, OCT);
    expect(s.totals).toMatchObject({ impressions: 0, spend: null, leads: 0 });
    const byStatus = await svc.leads(ws, OCT, 'status');
    expect(byStatus.data.map((r) => [r.key, r.leads])).toEqual([
      ['customer', 2],
      ['new', 1],
      ['unsubscribed', 1],
    ]);
    expect(byStatus.totals).toMatchObject({
      leads: 4,
      confirmed: 0,
      pending_confirmation: 1,
      unsubscribed: 1,
      customers: 2,
      confirmation_rate: 0,
      unsubscribe_rate: 0.25,
    });
    const byCampaign = await svc.leads(ws, OCT, 'utm_campaign');
    expect(byCampaign.data.map((r) => [r.key, r.leads])).toEqual([
      ['(none)', 2],
      ['B2B Webinar', 1],
      ['spring_sale', 1],
    ]);
    const byDay = await svc.leads(ws, OCT, 'day');
    expect(byDay.data.map((r) => r.key)).toEqual(['2026-10-05', '2026-10-06', '2026-10-07', '2026-10-20']);
  });

  it('never sums two currencies: split per currency, or converted with a configured rate table', async () => {
    const mixed = await createWorkspace(db, 'Mixed');
    await load(db, mixed, 'meta_ads', 'act_usd', [
      row({ date: '2026-10-05', campaignName: 'A', impressions: 1000, clicks: 10, spendMicros: toMicros('10.00') }),
    ]);
    await load(db, mixed, 'meta_ads', 'act_eur', [
      row({
        date: '2026-10-05',
        campaignName: 'B',
        currency: 'EUR',
        impressions: 1000,
        clicks: 30,
        spendMicros: toMicros('20.00'),
      }),
    ]);
    const split = await svc.summary(mixed, OCT);
    expect(split.currency).toBeNull();
    expect(split.totals.spend).toBeNull();
    expect(split.totals.clicks).toBe(40);
    expect(split.by_currency.map((c) => [c.currency, c.totals.spend, c.kpis.cpc])).toEqual([
      ['EUR', 2_000, 66.67],
      ['USD', 1_000, 100],
    ]);
    expect(split.notes.join(' ')).toMatch(/several currencies/);
    const series = await svc.timeseries(mixed, { from: '2026-10-05', to: '2026-10-05' }, 'spend', 'day');
    expect(series.series.map((s) => [s.currency, s.points[0].value])).toEqual([
      ['EUR', 2_000],
      ['USD', 1_000],
    ]);

    const converting = new DashboardService(new DashboardRepository(db), new FirstPartyRepository(db), {
      ...t.config,
      ANALYTICS_REPORTING_CURRENCY: 'USD',
      ANALYTICS_FX_RATES: 'EUR=1.10',
    });
    const conv = await converting.summary(mixed, OCT);
    expect(conv.currency).toBe('USD');
    expect(conv.totals.spend).toBe(3_200); // $10.00 + €20.00 × 1.10
    expect(conv.currency_conversion).toMatchObject({ to: 'USD', rates: { EUR: '1.10' } });
  });
});
