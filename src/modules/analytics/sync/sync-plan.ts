import { addDays, maxDate, minDate } from '../dates';

/** A date range a run owes, with where to resume inside it when it was stopped before. */
export interface Segment {
  from: string;
  to: string;
  /** A range the user asked for: it does not move the connection's `synced_through`. */
  backfill: boolean;
  resume?: { windowFrom: string; windowTo: string; cursor: string | null; syncToken: string };
}

export interface CheckpointState {
  rangeFrom: string;
  rangeTo: string;
  windowFrom: string;
  windowTo: string;
  cursor: string | null;
  syncToken: string;
  backfill: boolean;
  pending: Array<{ from: string; to: string; backfill: boolean }>;
}

export interface PlanInput {
  today: string;
  syncedThrough: string | null;
  lookbackDays: number;
  initialDays: number;
  /** An explicit range (`POST …/sync {from, to}`): a backfill. */
  requested?: { from: string; to: string };
  checkpoint?: CheckpointState | null;
}

/**
 * The incremental range: from the day after the last synced date, but never later than
 * `lookbackDays` before today (late conversions change recent days), through today. A
 * connection that never synced starts `initialDays` back.
 */
export function incrementalRange(today: string, syncedThrough: string | null, lookbackDays: number, initialDays: number) {
  const from = syncedThrough
    ? minDate(addDays(syncedThrough, 1), addDays(today, -lookbackDays))
    : addDays(today, -(Math.max(initialDays, lookbackDays + 1) - 1));
  return { from, to: today };
}

/**
 * What a run fetches, in order: first whatever a stopped run still owed (from its checkpoint,
 * resuming at the saved window and page), then the requested backfill or the incremental range.
 * An incremental range extends an unfinished incremental checkpoint instead of starting over, and
 * a range already covered by an earlier segment is dropped.
 */
export function planRun(input: PlanInput): Segment[] {
  const segments: Segment[] = [];
  const cp = input.checkpoint;
  if (cp) {
    segments.push({
      from: cp.rangeFrom,
      to: cp.rangeTo,
      backfill: cp.backfill,
      resume: { windowFrom: cp.windowFrom, windowTo: cp.windowTo, cursor: cp.cursor, syncToken: cp.syncToken },
    });
    for (const p of cp.pending) segments.push({ from: p.from, to: p.to, backfill: p.backfill });
  }
  if (input.requested) {
    segments.push({ from: input.requested.from, to: minDate(input.requested.to, input.today), backfill: true });
  } else {
    const inc = incrementalRange(input.today, input.syncedThrough, input.lookbackDays, input.initialDays);
    const open = segments.find((s) => !s.backfill);
    if (open && open.resume) open.to = maxDate(open.to, inc.to);
    else segments.push({ ...inc, backfill: false });
  }
  // Drop segments wholly covered by an earlier one (they would fetch the same days twice).
  const kept: Segment[] = [];
  for (const s of segments) {
    if (s.from > s.to) continue;
    // (An incremental range covered only by a backfill is kept: only it moves `synced_through`.)
    if (!s.resume && kept.some((k) => k.from <= s.from && k.to >= s.to && (!k.backfill || s.backfill))) continue;
    kept.push(s);
  }
  return kept;
}
