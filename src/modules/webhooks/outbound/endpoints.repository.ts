import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { ENDPOINT_KINDS, webhookEndpoints } from '../../../db/schema/webhooks';
import type { DbExecutor } from '../../../events/emit';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];
export type NewEndpoint = Omit<typeof webhookEndpoints.$inferInsert, 'workspaceId'> & { id: string };

/** Outbound endpoints and Zapier hooks of one workspace. Every method takes the WorkspaceId first. */
@Injectable()
export class EndpointsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(workspaceId: WorkspaceId, values: NewEndpoint): Promise<EndpointRow> {
    const [row] = await this.db
      .insert(webhookEndpoints)
      .values({ ...values, workspaceId })
      .returning();
    return row;
  }

  async list(workspaceId: WorkspaceId, kind: EndpointKind, limit: number, beforeId?: string): Promise<EndpointRow[]> {
    return this.db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.workspaceId, workspaceId),
          eq(webhookEndpoints.kind, kind),
          beforeId ? lt(webhookEndpoints.id, beforeId) : undefined,
        ),
      )
      .orderBy(desc(webhookEndpoints.id))
      .limit(limit + 1);
  }

  async find(workspaceId: WorkspaceId, id: string, kind?: EndpointKind): Promise<EndpointRow | undefined> {
    const [row] = await this.db
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.workspaceId, workspaceId),
          eq(webhookEndpoints.id, id),
          kind ? eq(webhookEndpoints.kind, kind) : undefined,
        ),
      );
    return row;
  }

  async update(
    workspaceId: WorkspaceId,
    id: string,
    values: Partial<Omit<EndpointRow, 'id' | 'workspaceId'>>,
    kind?: EndpointKind,
    tx: DbExecutor = this.db,
  ): Promise<EndpointRow | undefined> {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ ...values, updatedAt: sql`now()` })
      .where(
        and(
          eq(webhookEndpoints.workspaceId, workspaceId),
          eq(webhookEndpoints.id, id),
          kind ? eq(webhookEndpoints.kind, kind) : undefined,
        ),
      )
      .returning();
    return row;
  }

  async delete(workspaceId: WorkspaceId, id: string, kind?: EndpointKind): Promise<boolean> {
    const rows = await this.db
      .delete(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.workspaceId, workspaceId),
          eq(webhookEndpoints.id, id),
          kind ? eq(webhookEndpoints.kind, kind) : undefined,
        ),
      )
      .returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  }
}
