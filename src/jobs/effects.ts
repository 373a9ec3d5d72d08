import { Inject, Injectable } from '@nestjs/common';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { DRIZZLE } from '../db/database.module';
import { effects } from '../db/schema/events';
import type { DbExecutor } from '../events/emit';

/**
 * Thrown when another attempt holds the effect's lease. The worker moves the job to `delayed`
 * until `retryAt` without spending one of its attempts.
 */
export class EffectInProgressError extends Error {
  constructor(
    readonly kind: string,
    readonly subject: string,
    readonly retryAt: number,
  ) {
    super(`effect ${kind}/${subject} is in progress in another attempt`);
    this.name = 'EffectInProgressError';
  }
}

export interface OnceOptions {
  /**
   * How long this attempt may take before another attempt (of a job re-delivered after a
   * worker crash) may run the effect. Longer than the effect can take; default 60 s.
   */
  leaseMs?: number;
  /** Forget the effect after this long (the prune job deletes it); default: kept. */
  ttlMs?: number;
}

export type OnceResult<T> = { ran: true; result: T } | { ran: false; result: T };

/** The key an effect is known by outside: pass it to providers as their idempotency key. */
export function effectKey(kind: string, subject: string): string {
  return `${kind}:${subject}`;
}

/**
 * Idempotent effects. Jobs are delivered at least once; `once(kind, subject, fn)` makes the
 * side effect they cause happen once: the first attempt records (kind, subject) when `fn`
 * succeeds, and later attempts — a retry, a job re-run after its worker was killed, a duplicate
 * event — find the record and skip `fn`, returning the stored result.
 *
 * What it cannot do alone: if the process dies after `fn` reached the outside world but before
 * the record was written, `fn` runs again once the lease has passed. It is therefore handed a
 * stable key (`effectKey`) to give the provider as its idempotency key (email Message-ID,
 * webhook-id, HubSpot idempotency header), so the receiver can drop the repeat.
 *
 * For effects that are database writes, `recordInTx` is exact: it records the effect in the
 * same transaction as the write.
 */
@Injectable()
export class EffectsService {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async once<T>(kind: string, subject: string, fn: (key: string) => Promise<T>, opts: OnceOptions = {}): Promise<OnceResult<T>> {
    const leaseMs = opts.leaseMs ?? 60_000;
    const claimed = await this.db
      .insert(effects)
      .values({ kind, subject, state: 'running', lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'` })
      .onConflictDoUpdate({
        target: [effects.kind, effects.subject],
        set: { lockedUntil: sql`excluded.locked_until` },
        setWhere: and(eq(effects.state, 'running'), lt(effects.lockedUntil, sql`now()`)),
      })
      .returning({ state: effects.state });
    if (claimed.length === 0) {
      const [row] = await this.db
        .select({ state: effects.state, result: effects.result, lockedUntil: effects.lockedUntil })
        .from(effects)
        .where(and(eq(effects.kind, kind), eq(effects.subject, subject)));
      if (row?.state === 'done') return { ran: false, result: row.result as T };
      // Running elsewhere (or released in between): try again when that lease ends.
      throw new EffectInProgressError(kind, subject, row?.lockedUntil ? row.lockedUntil.getTime() + 50 : Date.now() + 1000);
    }
    let result: T;
    try {
      result = await fn(effectKey(kind, subject));
    } catch (err) {
      await this.db
        .delete(effects)
        .where(and(eq(effects.kind, kind), eq(effects.subject, subject), eq(effects.state, 'running')))
        .catch(() => undefined);
      throw err;
    }
    await this.db
      .update(effects)
      .set({
        state: 'done',
        result: result ?? null,
        lockedUntil: null,
        completedAt: sql`now()`,
        expiresAt: opts.ttlMs ? sql`now() + ${opts.ttlMs} * interval '1 millisecond'` : null,
      })
      .where(and(eq(effects.kind, kind), eq(effects.subject, subject)));
    return { ran: true, result };
  }

  /**
   * Records an effect inside the caller's transaction. Returns true the first time, false when
   * it was already recorded (then skip the write the transaction was about to make).
   */
  async recordInTx(tx: DbExecutor, kind: string, subject: string, result: unknown = null): Promise<boolean> {
    const rows = await tx
      .insert(effects)
      .values({ kind, subject, state: 'done', result, completedAt: sql`now()` })
      .onConflictDoNothing()
      .returning({ kind: effects.kind });
    return rows.length === 1;
  }

  async has(kind: string, subject: string): Promise<boolean> {
    const [row] = await this.db
      .select({ state: effects.state })
      .from(effects)
      .where(and(eq(effects.kind, kind), eq(effects.subject, subject)));
    return row?.state === 'done';
  }
}
