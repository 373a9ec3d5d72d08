import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Database, Db } from '../../../db/database';
import { DATABASE, DRIZZLE } from '../../../db/database.module';
import { statement } from '../../../db/statement';
import { workspaces } from '../../../db/schema/identity';
import { inboundEvents, INBOUND_STATUSES } from '../../../db/schema/webhooks';
import type { DbExecutor } from '../../../events/emit';

export type InboundEventRow = typeof inboundEvents.$inferSelect;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export type NewInboundEvent = Omit<typeof inboundEvents.$inferInsert, 'workspaceId' | 'id'> & {
  id: string;
  /** `payload` as JSON text when the verifier kept the body as sent (saves re-serialising it). */
  payloadJson?: string;
};

export interface InboundFilters {
  sourceId?: string;
  provider?: string;
  type?: string;
  status?: InboundStatus;
  receivedFrom?: Date;
  receivedTo?: Date;
}

/**
 * Ingest's one write, as plain SQL: it runs on every inbound request, and building it with the
 * query builder cost more CPU than the rest of the handler. Duplicates (also within one request)
 * are skipped by the unique (workspace, source key, provider event id).
 */
const INSERT_INBOUND_SQL = `
insert into inbound_events (id, workspace_id, source_id, source_key, provider, provider_event_id, type, payload, headers)
select e.id, $1, e.source_id, e.source_key, e.provider, e.provider_event_id, e.type, e.payload, e.headers
from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[])
  as e(id, source_id, source_key, provider, provider_event_id, type, payload, headers)
on conflict (workspace_id, source_key, provider_event_id) do nothing
returning id`;

/** The same for the usual request carrying one event: plain parameters, no arrays to build. */
const INSERT_ONE_INBOUND_SQL = `
insert into inbound_events (id, workspace_id, source_id, source_key, provider, provider_event_id, type, payload, headers)
values ($2, $1, $3, $4, $5, $6, $7, $8, $9)
on conflict (workspace_id, source_key, provider_event_id) do nothing
returning id`;

/** One row's values after the workspace id, in the parameter order of both inserts ($2…$9). */
function insertValues(r: NewInboundEvent): unknown[] {
  return [
    r.id,
    r.sourceId ?? null,
    r.sourceKey,
    r.provider,
    r.providerEventId,
    r.type,
    r.payloadJson ?? JSON.stringify(r.payload),
    JSON.stringify(r.headers ?? {}),
  ];
}

/** The inbox. Every method takes the WorkspaceId first, except the system sweep. */
@Injectable()
export class InboundRepository {
  constructor(
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /**
   * One INSERT for every event of a request; a (source, event id) already stored is skipped.
   * Returns the ids of the rows that are new.
   */
  async insertNew(workspaceId: WorkspaceId, rows: NewInboundEvent[]): Promise<string[]> {
    if (!rows.length) return [];
    const values = rows.map(insertValues);
    const result = await this.database.pool.query<{ id: string }>(
      values.length === 1
        ? statement(this.database, 'inbound_insert_one_v2', INSERT_ONE_INBOUND_SQL, [workspaceId, ...values[0]])
        : // One array per column ($2 = every id, $3 = every source id, …).
          statement(this.database, 'inbound_insert_v1', INSERT_INBOUND_SQL, [
            workspaceId,
            ...values[0].map((_, c) => values.map((v) => v[c])),
          ]),
    );
    return result.rows.map((r) => r.id);
  }

  async list(workspaceId: WorkspaceId, f: InboundFilters, limit: number, beforeId?: string): Promise<InboundEventRow[]> {
    const where: Array<SQL | undefined> = [
      eq(inboundEvents.workspaceId, workspaceId),
      f.sourceId ? eq(inboundEvents.sourceId, f.sourceId) : undefined,
      f.provider ? eq(inboundEvents.provider, f.provider as InboundEventRow['provider']) : undefined,
      f.type ? eq(inboundEvents.type, f.type) : undefined,
      f.status ? eq(inboundEvents.status, f.status) : undefined,
      f.receivedFrom ? gte(inboundEvents.receivedAt, f.receivedFrom) : undefined,
      f.receivedTo ? lte(inboundEvents.receivedAt, f.receivedTo) : undefined,
      beforeId ? lt(inboundEvents.id, beforeId) : undefined,
    ];
    return this.db
      .select()
      .from(inboundEvents)
      .where(and(...where))
      .orderBy(desc(inboundEvents.id))
      .limit(limit + 1);
  }

  async find(workspaceId: WorkspaceId, id: string, tx: DbExecutor = this.db): Promise<InboundEventRow | undefined> {
    const [row] = await tx
      .select()
      .from(inboundEvents)
      .where(and(eq(inboundEvents.workspaceId, workspaceId), eq(inboundEvents.id, id)));
    return row;
  }

  /** Locks the row for processing inside a transaction (concurrent jobs for one event queue up). */
  async lockForProcessing(workspaceId: WorkspaceId, id: string, tx: DbExecutor): Promise<InboundEventRow | undefined> {
    const [row] = await tx
      .select()
      .from(inboundEvents)
      .where(and(eq(inboundEvents.workspaceId, workspaceId), eq(inboundEvents.id, id)))
      .for('update');
    return row;
  }

  async finish(
    workspaceId: WorkspaceId,
    id: string,
    values: { status: InboundStatus; outcome?: string | null; lastError?: string | null },
    tx: DbExecutor = this.db,
  ): Promise<void> {
    await tx
      .update(inboundEvents)
      .set({
        status: values.status,
        outcome: values.outcome ?? null,
        lastError: values.lastError ?? null,
        attempts: sql`${inboundEvents.attempts} + 1`,
        processedAt: values.status === 'processed' || values.status === 'ignored' ? sql`now()` : null,
      })
      .where(and(eq(inboundEvents.workspaceId, workspaceId), eq(inboundEvents.id, id)));
  }

  /** Counts a failed attempt (the job retries); the row stays `received` until the last one. */
  async recordFailure(workspaceId: WorkspaceId, id: string, error: string, final: boolean): Promise<void> {
    await this.db
      .update(inboundEvents)
      .set({
        attempts: sql`${inboundEvents.attempts} + 1`,
        lastError: error.slice(0, 2000),
        status: final ? 'failed' : 'received',
      })
      .where(and(eq(inboundEvents.workspaceId, workspaceId), eq(inboundEvents.id, id)));
  }

  /** Puts an event back in the queue's hands; returns the new replay count. */
  async markForReplay(workspaceId: WorkspaceId, id: string): Promise<InboundEventRow | undefined> {
    const [row] = await this.db
      .update(inboundEvents)
      .set({ status: 'received', replayCount: sql`${inboundEvents.replayCount} + 1`, lastError: null })
      .where(and(eq(inboundEvents.workspaceId, workspaceId), eq(inboundEvents.id, id)))
      .returning();
    return row;
  }

  /**
   * System sweep (all workspaces): `received` rows older than `olderThanMs` whose enqueue may
   * have been lost (Redis away, process killed between insert and enqueue). A short lease
   * (`claimed_until`) keeps two sweepers from handing out the same rows at once.
   */
  async claimStale(olderThanMs: number, limit: number): Promise<Array<{ id: string; workspaceId: string; replayCount: number }>> {
    const rows = await this.db.execute<{ id: string; workspace_id: string; replay_count: number }>(sql`
      update ${inboundEvents} set claimed_until = now() + interval '60 seconds'
      where (workspace_id, id) in (
        select workspace_id, id from ${inboundEvents}
        where status = 'received'
          and received_at < now() - ${olderThanMs} * interval '1 millisecond'
          and (claimed_until is null or claimed_until < now())
        order by id
        limit ${limit}
        for update skip locked
      )
      returning id, workspace_id, replay_count`);
    return rows.rows.map((r) => ({ id: r.id, workspaceId: r.workspace_id, replayCount: Number(r.replay_count) }));
  }

  /** Workspaces for the single-workspace seed route: the first two (so "only one" can be told). */
  async firstWorkspaces(): Promise<string[]> {
    const rows = await this.db.select({ id: workspaces.id }).from(workspaces).orderBy(asc(workspaces.id)).limit(2);
    return rows.map((r) => r.id);
  }

  async workspaceExists(id: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: workspaces.id })
      .from(workspaces)
      .where(inArray(workspaces.id, [id]));
    return rows.length > 0;
  }
}
