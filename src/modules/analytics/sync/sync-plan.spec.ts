import { describe, expect, it } from 'vitest';
import { addDays, daysInclusive, isValidDate, periodStart, periods, windows } from '../dates';
import { incrementalRange, planRun } from './sync-plan';

describe('dates', () => {
  it('does calendar arithmetic on ISO dates', () => {
    expect(addDays('2026-02-27', 2)).toBe('2026-03-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(daysInclusive('2026-10-01', '2026-10-31')).toBe(31);
    expect(isValidDate('2026-02-29')).toBe(false);
    expect(isValidDate('2028-02-29')).toBe(true);
    expect(isValidDate('2026-1-01')).toBe(false);
  });

  it('splits a range into windows', () => {
    expect(windows('2026-10-01', '2026-10-16', 7)).toEqual([
      { from: '2026-10-01', to: '2026-10-07' },
      { from: '2026-10-08', to: '2026-10-14' },
      { from: '2026-10-15', to: '2026-10-16' },
    ]);
    expect(windows('2026-10-01', '2026-10-01', 7)).toEqual([{ from: '2026-10-01', to: '2026-10-01' }]);
  });

  it('buckets days into ISO weeks and months, clamped to the range', () => {
    expect(periodStart('2026-11-26', 'week')).toBe('2026-11-23'); // a Thursday → Monday
    expect(periodStart('2026-11-29', 'week')).toBe('2026-11-23'); // Sunday belongs to the week before
    expect(periodStart('2026-11-26', 'month')).toBe('2026-11-01');
    expect(periods('2026-10-29', '2026-11-03', 'week')).toEqual([
      { period: '2026-10-26', from: '2026-10-29', to: '2026-11-01' },
      { period: '2026-11-02', from: '2026-11-02', to: '2026-11-03' },
    ]);
    expect(periods('2026-01-15', '2026-03-02', 'month').map((p) => [p.period, p.from, p.to])).toEqual([
      ['2026-01-01', '2026-01-15', '2026-01-31'],
      ['2026-02-01', '2026-02-01', '2026-02-28'],
      ['2026-03-01', '2026-03-01', '2026-03-02'],
    ]);
    expect(periods('2026-10-01', '2026-10-03', 'day').map((p) => p.period)).toEqual(['2026-10-01', '2026-10-02', '2026-10-03']);
  });
});

describe('sync planning', () => {
  const today = '2026-11-26';

  it('re-fetches the lookback window on every incremental sync', () => {
    // Synced an hour ago: GA4 (2 days), Meta (28), LinkedIn (7) re-fetch their windows.
    expect(incrementalRange(today, today, 2, 30)).toEqual({ from: '2026-11-24', to: today });
    expect(incrementalRange(today, today, 28, 30)).toEqual({ from: '2026-10-29', to: today });
    expect(incrementalRange(today, '2026-11-25', 7, 30)).toEqual({ from: '2026-11-19', to: today });
  });

  it('catches up from the last synced day when that is older than the lookback', () => {
    expect(incrementalRange(today, '2026-11-10', 2, 30)).toEqual({ from: '2026-11-11', to: today });
  });

  it('starts a new connection initialDays back (at least the lookback)', () => {
    expect(incrementalRange(today, null, 2, 30)).toEqual({ from: '2026-10-28', to: today });
    expect(incrementalRange(today, null, 28, 7)).toEqual({ from: '2026-10-29', to: today });
  });

  it('plans a backfill as asked, clamped to today', () => {
    expect(
      planRun({
        today,
        syncedThrough: today,
        lookbackDays: 2,
        initialDays: 30,
        requested: { from: '2026-01-01', to: '2027-01-01' },
      }),
    ).toEqual([{ from: '2026-01-01', to: today, backfill: true }]);
  });

  it('resumes a stopped incremental run at its window and page, extended to today', () => {
    const plan = planRun({
      today,
      syncedThrough: '2026-11-10',
      lookbackDays: 2,
      initialDays: 30,
      checkpoint: {
        rangeFrom: '2026-11-11',
        rangeTo: '2026-11-25',
        windowFrom: '2026-11-18',
        windowTo: '2026-11-24',
        cursor: '20000',
        syncToken: 'tok',
        backfill: false,
        pending: [],
      },
    });
    expect(plan).toEqual([
      {
        from: '2026-11-11',
        to: today,
        backfill: false,
        resume: { windowFrom: '2026-11-18', windowTo: '2026-11-24', cursor: '20000', syncToken: 'tok' },
      },
    ]);
  });

  it('finishes a stopped backfill (and what it still owed) before the incremental range', () => {
    const plan = planRun({
      today,
      syncedThrough: today,
      lookbackDays: 2,
      initialDays: 30,
      checkpoint: {
        rangeFrom: '2026-01-01',
        rangeTo: '2026-03-31',
        windowFrom: '2026-02-05',
        windowTo: '2026-02-11',
        cursor: null,
        syncToken: 'tok',
        backfill: true,
        pending: [
          { from: '2026-05-01', to: '2026-05-31', backfill: true },
          { from: '2026-02-01', to: '2026-02-28', backfill: true }, // covered by the first: dropped
        ],
      },
    });
    expect(plan.map((s) => [s.from, s.to, s.backfill, !!s.resume])).toEqual([
      ['2026-01-01', '2026-03-31', true, true],
      ['2026-05-01', '2026-05-31', true, false],
      ['2026-11-24', today, false, false],
    ]);
  });
});
