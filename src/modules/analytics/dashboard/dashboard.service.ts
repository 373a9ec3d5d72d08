import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { WorkspaceId } from '../../../auth/auth-context';
import { DomainError } from '../../../common/errors/domain-error';
import { decodeCursor, encodeCursor } from '../../../common/http/pagination';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import type { AnalyticsProvider } from '../../../db/schema/analytics';
import { periods, type Interval } from '../dates';
import { minorToMicros, parseFxTable, type FxTable } from '../money';
import {
  FirstPartyRepository,
  type CampaignFilter,
  type CampaignRef,
  type FirstPartyGroup,
  type LeadsReportBy,
  type LeadsReportRow,
} from '../first-party/first-party.repository';
import { DashboardRepository, type AdAggregate, type AdFilter, type AdGroup } from './dashboard.repository';
import {
  MONEY_METRICS,
  combine,
  currencyMode,
  disclose,
  metricValue,
  summarize,
  zeroSums,
  type CurrencyDisclosure,
  type CurrencyGroup,
  type CurrencyMode,
  type MetricName,
  type SummaryView,
} from './kpis';

export interface DashboardFilter {
  from: string;
  to: string;
  provider?: AnalyticsProvider;
  /** One of our campaigns: its ad rows match by utm_campaign or name. */
  campaign_id?: string;
  /** An ad campaign name / utm_campaign value (case-insensitive). */
  campaign?: string;
}

export type BreakdownBy = 'provider' | 'campaign' | 'source' | 'channel';

export interface SummaryResponse extends SummaryView {
  from: string;
  to: string;
  filters: { provider: AnalyticsProvider | null; campaign_id: string | null; campaign: string | null };
  notes: string[];
}

export interface SeriesPoint {
  period: string;
  from: string;
  to: string;
  value: number | null;
}

export interface TimeseriesResponse extends CurrencyDisclosure {
  metric: MetricName;
  interval: Interval;
  from: string;
  to: string;
  /** One series; one per currency for a money metric when currencies cannot be combined. */
  series: Array<{ currency: string | null; points: SeriesPoint[] }>;
  notes: string[];
}

export interface BreakdownRow extends Omit<SummaryView, 'currency' | 'currency_conversion'> {
  key: string;
  label: string;
  campaign_id: string | null;
  providers: AnalyticsProvider[];
}

export interface BreakdownResponse extends CurrencyDisclosure {
  by: BreakdownBy;
  from: string;
  to: string;
  data: BreakdownRow[];
  next_cursor: string | null;
  notes: string[];
}

export interface LeadsResponse {
  from: string;
  to: string;
  by: LeadsReportBy;
  totals: LeadsReportRow & { confirmation_rate: number | null; unsubscribe_rate: number | null };
  data: Array<LeadsReportRow & { confirmation_rate: number | null; unsubscribe_rate: number | null }>;
}

const NOTE_PROVIDER_FIRST_PARTY =
  'leads, customers and revenue are first-party figures and are not split by ad provider: with a provider filter they still cover the whole workspace (or the campaign)';
const NOTE_SPLIT =
  'figures are in several currencies and no rate table covers them all: money is listed per currency in by_currency';

const rate = (num: number, den: number) => (den === 0 ? null : Math.round((num / den) * 1e6) / 1e6);

/**
 * The dashboard: summary, timeseries and breakdowns joining ad metrics (GA4, Meta, LinkedIn)
 * with first-party leads, customers and revenue; plus first-party lead analytics that work with
 * no ad connection at all.
 */
@Injectable()
export class DashboardService {
  private readonly fx: FxTable | null;

  constructor(
    private readonly ads: DashboardRepository,
    private readonly firstParty: FirstPartyRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.fx = parseFxTable(config.ANALYTICS_REPORTING_CURRENCY, config.ANALYTICS_FX_RATES);
  }

  private async resolve(
    ws: WorkspaceId,
    f: DashboardFilter,
  ): Promise<{ ad: AdFilter; fp: CampaignFilter; campaign?: CampaignRef }> {
    const ad: AdFilter = { from: f.from, to: f.to, provider: f.provider };
    if (f.campaign_id) {
      const campaign = await this.firstParty.campaign(ws, f.campaign_id);
      if (!campaign) throw new DomainError('not_found', 'Campaign not found');
      ad.campaignKeys = [...new Set([campaign.utmCampaign, campaign.name].filter((v): v is string => !!v?.trim()).map(keyOf))];
      return { ad, fp: { campaignId: campaign.id }, campaign };
    }
    if (f.campaign) {
      ad.campaignKeys = [keyOf(f.campaign)];
      return { ad, fp: { key: keyOf(f.campaign) } };
    }
    return { ad, fp: undefined };
  }

  /** Ad aggregates and first-party figures of one grouping, as currency groups per key. */
  private async groups(
    ws: WorkspaceId,
    ad: AdFilter,
    fp: CampaignFilter,
    adGroup: AdGroup,
    fpGroup: FirstPartyGroup | null,
  ): Promise<{ byKey: Map<string | null, CurrencyGroup[]>; adRows: AdAggregate[] }> {
    const range = { from: ad.from, to: ad.to };
    const [adRows, leadRows, revenueRows] = await Promise.all([
      this.ads.aggregate(ws, ad, adGroup),
      fpGroup ? this.firstParty.leadCounts(ws, range, fpGroup, fp) : Promise.resolve([]),
      fpGroup ? this.firstParty.revenue(ws, range, fpGroup, fp) : Promise.resolve([]),
    ]);
    const out = new Map<string | null, CurrencyGroup[]>();
    const push = (key: string | null, g: CurrencyGroup) => out.set(key, [...(out.get(key) ?? []), g]);
    for (const r of adRows) push(r.key, { currency: r.currency, sums: r.sums });
    for (const r of leadRows) push(r.key, { currency: null, sums: { ...zeroSums(), leads: r.leads, customers: r.customers } });
    for (const r of revenueRows)
      push(r.key, { currency: r.currency, sums: { ...zeroSums(), revenueMicros: minorToMicros(r.amountMinor, r.currency) } });
    return { byKey: out, adRows };
  }

  async summary(ws: WorkspaceId, f: DashboardFilter): Promise<SummaryResponse> {
    const { ad, fp } = await this.resolve(ws, f);
    const groups = [...(await this.groups(ws, ad, fp, 'none', 'none')).byKey.values()].flat();
    const mode = currencyMode(groups, this.fx);
    return {
      from: f.from,
      to: f.to,
      filters: { provider: f.provider ?? null, campaign_id: f.campaign_id ?? null, campaign: f.campaign ?? null },
      ...summarize(groups, mode),
      notes: this.notes(f, mode),
    };
  }

  async timeseries(ws: WorkspaceId, f: DashboardFilter, metric: MetricName, interval: Interval): Promise<TimeseriesResponse> {
    const { ad, fp } = await this.resolve(ws, f);
    const { byKey: byPeriod } = await this.groups(ws, ad, fp, interval, interval);
    const all = [...byPeriod.values()].flat();
    const mode = currencyMode(all, this.fx);
    const slots = periods(f.from, f.to, interval);
    const series =
      mode.kind === 'split' && MONEY_METRICS.has(metric)
        ? mode.currencies.map((currency) => ({
            currency,
            points: slots.map((p) => ({
              ...p,
              value: metricValue(
                (byPeriod.get(p.period) ?? []).filter((g) => g.currency === currency),
                { kind: 'single', currency },
                metric,
              ),
            })),
          }))
        : [
            {
              currency: MONEY_METRICS.has(metric) ? (summarize([], mode).currency ?? null) : null,
              points: slots.map((p) => ({ ...p, value: metricValue(byPeriod.get(p.period) ?? [], mode, metric) })),
            },
          ];
    const disclosure = summarize([], mode);
    return {
      metric,
      interval,
      from: f.from,
      to: f.to,
      currency: disclosure.currency,
      currency_conversion: disclosure.currency_conversion,
      series,
      notes: this.notes(f, mode),
    };
  }

  async breakdown(
    ws: WorkspaceId,
    f: DashboardFilter,
    by: BreakdownBy,
    page: { limit: number; cursor?: string },
  ): Promise<BreakdownResponse> {
    const { ad, fp } = await this.resolve(ws, f);
    const fpGroup: FirstPartyGroup | null = by === 'campaign' ? 'campaign' : by === 'source' ? 'source' : null;
    const [{ byKey: grouped, adRows }, campaigns] = await Promise.all([
      this.groups(ws, ad, fp, by, fpGroup),
      by === 'campaign' ? this.firstParty.campaigns(ws) : Promise.resolve([]),
    ]);

    // Rows: for campaigns, ad keys and lead attributions meet on our campaign (utm_campaign or name).
    interface RowAcc {
      key: string;
      label: string;
      campaign_id: string | null;
      providers: Set<AnalyticsProvider>;
      groups: CurrencyGroup[];
    }
    const rows = new Map<string, RowAcc>();
    const byKey = new Map<string, CampaignRef>();
    for (const c of campaigns) {
      for (const k of [c.utmCampaign, c.name]) if (k?.trim() && !byKey.has(keyOf(k))) byKey.set(keyOf(k), c);
    }
    const byId = new Map(campaigns.map((c) => [c.id, c]));
    const meta = new Map<string, { label: string; providers: AnalyticsProvider[] }>();
    for (const r of adRows) {
      const m = meta.get(r.key ?? '') ?? { label: r.label ?? r.key ?? '', providers: [] };
      m.providers = [...new Set([...m.providers, ...(r.providers ?? [])])];
      meta.set(r.key ?? '', m);
    }
    const rowFor = (rawKey: string | null): RowAcc => {
      let id: string;
      let init: Omit<RowAcc, 'groups' | 'providers'>;
      if (by !== 'campaign') {
        const key = rawKey ?? '(none)';
        id = key;
        init = { key, label: by === 'provider' ? key : key || '(none)', campaign_id: null };
      } else {
        let campaign: CampaignRef | undefined;
        let key = rawKey;
        if (rawKey && !rawKey.startsWith('utm:') && byId.has(rawKey)) campaign = byId.get(rawKey);
        else {
          key = rawKey?.startsWith('utm:') ? rawKey.slice(4) : rawKey;
          if (key) campaign = byKey.get(key);
        }
        if (campaign) {
          id = `c:${campaign.id}`;
          init = { key: campaign.utmCampaign ?? keyOf(campaign.name), label: campaign.name, campaign_id: campaign.id };
        } else if (key) {
          id = `k:${key}`;
          init = { key, label: meta.get(key)?.label ?? key, campaign_id: null };
        } else {
          id = 'none';
          init = { key: '(none)', label: '(no campaign)', campaign_id: null };
        }
      }
      let acc = rows.get(id);
      if (!acc) {
        acc = { ...init, providers: new Set(), groups: [] };
        rows.set(id, acc);
      }
      return acc;
    };
    for (const [key, groups] of grouped) {
      const acc = rowFor(key);
      acc.groups.push(...groups);
      if (by === 'campaign' && key) for (const p of meta.get(key)?.providers ?? []) acc.providers.add(p);
      if (by === 'provider' && key) acc.providers.add(key as AnalyticsProvider);
    }

    const mode = currencyMode(
      [...rows.values()].flatMap((r) => r.groups),
      this.fx,
    );
    const firstParty = fpGroup !== null;
    // Rank on the exact sums (cheap), then build the full view of the requested page only.
    // Biggest first: by spend (when money has one currency), then clicks, sessions, leads; then key.
    const ranked = [...rows.values()].map((r) => {
      const s = combine(r.groups, mode);
      return { r, w: [mode.kind === 'split' ? 0n : s.spendMicros, s.clicks, s.sessions, s.leads] };
    });
    ranked.sort((a, b) => {
      for (let i = 0; i < a.w.length; i++) if (a.w[i] !== b.w[i]) return a.w[i] > b.w[i] ? -1 : 1;
      return a.r.key.localeCompare(b.r.key);
    });
    const offset = decodeCursor(page.cursor, z.object({ offset: z.number().int().min(0) }))?.offset ?? 0;
    const data: BreakdownRow[] = ranked.slice(offset, offset + page.limit).map(({ r }) => {
      const view = summarize(r.groups, mode);
      if (!firstParty) {
        Object.assign(view.totals, { leads: null, customers: null, revenue: null });
        Object.assign(view.kpis, { cpl: null, cac: null, roas: null });
      }
      return {
        key: r.key,
        label: r.label,
        campaign_id: r.campaign_id,
        providers: [...r.providers].sort(),
        totals: view.totals,
        kpis: view.kpis,
        by_currency: view.by_currency,
      };
    });
    const disclosure = summarize([], mode);
    const notes = this.notes(f, mode);
    if (!firstParty) notes.push(`leads, customers and revenue cannot be attributed by ${by}: they are null here`);
    return {
      by,
      from: f.from,
      to: f.to,
      currency: disclosure.currency,
      currency_conversion: disclosure.currency_conversion,
      data,
      next_cursor: offset + page.limit < ranked.length ? encodeCursor({ offset: offset + page.limit }) : null,
      notes,
    };
  }

  /**
   * A day-by-day table of the requested metrics and their totals over the range (reports).
   * When money cannot be combined into one currency, each money metric becomes one column per
   * currency (`spend_USD`, `spend_EUR`).
   */
  async dailyTable(
    ws: WorkspaceId,
    f: DashboardFilter,
    metrics: MetricName[],
  ): Promise<
    CurrencyDisclosure & {
      columns: string[];
      rows: Array<Record<string, string | number | null>>;
      totals: Record<string, number | null>;
      notes: string[];
    }
  > {
    const { ad, fp } = await this.resolve(ws, f);
    const { byKey: byDay } = await this.groups(ws, ad, fp, 'day', 'day');
    const all = [...byDay.values()].flat();
    const mode = currencyMode(all, this.fx);
    const cells: Array<{ column: string; value: (groups: CurrencyGroup[]) => number | null }> = [];
    for (const m of metrics) {
      if (mode.kind === 'split' && MONEY_METRICS.has(m)) {
        for (const c of mode.currencies)
          cells.push({
            column: `${m}_${c}`,
            value: (groups) =>
              metricValue(
                groups.filter((g) => g.currency === c),
                { kind: 'single', currency: c },
                m,
              ),
          });
      } else {
        cells.push({ column: m, value: (groups) => metricValue(groups, mode, m) });
      }
    }
    const rows = periods(f.from, f.to, 'day').map((p) => {
      const groups = byDay.get(p.period) ?? [];
      const row: Record<string, string | number | null> = { date: p.period };
      for (const c of cells) row[c.column] = c.value(groups);
      return row;
    });
    const totals: Record<string, number | null> = {};
    for (const c of cells) totals[c.column] = c.value(all);
    const disclosure = disclose(mode);
    return { ...disclosure, columns: cells.map((c) => c.column), rows, totals, notes: this.notes(f, mode) };
  }

  async leads(ws: WorkspaceId, range: { from: string; to: string }, by: LeadsReportBy): Promise<LeadsResponse> {
    const rows = await this.firstParty.leadsReport(ws, range, by);
    const withRates = (r: LeadsReportRow) => ({
      ...r,
      confirmation_rate: rate(r.confirmed, r.confirmed + r.pending_confirmation),
      unsubscribe_rate: rate(r.unsubscribed, r.leads),
    });
    const totals = rows.reduce<LeadsReportRow>(
      (acc, r) => ({
        key: 'total',
        leads: acc.leads + r.leads,
        confirmed: acc.confirmed + r.confirmed,
        pending_confirmation: acc.pending_confirmation + r.pending_confirmation,
        unsubscribed: acc.unsubscribed + r.unsubscribed,
        customers: acc.customers + r.customers,
      }),
      { key: 'total', leads: 0, confirmed: 0, pending_confirmation: 0, unsubscribed: 0, customers: 0 },
    );
    return { from: range.from, to: range.to, by, totals: withRates(totals), data: rows.map(withRates) };
  }

  private notes(f: DashboardFilter, mode: CurrencyMode): string[] {
    const notes: string[] = [];
    if (f.provider) notes.push(NOTE_PROVIDER_FIRST_PARTY);
    if (mode.kind === 'split') notes.push(NOTE_SPLIT);
    return notes;
  }
}

/** How campaign names and utm_campaign values are compared: trimmed, case-insensitive. */
export const keyOf = (v: string) => v.trim().toLowerCase();
