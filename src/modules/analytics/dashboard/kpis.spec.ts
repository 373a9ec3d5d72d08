import { describe, expect, it } from 'vitest';
import { parseFxTable } from '../money';
import { currencyMode, metricValue, summarize, zeroSums, type CurrencyGroup, type Sums } from './kpis';

const M = 1_000_000n; // micros per unit, and the scale of conversions
const g = (currency: string | null, s: Partial<Sums>): CurrencyGroup => ({ currency, sums: { ...zeroSums(), ...s } });

/**
 * Hand-checked dataset (USD): 40,000 impressions, 1,000 clicks, $500.00 spend, 20 conversions
 * worth $1,200.00; 50 leads, 8 new customers, $2,000.00 revenue.
 *   ctr 1,000/40,000 = 0.025 · cpc 50,000¢/1,000 = 50¢ · cpm 50,000¢×1,000/40,000 = 1,250¢
 *   conversion rate 20/1,000 = 0.02 · cpa 50,000¢/20 = 2,500¢ · cpl 50,000¢/50 = 1,000¢
 *   cac 50,000¢/8 = 6,250¢ · roas $2,000/$500 = 4
 */
const usd = [
  g('USD', {
    impressions: 40_000n,
    clicks: 1_000n,
    spendMicros: 500n * M,
    conversions: 20n * M,
    conversionValueMicros: 1_200n * M,
  }),
  g(null, { leads: 50n, customers: 8n }),
  g('USD', { revenueMicros: 2_000n * M }),
];

describe('KPIs on a hand-checked dataset', () => {
  it('computes totals in minor units and every KPI', () => {
    const mode = currencyMode(usd, null);
    expect(mode).toEqual({ kind: 'single', currency: 'USD' });
    const view = summarize(usd, mode);
    expect(view.currency).toBe('USD');
    expect(view.currency_conversion).toBeNull();
    expect(view.totals).toEqual({
      impressions: 40_000,
      clicks: 1_000,
      spend: 50_000,
      conversions: 20,
      conversion_value: 120_000,
      sessions: 0,
      users: 0,
      key_events: 0,
      site_revenue: 0,
      leads: 50,
      customers: 8,
      revenue: 200_000,
    });
    expect(view.kpis).toEqual({
      ctr: 0.025,
      cpc: 50,
      cpm: 1_250,
      conversion_rate: 0.02,
      cpa: 2_500,
      cpl: 1_000,
      cac: 6_250,
      roas: 4,
    });
    expect(view.by_currency).toHaveLength(1);
    expect(metricValue(usd, mode, 'cac')).toBe(6_250);
    expect(metricValue(usd, mode, 'spend')).toBe(50_000);
  });

  it('answers null for a KPI whose denominator is zero', () => {
    const view = summarize([g('USD', { impressions: 10n })], { kind: 'single', currency: 'USD' });
    expect(view.kpis).toEqual({ ctr: 0, cpc: null, cpm: 0, conversion_rate: null, cpa: null, cpl: null, cac: null, roas: null });
    const empty = summarize([], currencyMode([], null));
    expect(empty.currency).toBeNull();
    expect(empty.totals.spend).toBeNull();
    expect(empty.kpis.ctr).toBeNull();
  });

  it('keeps fractional conversions and rounds money KPIs to hundredths of a minor unit', () => {
    const s = [g('USD', { clicks: 3n, spendMicros: 1n * M, conversions: 2_500_000n })];
    const view = summarize(s, currencyMode(s, null));
    expect(view.totals.conversions).toBe(2.5);
    expect(view.kpis.cpc).toBe(33.33); // 100¢ / 3
    expect(view.kpis.cpa).toBe(40); // 100¢ / 2.5
    expect(view.kpis.conversion_rate).toBe(0.833333);
  });

  it('uses the currency exponent (JPY has no minor unit, KWD three)', () => {
    const jpy = summarize([g('JPY', { spendMicros: 12_345n * M, clicks: 100n })], { kind: 'single', currency: 'JPY' });
    expect(jpy.totals.spend).toBe(12_345);
    expect(jpy.kpis.cpc).toBe(123.45);
    const kwd = summarize([g('KWD', { spendMicros: 1_234_567n })], { kind: 'single', currency: 'KWD' });
    expect(kwd.totals.spend).toBe(1_235);
  });

  it('never sums two currencies silently: money is split per currency', () => {
    const mixed = [...usd, g('EUR', { impressions: 10_000n, clicks: 200n, spendMicros: 100n * M })];
    const mode = currencyMode(mixed, null);
    expect(mode).toEqual({ kind: 'split', currencies: ['EUR', 'USD'] });
    const view = summarize(mixed, mode);
    expect(view.currency).toBeNull();
    expect(view.totals.spend).toBeNull();
    expect(view.totals.revenue).toBeNull();
    expect(view.totals.clicks).toBe(1_200);
    expect(view.kpis.ctr).toBe(0.024); // 1,200 / 50,000: counts do add up
    expect(view.kpis.cpc).toBeNull();
    expect(view.by_currency).toEqual([
      {
        currency: 'EUR',
        totals: {
          impressions: 10_000,
          clicks: 200,
          conversions: 0,
          spend: 10_000,
          conversion_value: 0,
          site_revenue: 0,
          revenue: 0,
        },
        kpis: { cpc: 50, cpm: 1_000, cpa: null, roas: 0 },
      },
      {
        currency: 'USD',
        totals: {
          impressions: 40_000,
          clicks: 1_000,
          conversions: 20,
          spend: 50_000,
          conversion_value: 120_000,
          site_revenue: 0,
          revenue: 200_000,
        },
        kpis: { cpc: 50, cpm: 1_250, cpa: 2_500, roas: 4 },
      },
    ]);
    expect(metricValue(mixed, mode, 'spend')).toBeNull();
  });

  it('converts with the configured rate table and says so', () => {
    const mixed = [...usd, g('EUR', { impressions: 10_000n, clicks: 200n, spendMicros: 100n * M })];
    const fx = parseFxTable('USD', 'EUR=1.10')!;
    const mode = currencyMode(mixed, fx);
    expect(mode.kind).toBe('converted');
    const view = summarize(mixed, mode);
    expect(view.currency).toBe('USD');
    expect(view.currency_conversion).toEqual({
      to: 'USD',
      rates: { EUR: '1.10' },
      note: expect.stringContaining('converted into USD'),
    });
    expect(view.totals.spend).toBe(61_000); // $500 + €100 × 1.10
    expect(view.kpis.cpc).toBe(50.83); // 61,000¢ / 1,200
    expect(view.kpis.roas).toBe(3.2787); // 2,000 / 610
    // A currency missing from the table falls back to the split view.
    expect(currencyMode([...mixed, g('GBP', { spendMicros: M })], fx).kind).toBe('split');
  });

  it('names a currency even when there is no money yet (GA4 sessions only)', () => {
    const s = [g('EUR', { sessions: 100n })];
    const view = summarize(s, currencyMode(s, null));
    expect(view.currency).toBe('EUR');
    expect(view.totals.spend).toBe(0);
    expect(view.totals.sessions).toBe(100);
  });
});
