import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { analyticsSyncCheckpoints, analyticsSyncRuns, type SyncRunStatus, type SyncTrigger } from '../../../db/schema/analytics';
import type { Executor } from '../connections/connections.repository';
import type { CheckpointState } from './sync-plan';

export type SyncRunRow = typeof analyticsSyncRuns.$inferSelect;
export type CheckpointRow = typeof analyticsSyncCheckpoints.$inferSelect;

/** Runs and checkpoints of analytics syncs, scoped by workspace. */
@Injectable()
export class SyncRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async createRun(
    ws: WorkspaceId,
    run: {
      connectionId: string;
      trigger: SyncTrigger;
      status: SyncRunStatus;
      rangeFrom?: string | null;
      rangeTo?: string | null;
      backfill?: boolean;
      startedAt?: Date | null;
    },
  ): Promise<SyncRunRow> {
    const [row] = await this.db
      .insert(analyticsSyncRuns)
      .values({ ...run, workspaceId: ws })
      .returning();
    return row;
  }

  async getRun(ws: WorkspaceId, id: string): Promise<SyncRunRow | undefined> {
    const [row] = await this.db
      .select()
      .from(analyticsSyncRuns)
      .where(and(eq(analyticsSyncRuns.workspaceId, ws), eq(analyticsSyncRuns.id, id)));
    return row;
  }

  async startRun(ws: WorkspaceId, id: string, range: { from: string; to: string } | null): Promise<void> {
    await this.db
      .update(analyticsSyncRuns)
      .set({ status: 'running', startedAt: new Date(), rangeFrom: range?.from ?? null, rangeTo: range?.to ?? null })
      .where(and(eq(analyticsSyncRuns.workspaceId, ws), eq(analyticsSyncRuns.id, id)));
  }

  /** Runs left `running` by a worker that died (its lease expired): recorded as failed. */
  async failAbandonedRuns(ws: WorkspaceId, connectionId: string, exceptRunId: string | null): Promise<void> {
    await this.db
      .update(analyticsSyncRuns)
      .set({
        status: 'failed',
        error: 'the worker running this sync stopped before finishing; the next run resumed from its checkpoint',
        finishedAt: new Date(),
      })
      .where(
        and(
          eq(analyticsSyncRuns.workspaceId, ws),
          eq(analyticsSyncRuns.connectionId, connectionId),
          eq(analyticsSyncRuns.status, 'running'),
          exceptRunId ? sql`${analyticsSyncRuns.id} <> ${exceptRunId}::uuid` : undefined,
        ),
      );
  }

  async addProgress(
    ws: WorkspaceId,
    id: string,
    p: { rowsUpserted: number; rowsDeleted: number; pages: number; requests: number },
    exec: Executor,
  ): Promise<void> {
    await exec
      .update(analyticsSyncRuns)
      .set({
        rowsUpserted: sql`${analyticsSyncRuns.rowsUpserted} + ${p.rowsUpserted}`,
        rowsDeleted: sql`${analyticsSyncRuns.rowsDeleted} + ${p.rowsDeleted}`,
        pages: sql`${analyticsSyncRuns.pages} + ${p.pages}`,
        requests: sql`${analyticsSyncRuns.requests} + ${p.requests}`,
      })
      .where(and(eq(analyticsSyncRuns.workspaceId, ws), eq(analyticsSyncRuns.id, id)));
  }

  async finishRun(
    ws: WorkspaceId,
    id: string,
    outcome: { status: SyncRunStatus; error?: string | null; resumeAt?: Date | null; requests?: number },
  ): Promise<SyncRunRow | undefined> {
    const [row] = await this.db
      .update(analyticsSyncRuns)
      .set({
        status: outcome.status,
        error: outcome.error ?? null,
        resumeAt: outcome.resumeAt ?? null,
        finishedAt: new Date(),
        durationMs: sql`case when ${analyticsSyncRuns.startedAt} is null then 0
          else (extract(epoch from (now() - ${analyticsSyncRuns.startedAt})) * 1000)::int end`,
        ...(outcome.requests !== undefined ? { requests: sql`${analyticsSyncRuns.requests} + ${outcome.requests}` } : {}),
      })
      .where(and(eq(analyticsSyncRuns.workspaceId, ws), eq(analyticsSyncRuns.id, id)))
      .returning();
    return row;
  }

  async listRuns(ws: WorkspaceId, connectionId: string, limit: number, before?: string): Promise<SyncRunRow[]> {
    return this.db
      .select()
      .from(analyticsSyncRuns)
      .where(
        and(
          eq(analyticsSyncRuns.workspaceId, ws),
          eq(analyticsSyncRuns.connectionId, connectionId),
          before ? lt(analyticsSyncRuns.id, before) : undefined,
        ),
      )
      .orderBy(desc(analyticsSyncRuns.id))
      .limit(limit);
  }

  async getCheckpoint(ws: WorkspaceId, connectionId: string, exec: Executor = this.db): Promise<CheckpointRow | undefined> {
    const [row] = await exec
      .select()
      .from(analyticsSyncCheckpoints)
      .where(and(eq(analyticsSyncCheckpoints.workspaceId, ws), eq(analyticsSyncCheckpoints.connectionId, connectionId)));
    return row;
  }

  async saveCheckpoint(
    ws: WorkspaceId,
    connectionId: string,
    runId: string,
    state: CheckpointState,
    exec: Executor,
    stop?: { resumeAt: Date | null; reason: string | null },
  ): Promise<void> {
    const values = {
      connectionId,
      workspaceId: ws,
      runId,
      rangeFrom: state.rangeFrom,
      rangeTo: state.rangeTo,
      windowFrom: state.windowFrom,
      windowTo: state.windowTo,
      cursor: state.cursor,
      syncToken: state.syncToken,
      backfill: state.backfill,
      pending: state.pending,
      resumeAt: stop?.resumeAt ?? null,
      reason: stop?.reason ?? null,
      updatedAt: new Date(),
    };
    await exec
      .insert(analyticsSyncCheckpoints)
      .values(values)
      .onConflictDoUpdate({ target: analyticsSyncCheckpoints.connectionId, set: values });
  }

  async markCheckpointStopped(ws: WorkspaceId, connectionId: string, resumeAt: Date | null, reason: string): Promise<void> {
    await this.db
      .update(analyticsSyncCheckpoints)
      .set({ resumeAt, reason, updatedAt: new Date() })
      .where(and(eq(analyticsSyncCheckpoints.workspaceId, ws), eq(analyticsSyncCheckpoints.connectionId, connectionId)));
  }

  async deleteCheckpoint(ws: WorkspaceId, connectionId: string, exec: Executor): Promise<void> {
    await exec
      .delete(analyticsSyncCheckpoints)
      .where(and(eq(analyticsSyncCheckpoints.workspaceId, ws), eq(analyticsSyncCheckpoints.connectionId, connectionId)));
  }
}

export function checkpointState(row: CheckpointRow): CheckpointState {
  return {
    rangeFrom: row.rangeFrom,
    rangeTo: row.rangeTo,
    windowFrom: row.windowFrom,
    windowTo: row.windowTo,
    cursor: row.cursor,
    syncToken: row.syncToken,
    backfill: row.backfill,
    pending: Array.isArray(row.pending) ? (row.pending as CheckpointState['pending']) : [],
  };
}
