import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { campaigns } from '../../db/schema';

export type CampaignRecord = typeof campaigns.$inferSelect;
export type CampaignValues = Partial<Omit<typeof campaigns.$inferInsert, 'id' | 'workspaceId' | 'createdAt'>>;

@Injectable()
export class CampaignsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(
    ws: WorkspaceId,
    values: CampaignValues & Pick<typeof campaigns.$inferInsert, 'name' | 'channel'>,
  ): Promise<CampaignRecord> {
    const [row] = await this.db
      .insert(campaigns)
      .values({ ...values, workspaceId: ws })
      .returning();
    return row;
  }

  async findById(ws: WorkspaceId, id: string): Promise<CampaignRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(campaigns)
      .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, id)));
    return row;
  }

  list(ws: WorkspaceId, limit: number, status?: CampaignRecord['status'], beforeId?: string): Promise<CampaignRecord[]> {
    const where: SQL[] = [eq(campaigns.workspaceId, ws)];
    if (status) where.push(eq(campaigns.status, status));
    if (beforeId) where.push(lt(campaigns.id, beforeId));
    return this.db
      .select()
      .from(campaigns)
      .where(and(...where))
      .orderBy(desc(campaigns.id))
      .limit(limit + 1);
  }

  async update(ws: WorkspaceId, id: string, values: CampaignValues): Promise<CampaignRecord | undefined> {
    const [row] = await this.db
      .update(campaigns)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, id)))
      .returning();
    return row;
  }

  async delete(ws: WorkspaceId, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(campaigns)
      .where(and(eq(campaigns.workspaceId, ws), eq(campaigns.id, id)))
      .returning({ id: campaigns.id });
    return rows.length > 0;
  }

  /** The funnel of a campaign's leads, and its net revenue per currency, in two queries. */
  async stats(ws: WorkspaceId, id: string) {
    const funnel = await this.db.execute<{
      leads: number;
      confirmed: number;
      emailed: number;
      unsubscribed: number;
      customers: number;
    }>(sql`
      select count(*)::int as leads,
        count(*) filter (where l.confirmed_at is not null or l.consent_status = 'granted')::int as confirmed,
        count(*) filter (where exists (
          select 1 from email_sends s where s.workspace_id = l.workspace_id and s.lead_id = l.id and s.status = 'sent'))::int as emailed,
        count(*) filter (where l.status = 'unsubscribed' or exists (
          select 1 from lead_activities a where a.workspace_id = l.workspace_id and a.lead_id = l.id and a.type = 'unsubscribed'))::int as unsubscribed,
        count(*) filter (where l.status = 'customer' or l.converted_at is not null)::int as customers
      from leads l where l.workspace_id = ${ws} and l.campaign_id = ${id}`);
    const revenue = await this.db.execute<{ currency: string; amount_minor: string }>(sql`
      select currency, sum(amount_minor)::text as amount_minor from conversions
      where workspace_id = ${ws} and campaign_id = ${id} group by currency order by currency`);
    return {
      ...funnel.rows[0],
      revenue: revenue.rows.map((r) => ({ currency: r.currency, amount_minor: Number(r.amount_minor) })),
    };
  }
}
