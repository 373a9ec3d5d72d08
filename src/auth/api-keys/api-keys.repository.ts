import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { apiKeys } from '../../db/schema';
import type { WorkspaceId } from '../auth-context';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** API keys of one workspace. Every method takes the WorkspaceId first. */
@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(
    workspaceId: WorkspaceId,
    values: Omit<typeof apiKeys.$inferInsert, 'workspaceId' | 'id' | 'createdAt'>,
  ): Promise<ApiKeyRow> {
    const [row] = await this.db
      .insert(apiKeys)
      .values({ ...values, workspaceId })
      .returning();
    return row;
  }

  /** Active (not revoked) keys, newest first, `limit + 1` rows for the page builder. */
  async listActive(workspaceId: WorkspaceId, limit: number, beforeId?: string): Promise<ApiKeyRow[]> {
    return this.db
      .select()
      .from(apiKeys)
      .where(
        and(eq(apiKeys.workspaceId, workspaceId), isNull(apiKeys.revokedAt), beforeId ? lt(apiKeys.id, beforeId) : undefined),
      )
      .orderBy(desc(apiKeys.id))
      .limit(limit + 1);
  }

  async findActive(workspaceId: WorkspaceId, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    return row;
  }

  /** Revokes an active key; undefined when there is none with that id in this workspace. */
  async revoke(workspaceId: WorkspaceId, id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    return row;
  }
}
