import { describe, expect, it } from 'vitest';
import { DomainError } from '../../common/errors/domain-error';
import {
  createConnectionSchema,
  queryRange,
  reportRequestSchema,
  resolveDateRange,
  syncRequestSchema,
} from './analytics.schemas';
import { toCsv } from './reports/reports.service';
import { scheduleProblem } from './sync/sync-scheduler';

describe('report date ranges', () => {
  const today = '2026-11-26';
  it('resolves presets and explicit ranges (inclusive, UTC days)', () => {
    expect(resolveDateRange('2026-10-01..2026-10-31', today)).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(resolveDateRange('today', today)).toEqual({ from: today, to: today });
    expect(resolveDateRange('yesterday', today)).toEqual({ from: '2026-11-25', to: '2026-11-25' });
    expect(resolveDateRange('last_7_days', today)).toEqual({ from: '2026-11-20', to: today });
    expect(resolveDateRange('last_30_days', today)).toEqual({ from: '2026-10-28', to: today });
    expect(resolveDateRange('this_month', today)).toEqual({ from: '2026-11-01', to: today });
    expect(resolveDateRange('last_month', today)).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(resolveDateRange('last_month', '2026-03-15')).toEqual({ from: '2026-02-01', to: '2026-02-28' });
    expect(resolveDateRange('year_to_date', today)).toEqual({ from: '2026-01-01', to: today });
    expect(resolveDateRange('2026-02-30..2026-03-01', today)).toBeNull();
    expect(resolveDateRange('forever', today)).toBeNull();
  });

  it('validates report requests', () => {
    expect(
      reportRequestSchema.safeParse({ date_range: 'last_7_days', metrics: ['spend', 'spend', 'roas'] }).data?.metrics,
    ).toEqual(['spend', 'roas']);
    expect(reportRequestSchema.safeParse({ date_range: '2026-10-31..2026-10-01', metrics: ['spend'] }).success).toBe(false);
    expect(reportRequestSchema.safeParse({ date_range: '2020-01-01..2026-01-01', metrics: ['spend'] }).success).toBe(false);
    expect(reportRequestSchema.safeParse({ date_range: 'today', metrics: [] }).success).toBe(false);
    expect(reportRequestSchema.safeParse({ date_range: 'today', metrics: ['spend'], workspace_id: 'x' }).success).toBe(false);
  });
});

describe('query ranges and sync requests', () => {
  it('defaults to the last 30 days and rejects inverted or too long ranges', () => {
    expect(queryRange({}, '2026-11-26')).toEqual({ from: '2026-10-28', to: '2026-11-26' });
    expect(queryRange({ to: '2026-10-31' }, '2026-11-26')).toEqual({ from: '2026-10-02', to: '2026-10-31' });
    expect(() => queryRange({ from: '2026-11-02', to: '2026-11-01' })).toThrow(DomainError);
    expect(() => queryRange({ from: '2020-01-01', to: '2026-01-01' })).toThrow(DomainError);
  });

  it('accepts no body (incremental) or both dates (backfill)', () => {
    expect(syncRequestSchema.safeParse(undefined).success).toBe(true);
    expect(syncRequestSchema.safeParse({}).success).toBe(true);
    expect(syncRequestSchema.safeParse({ from: '2026-01-01', to: '2026-02-01' }).success).toBe(true);
    expect(syncRequestSchema.safeParse({ from: '2026-01-01' }).success).toBe(false);
    expect(syncRequestSchema.safeParse({ from: '2026-02-01', to: '2026-01-01' }).success).toBe(false);
    expect(syncRequestSchema.safeParse({ from: '2099-01-01', to: '2099-01-02' }).success).toBe(false);
  });

  it('rejects unknown properties and control characters in connection bodies', () => {
    const base = { provider: 'ga4', account_id: '123', credentials: { access_token: 't' } };
    expect(createConnectionSchema.safeParse(base).success).toBe(true);
    expect(createConnectionSchema.safeParse({ ...base, id: 'x' }).success).toBe(false);
    expect(createConnectionSchema.safeParse({ ...base, credentials: { access_token: 't', scope: 'x' } }).success).toBe(false);
    expect(createConnectionSchema.safeParse({ ...base, name: 'a\u202eb' }).success).toBe(false);
    expect(createConnectionSchema.safeParse({ ...base, currency: 'usd' }).success).toBe(false);
  });
});

describe('sync schedules', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  it('accepts cron expressions no more frequent than the minimum interval', () => {
    expect(scheduleProblem('0 * * * *', 900, now)).toBeNull();
    expect(scheduleProblem('*/15 * * * *', 900, now)).toBeNull();
    expect(scheduleProblem('*/5 * * * *', 900, now)).toMatch(/more often/);
    expect(scheduleProblem('*/3 * * * * *', 1, now)).toBeNull();
    expect(scheduleProblem('every hour', 900, now)).toMatch(/Not a cron expression/);
  });
});

describe('report CSV', () => {
  it('writes a row per day and a total row; text cells that look like formulas are neutralised', () => {
    const csv = toCsv({
      from: '2026-10-01',
      to: '2026-10-02',
      campaign_id: null,
      campaign: null,
      provider: null,
      metrics: ['spend', 'ctr'],
      currency: 'USD',
      currency_conversion: null,
      totals: { spend: 300, ctr: null },
      rows: [
        { date: '2026-10-01', spend: 100, ctr: 0.5 },
        { date: '=HYPERLINK("x")', spend: -200, ctr: null },
      ],
      notes: [],
    });
    expect(csv).toBe('date,spend,ctr\n2026-10-01,100,0.5\n"\'=HYPERLINK(""x"")",-200,\ntotal,300,\n');
  });
});
