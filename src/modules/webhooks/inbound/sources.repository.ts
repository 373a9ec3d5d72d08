import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { webhookSources } from '../../../db/schema/webhooks';

export type SourceRow = typeof webhookSources.$inferSelect;
export type NewSource = Omit<typeof webhookSources.$inferInsert, 'workspaceId'>;

/** Webhook sources of one workspace. Every method takes the WorkspaceId first (except ingest lookup). */
@Injectable()
export class SourcesRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(workspaceId: WorkspaceId, values: NewSource & { id: string }): Promise<SourceRow> {
    const [row] = await this.db
      .insert(webhookSources)
      .values({ ...values, workspaceId })
      .returning();
    return row;
  }

  async list(workspaceId: WorkspaceId, limit: number, beforeId?: string): Promise<SourceRow[]> {
    return this.db
      .select()
      .from(webhookSources)
      .where(and(eq(webhookSources.workspaceId, workspaceId), beforeId ? lt(webhookSources.id, beforeId) : undefined))
      .orderBy(desc(webhookSources.id))
      .limit(limit + 1);
  }

  async find(workspaceId: WorkspaceId, id: string): Promise<SourceRow | undefined> {
    const [row] = await this.db
      .select()
      .from(webhookSources)
      .where(and(eq(webhookSources.workspaceId, workspaceId), eq(webhookSources.id, id)));
    return row;
  }

  async update(workspaceId: WorkspaceId, id: string, values: Partial<NewSource>): Promise<SourceRow | undefined> {
    const [row] = await this.db
      .update(webhookSources)
      .set({ ...values, updatedAt: sql`now()` })
      .where(and(eq(webhookSources.workspaceId, workspaceId), eq(webhookSources.id, id)))
      .returning();
    return row;
  }

  async delete(workspaceId: WorkspaceId, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(webhookSources)
      .where(and(eq(webhookSources.workspaceId, workspaceId), eq(webhookSources.id, id)))
      .returning({ id: webhookSources.id });
    return rows.length > 0;
  }

  /**
   * The one unscoped lookup: the public ingest route knows only the source id, which is the
   * capability (an unguessable UUIDv7 + the signature check). Returns the owning workspace.
   */
  async findForIngest(id: string): Promise<SourceRow | undefined> {
    const [row] = await this.db.select().from(webhookSources).where(eq(webhookSources.id, id));
    return row;
  }

  /** Bumps last_received_at at most once a minute per source (keeps ingest at one hot write). */
  async touchReceived(workspaceId: WorkspaceId, id: string): Promise<void> {
    await this.db
      .update(webhookSources)
      .set({ lastReceivedAt: sql`now()` })
      .where(
        and(
          eq(webhookSources.workspaceId, workspaceId),
          eq(webhookSources.id, id),
          sql`(${webhookSources.lastReceivedAt} is null or ${webhookSources.lastReceivedAt} < now() - interval '1 minute')`,
        ),
      );
  }
}
