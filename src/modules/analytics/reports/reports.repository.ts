import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { analyticsReports } from '../../../db/schema/analytics';

export type ReportRow = typeof analyticsReports.$inferSelect;

/** Stored reports (requests too large to answer inline), scoped by workspace. */
@Injectable()
export class ReportsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(
    ws: WorkspaceId,
    values: { id: string; request: unknown; requestedByUserId: string | null; requestedByApiKeyId: string | null },
  ): Promise<ReportRow> {
    const [row] = await this.db
      .insert(analyticsReports)
      .values({ ...values, workspaceId: ws, status: 'pending' })
      .returning();
    return row;
  }

  async get(ws: WorkspaceId, id: string): Promise<ReportRow | undefined> {
    const [row] = await this.db
      .select()
      .from(analyticsReports)
      .where(and(eq(analyticsReports.workspaceId, ws), eq(analyticsReports.id, id)));
    return row;
  }

  async markRunning(ws: WorkspaceId, id: string): Promise<ReportRow | undefined> {
    const [row] = await this.db
      .update(analyticsReports)
      .set({ status: 'running', startedAt: new Date(), attempts: sql`${analyticsReports.attempts} + 1`, error: null })
      .where(and(eq(analyticsReports.workspaceId, ws), eq(analyticsReports.id, id)))
      .returning();
    return row;
  }

  async complete(ws: WorkspaceId, id: string, result: { json: unknown; csv: string; rowCount: number }): Promise<void> {
    await this.db
      .update(analyticsReports)
      .set({
        status: 'succeeded',
        resultJson: result.json,
        resultCsv: result.csv,
        rowCount: result.rowCount,
        completedAt: new Date(),
      })
      .where(and(eq(analyticsReports.workspaceId, ws), eq(analyticsReports.id, id)));
  }

  async fail(ws: WorkspaceId, id: string, error: string): Promise<void> {
    await this.db
      .update(analyticsReports)
      .set({ status: 'failed', error, completedAt: new Date() })
      .where(and(eq(analyticsReports.workspaceId, ws), eq(analyticsReports.id, id)));
  }

  async delete(ws: WorkspaceId, id: string): Promise<void> {
    await this.db.delete(analyticsReports).where(and(eq(analyticsReports.workspaceId, ws), eq(analyticsReports.id, id)));
  }
}
