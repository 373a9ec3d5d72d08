/** Calendar-date helpers on `YYYY-MM-DD` strings (UTC, no time zones involved). */

const DAY_MS = 86_400_000;
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isValidDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function toDate(iso: string): Date {
  return new Date(`${iso}T00:00:00Z`);
}

export function fromDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function addDays(iso: string, days: number): string {
  return fromDate(new Date(toDate(iso).getTime() + days * DAY_MS));
}

export function todayUtc(now: number = Date.now()): string {
  return fromDate(new Date(now));
}

/** Inclusive number of days from `from` to `to` (1 when equal). */
export function daysInclusive(from: string, to: string): number {
  return Math.round((toDate(to).getTime() - toDate(from).getTime()) / DAY_MS) + 1;
}

export const minDate = (a: string, b: string) => (a < b ? a : b);
export const maxDate = (a: string, b: string) => (a > b ? a : b);

/** Consecutive windows of at most `size` days covering [from, to]. */
export function windows(from: string, to: string, size: number): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (let start = from; start <= to; start = addDays(start, size))
    out.push({ from: start, to: minDate(addDays(start, size - 1), to) });
  return out;
}

export type Interval = 'day' | 'week' | 'month';

/** Start of the period containing `iso`: the day, the ISO week's Monday, or the 1st of the month. */
export function periodStart(iso: string, interval: Interval): string {
  if (interval === 'day') return iso;
  if (interval === 'month') return `${iso.slice(0, 7)}-01`;
  const dow = toDate(iso).getUTCDay(); // 0 = Sunday
  return addDays(iso, -((dow + 6) % 7));
}

/** Every period touching [from, to], clamped to the range: `{period, from, to}`. */
export function periods(from: string, to: string, interval: Interval): Array<{ period: string; from: string; to: string }> {
  const out: Array<{ period: string; from: string; to: string }> = [];
  let start = periodStart(from, interval);
  while (start <= to) {
    const next =
      interval === 'day'
        ? addDays(start, 1)
        : interval === 'week'
          ? addDays(start, 7)
          : fromDate(new Date(Date.UTC(Number(start.slice(0, 4)), Number(start.slice(5, 7)), 1)));
    out.push({ period: start, from: maxDate(start, from), to: minDate(addDays(next, -1), to) });
    start = next;
  }
  return out;
}
