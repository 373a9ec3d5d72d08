import { Inject, Injectable } from '@nestjs/common';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Database, Db } from '../../../db/database';
import { DATABASE, DRIZZLE } from '../../../db/database.module';
import { statement } from '../../../db/statement';
import { tableReader } from '../../../db/table-reader';
import { crmConnections, crmPending } from '../../../db/schema';

export type ConnectionRecord = typeof crmConnections.$inferSelect;
export const CLAIM_LEASE_MS = 120_000;

const connectionReader = tableReader(crmConnections);
const CONNECTION_SQL = `select ${connectionReader.columns} from crm_connections where workspace_id = $1 and provider = 'hubspot'`;

@Injectable()
export class HubSpotRepository {
  constructor(
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /** Looked up for every lead event (is HubSpot connected?): a prepared statement, not a built query. */
  async connection(ws: WorkspaceId): Promise<ConnectionRecord | undefined> {
    const { rows } = await this.database.pool.query(statement(this.database, 'hubspot_connection_v1', CONNECTION_SQL, [ws]));
    return rows[0] ? connectionReader.row(rows[0] as Record<string, unknown>) : undefined;
  }

  /** Creates or replaces the connection; the token envelope is bound to the row id (AAD). */
  async saveConnection(
    ws: WorkspaceId,
    id: string,
    sealed: { ciphertext: string; keyId: string },
    enabled: boolean,
  ): Promise<ConnectionRecord> {
    const [row] = await this.db
      .insert(crmConnections)
      .values({ id, workspaceId: ws, provider: 'hubspot', tokenCiphertext: sealed.ciphertext, tokenKeyId: sealed.keyId, enabled })
      .onConflictDoUpdate({
        target: [crmConnections.workspaceId, crmConnections.provider],
        set: { tokenCiphertext: sealed.ciphertext, tokenKeyId: sealed.keyId, enabled, lastError: null, updatedAt: new Date() },
      })
      .returning();
    return row;
  }

  async setEnabled(ws: WorkspaceId, enabled: boolean): Promise<ConnectionRecord | undefined> {
    const [row] = await this.db
      .update(crmConnections)
      .set({ enabled, updatedAt: new Date() })
      .where(and(eq(crmConnections.workspaceId, ws), eq(crmConnections.provider, 'hubspot')))
      .returning();
    return row;
  }

  async deleteConnection(ws: WorkspaceId): Promise<boolean> {
    await this.db.delete(crmPending).where(and(eq(crmPending.workspaceId, ws), eq(crmPending.provider, 'hubspot')));
    const rows = await this.db
      .delete(crmConnections)
      .where(and(eq(crmConnections.workspaceId, ws), eq(crmConnections.provider, 'hubspot')))
      .returning({ id: crmConnections.id });
    return rows.length > 0;
  }

  async recordResult(ws: WorkspaceId, ok: boolean, error: string | null): Promise<void> {
    await this.db
      .update(crmConnections)
      .set(ok ? { lastSyncAt: new Date(), lastError: null } : { lastError: error?.slice(0, 500) ?? null })
      .where(and(eq(crmConnections.workspaceId, ws), eq(crmConnections.provider, 'hubspot')));
  }

  /** Marks the lead's CRM copy stale (a re-queue also frees a claimed row for the next run). */
  async enqueueLead(ws: WorkspaceId, leadId: string): Promise<boolean> {
    try {
      await this.db
        .insert(crmPending)
        .values({ workspaceId: ws, provider: 'hubspot', leadId })
        .onConflictDoUpdate({
          target: [crmPending.workspaceId, crmPending.provider, crmPending.leadId],
          set: { queuedAt: sql`now()`, claimedUntil: null },
        });
      return true;
    } catch (err) {
      // The lead was deleted before its event was handled: nothing to sync.
      const code =
        (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
      if (code === '23503') return false;
      throw err;
    }
  }

  /** Takes up to `limit` unclaimed rows (SKIP LOCKED: concurrent runs never take the same row). */
  async claim(ws: WorkspaceId, limit: number): Promise<{ leadIds: string[]; claimedAt: Date }> {
    const claimedAt = new Date();
    const result = await this.db.execute<{ lead_id: string }>(sql`
      update crm_pending set claimed_until = now() + ${CLAIM_LEASE_MS} * interval '1 millisecond', attempts = attempts + 1
      where (workspace_id, provider, lead_id) in (
        select workspace_id, provider, lead_id from crm_pending
        where workspace_id = ${ws} and provider = 'hubspot' and (claimed_until is null or claimed_until < now())
        order by queued_at limit ${limit} for update skip locked)
      returning lead_id`);
    return { leadIds: result.rows.map((r) => r.lead_id), claimedAt };
  }

  /** Done: rows not re-queued since the claim are removed. */
  async complete(ws: WorkspaceId, leadIds: string[], claimedAt: Date): Promise<void> {
    if (!leadIds.length) return;
    await this.db
      .delete(crmPending)
      .where(
        and(
          eq(crmPending.workspaceId, ws),
          eq(crmPending.provider, 'hubspot'),
          inArray(crmPending.leadId, leadIds),
          lte(crmPending.queuedAt, claimedAt),
        ),
      );
  }

  /** Gives claimed rows back, available again after `delayMs`. */
  async release(ws: WorkspaceId, leadIds: string[], delayMs: number): Promise<void> {
    if (!leadIds.length) return;
    await this.db
      .update(crmPending)
      .set({ claimedUntil: sql`now() + ${delayMs} * interval '1 millisecond'` })
      .where(and(eq(crmPending.workspaceId, ws), eq(crmPending.provider, 'hubspot'), inArray(crmPending.leadId, leadIds)));
  }

  async pendingCount(ws: WorkspaceId): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(crmPending)
      .where(and(eq(crmPending.workspaceId, ws), eq(crmPending.provider, 'hubspot')));
    return row?.n ?? 0;
  }
}
