import { Inject, Injectable } from '@nestjs/common';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { idempotencyKeys } from '../../db/schema';
import type { WorkspaceId } from '../auth-context';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

/** Stored responses for `Idempotency-Key`, per workspace. Every method takes the WorkspaceId first. */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  /** Claims the key for a new request; undefined when the key already exists. */
  async claim(
    workspaceId: WorkspaceId,
    values: { key: string; method: string; path: string; requestHash: string },
  ): Promise<boolean> {
    const rows = await this.db
      .insert(idempotencyKeys)
      .values({ ...values, workspaceId })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    return rows.length > 0;
  }

  async find(workspaceId: WorkspaceId, key: string): Promise<IdempotencyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, key)));
    return row;
  }

  /**
   * Takes over a row that expired (older than `ttlMs`) or whose request never finished (still
   * without a response after `staleMs`): resets it for this request. False if another request
   * got there first.
   */
  async reclaim(
    workspaceId: WorkspaceId,
    values: { key: string; method: string; path: string; requestHash: string },
    ttlMs: number,
    staleMs: number,
  ): Promise<boolean> {
    const rows = await this.db
      .update(idempotencyKeys)
      .set({ ...values, statusCode: null, responseBody: null, createdAt: sql`now()` })
      .where(
        and(
          eq(idempotencyKeys.workspaceId, workspaceId),
          eq(idempotencyKeys.key, values.key),
          sql`(${idempotencyKeys.createdAt} < now() - make_interval(secs => ${ttlMs / 1000})
            or (${idempotencyKeys.statusCode} is null and ${idempotencyKeys.createdAt} < now() - make_interval(secs => ${staleMs / 1000})))`,
        ),
      )
      .returning({ key: idempotencyKeys.key });
    return rows.length > 0;
  }

  async complete(workspaceId: WorkspaceId, key: string, statusCode: number, body: unknown): Promise<void> {
    await this.db
      .update(idempotencyKeys)
      .set({ statusCode, responseBody: body === undefined ? null : body })
      .where(and(eq(idempotencyKeys.workspaceId, workspaceId), eq(idempotencyKeys.key, key)));
  }

  /** Frees the key after a failed request, so the client's retry runs again. */
  async release(workspaceId: WorkspaceId, key: string): Promise<void> {
    await this.db
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.workspaceId, workspaceId),
          eq(idempotencyKeys.key, key),
          sql`${idempotencyKeys.statusCode} is null`,
        ),
      );
  }

  /** Housekeeping across all workspaces: drops keys older than the retention. */
  async deleteOlderThan(ms: number): Promise<number> {
    const res = await this.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${ms / 1000})`));
    return res.rowCount ?? 0;
  }
}
