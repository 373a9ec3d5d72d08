import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { emailTemplates } from '../../db/schema';

export type TemplateRecord = typeof emailTemplates.$inferSelect;

@Injectable()
export class EmailTemplatesRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(ws: WorkspaceId, v: { name: string; subject: string; html: string; text: string }): Promise<TemplateRecord> {
    const [row] = await this.db
      .insert(emailTemplates)
      .values({ ...v, workspaceId: ws })
      .returning();
    return row;
  }

  async findById(ws: WorkspaceId, id: string): Promise<TemplateRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(emailTemplates)
      .where(and(eq(emailTemplates.workspaceId, ws), eq(emailTemplates.id, id)));
    return row;
  }

  list(ws: WorkspaceId, limit: number, beforeId?: string) {
    const where: SQL[] = [eq(emailTemplates.workspaceId, ws)];
    if (beforeId) where.push(lt(emailTemplates.id, beforeId));
    return this.db
      .select()
      .from(emailTemplates)
      .where(and(...where))
      .orderBy(desc(emailTemplates.id))
      .limit(limit + 1);
  }

  async update(ws: WorkspaceId, id: string, v: Partial<{ name: string; subject: string; html: string; text: string }>) {
    const [row] = await this.db
      .update(emailTemplates)
      .set({ ...v, updatedAt: new Date() })
      .where(and(eq(emailTemplates.workspaceId, ws), eq(emailTemplates.id, id)))
      .returning();
    return row;
  }

  async delete(ws: WorkspaceId, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(emailTemplates)
      .where(and(eq(emailTemplates.workspaceId, ws), eq(emailTemplates.id, id)))
      .returning({ id: emailTemplates.id });
    return rows.length > 0;
  }
}
