import { convertMicros, currencyExponent, formatScaled, microsToMinor, toSafeNumber, type FxTable } from '../money';

/**
 * Exact sums behind every dashboard figure. Money is in micros of the group's currency,
 * conversions and key events are scaled by 10^6 (they can be fractional); everything is BigInt
 * until the response is built, so totals never drift.
 */
export interface Sums {
  impressions: bigint;
  clicks: bigint;
  spendMicros: bigint;
  /** Conversions reported by the ad platforms (Meta, LinkedIn), ×10^6. */
  conversions: bigint;
  conversionValueMicros: bigint;
  sessions: bigint;
  users: bigint;
  /** GA4 key events, ×10^6. */
  keyEvents: bigint;
  /** GA4 totalRevenue. */
  siteRevenueMicros: bigint;
  /** First-party: leads created, new customers, revenue recorded (Stripe). */
  leads: bigint;
  customers: bigint;
  revenueMicros: bigint;
}

export const zeroSums = (): Sums => ({
  impressions: 0n,
  clicks: 0n,
  spendMicros: 0n,
  conversions: 0n,
  conversionValueMicros: 0n,
  sessions: 0n,
  users: 0n,
  keyEvents: 0n,
  siteRevenueMicros: 0n,
  leads: 0n,
  customers: 0n,
  revenueMicros: 0n,
});

export const MONEY_FIELDS = ['spendMicros', 'conversionValueMicros', 'siteRevenueMicros', 'revenueMicros'] as const;

export function addSums(a: Sums, b: Partial<Sums>): Sums {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof Sums>) out[k] = out[k] + (b[k] ?? 0n);
  return out;
}

/**
 * A bucket of sums in one currency. `currency: null` holds figures that carry no money
 * (leads, customers; rows of a provider that reported no currency).
 */
export interface CurrencyGroup {
  currency: string | null;
  sums: Sums;
}

export type CurrencyMode =
  | { kind: 'single'; currency: string | null }
  | { kind: 'converted'; currency: string; fx: FxTable; from: string[] }
  | { kind: 'split'; currencies: string[] };

const hasMoney = (s: Sums) => MONEY_FIELDS.some((f) => s[f] !== 0n);

/**
 * How figures in several currencies are shown — never summed silently: one currency → as is;
 * several and a rate table covering them all → converted into the reporting currency (and the
 * response says so); otherwise → split, money per currency.
 */
export function currencyMode(groups: CurrencyGroup[], fx: FxTable | null): CurrencyMode {
  const currencies = [...new Set(groups.filter((g) => g.currency && hasMoney(g.sums)).map((g) => g.currency!))].sort();
  if (currencies.length <= 1) {
    // No money at all: still name a currency when one is known, so money shows as 0, not null.
    const any = groups.find((g) => g.currency)?.currency ?? null;
    return { kind: 'single', currency: currencies[0] ?? fx?.reportingCurrency ?? any };
  }
  if (fx && currencies.every((c) => fx.rates.has(c)))
    return { kind: 'converted', currency: fx.reportingCurrency, fx, from: currencies.filter((c) => c !== fx.reportingCurrency) };
  return { kind: 'split', currencies };
}

/** Sums every group; money of other currencies is converted (mode `converted`) or dropped (`single`: there is none). */
export function combine(groups: CurrencyGroup[], mode: CurrencyMode): Sums {
  let total = zeroSums();
  for (const g of groups) {
    if (mode.kind === 'converted' && g.currency && g.currency !== mode.currency) {
      const converted: Sums = { ...g.sums };
      for (const f of MONEY_FIELDS) converted[f] = convertMicros(g.sums[f], g.currency, mode.fx)!;
      total = addSums(total, converted);
    } else {
      total = addSums(total, g.sums);
    }
  }
  return total;
}

export interface TotalsView {
  impressions: number;
  clicks: number;
  spend: number | null;
  conversions: number;
  conversion_value: number | null;
  sessions: number;
  users: number;
  key_events: number;
  site_revenue: number | null;
  leads: number;
  customers: number;
  revenue: number | null;
}

export interface KpisView {
  ctr: number | null;
  cpc: number | null;
  cpm: number | null;
  conversion_rate: number | null;
  cpa: number | null;
  cpl: number | null;
  cac: number | null;
  roas: number | null;
}

export const KPI_NAMES = ['ctr', 'cpc', 'cpm', 'conversion_rate', 'cpa', 'cpl', 'cac', 'roas'] as const;
export const TOTAL_NAMES = [
  'impressions',
  'clicks',
  'spend',
  'conversions',
  'conversion_value',
  'sessions',
  'users',
  'key_events',
  'site_revenue',
  'leads',
  'customers',
  'revenue',
] as const;
export type MetricName = (typeof TOTAL_NAMES)[number] | (typeof KPI_NAMES)[number];
export const MONEY_METRICS = new Set<MetricName>([
  'spend',
  'conversion_value',
  'site_revenue',
  'revenue',
  'cpc',
  'cpm',
  'cpa',
  'cpl',
  'cac',
]);

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratio = (num: bigint, den: bigint, digits: number) => (den === 0n ? null : round(Number(num) / Number(den), digits));
const count = (v: bigint) => toSafeNumber(v);
const scaled = (v: bigint) => Number(formatScaled(v, 6));

/**
 * Totals as the API shows them: counts as numbers, money as integer minor units of `currency`
 * (null when there is no single currency to express it in).
 */
export function totalsView(s: Sums, currency: string | null): TotalsView {
  const money = (micros: bigint) => (currency ? toSafeNumber(microsToMinor(micros, currency)) : null);
  return {
    impressions: count(s.impressions),
    clicks: count(s.clicks),
    spend: money(s.spendMicros),
    conversions: scaled(s.conversions),
    conversion_value: money(s.conversionValueMicros),
    sessions: count(s.sessions),
    users: count(s.users),
    key_events: scaled(s.keyEvents),
    site_revenue: money(s.siteRevenueMicros),
    leads: count(s.leads),
    customers: count(s.customers),
    revenue: money(s.revenueMicros),
  };
}

/**
 * The KPIs, each null when its denominator is zero:
 * ctr = clicks / impressions; cpc = spend / clicks; cpm = spend × 1000 / impressions;
 * conversion_rate = conversions / clicks; cpa = spend / conversions; cpl = spend / leads;
 * cac = spend / new customers; roas = revenue / spend. Money KPIs are minor units of
 * `currency` with two decimals (a CPC of 41.67 cents), ratios have six (ctr, conversion rate)
 * or four (roas) decimals. Without a currency the money KPIs are null.
 */
export function kpisView(s: Sums, currency: string | null): KpisView {
  const unit = currency ? 10 ** (6 - currencyExponent(currency)) : 0;
  const minor = (micros: bigint) => Number(micros) / unit;
  const perUnit = (micros: bigint, den: number) => (currency && den !== 0 ? round(minor(micros) / den, 2) : null);
  return {
    ctr: ratio(s.clicks, s.impressions, 6),
    cpc: perUnit(s.spendMicros, Number(s.clicks)),
    cpm: perUnit(s.spendMicros * 1000n, Number(s.impressions)),
    conversion_rate: s.clicks === 0n ? null : round(Number(s.conversions) / 1e6 / Number(s.clicks), 6),
    cpa: perUnit(s.spendMicros, Number(s.conversions) / 1e6),
    cpl: perUnit(s.spendMicros, Number(s.leads)),
    cac: perUnit(s.spendMicros, Number(s.customers)),
    roas: currency ? ratio(s.revenueMicros, s.spendMicros, 4) : null,
  };
}

export interface CurrencyDisclosure {
  currency: string | null;
  /** Set when several currencies were converted with the configured rate table. */
  currency_conversion: { to: string; rates: Record<string, string>; note: string } | null;
}

export function disclose(mode: CurrencyMode): CurrencyDisclosure {
  if (mode.kind === 'converted') {
    const rates: Record<string, string> = {};
    for (const c of mode.from) rates[c] = mode.fx.display[c];
    return {
      currency: mode.currency,
      currency_conversion: {
        to: mode.currency,
        rates,
        note: `Amounts in ${mode.from.join(', ')} were converted into ${mode.currency} with the configured rate table (ANALYTICS_FX_RATES: units of ${mode.currency} per unit).`,
      },
    };
  }
  if (mode.kind === 'split') return { currency: null, currency_conversion: null };
  return { currency: mode.currency, currency_conversion: null };
}

/** One currency's money figures when they cannot be combined (split mode). */
export interface CurrencyBreakdown {
  currency: string;
  totals: Pick<TotalsView, 'impressions' | 'clicks' | 'conversions' | 'spend' | 'conversion_value' | 'site_revenue' | 'revenue'>;
  kpis: Pick<KpisView, 'cpc' | 'cpm' | 'cpa' | 'roas'>;
}

export interface SummaryView extends CurrencyDisclosure {
  totals: TotalsView;
  kpis: KpisView;
  /** Money per currency: always listed, and the only place money appears when `currency` is null. */
  by_currency: CurrencyBreakdown[];
}

/** Totals and KPIs of a set of groups under a currency mode. */
export function summarize(groups: CurrencyGroup[], mode: CurrencyMode): SummaryView {
  const disclosure = disclose(mode);
  const all = combine(groups, mode);
  const currency = mode.kind === 'split' ? null : disclosure.currency;
  const perCurrency = new Map<string, Sums>();
  for (const g of groups) {
    if (!g.currency || !hasMoney(g.sums)) continue;
    perCurrency.set(g.currency, addSums(perCurrency.get(g.currency) ?? zeroSums(), g.sums));
  }
  const by_currency: CurrencyBreakdown[] = [...perCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, s]) => {
      const t = totalsView(s, c);
      const k = kpisView(s, c);
      return {
        currency: c,
        totals: {
          impressions: t.impressions,
          clicks: t.clicks,
          conversions: t.conversions,
          spend: t.spend,
          conversion_value: t.conversion_value,
          site_revenue: t.site_revenue,
          revenue: t.revenue,
        },
        kpis: { cpc: k.cpc, cpm: k.cpm, cpa: k.cpa, roas: k.roas },
      };
    });
  return { ...disclosure, totals: totalsView(all, currency), kpis: kpisView(all, currency), by_currency };
}

/** The value of one metric (a total or a KPI) for a set of groups under a currency mode. */
export function metricValue(groups: CurrencyGroup[], mode: CurrencyMode, metric: MetricName): number | null {
  const currency = mode.kind === 'split' ? null : disclose(mode).currency;
  const s = combine(groups, mode);
  if ((TOTAL_NAMES as readonly string[]).includes(metric)) return totalsView(s, currency)[metric as keyof TotalsView];
  return kpisView(s, currency)[metric as keyof KpisView];
}
