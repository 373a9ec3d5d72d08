import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { analyticsConnections, type AnalyticsProvider, type SyncRunStatus } from '../../../db/schema/analytics';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;
export type ConnectionRow = typeof analyticsConnections.$inferSelect;

export interface NewConnection {
  id: string;
  provider: AnalyticsProvider;
  accountId: string;
  name: string;
  credentialsCiphertext: string;
  credentialsKeyId: string;
  tokenExpiresAt: Date | null;
  schedule: string;
  currency: string | null;
  enabled: boolean;
  settings: Record<string, unknown>;
}

export type ConnectionPatch = Partial<
  Pick<
    ConnectionRow,
    'name' | 'schedule' | 'enabled' | 'currency' | 'settings' | 'credentialsCiphertext' | 'credentialsKeyId' | 'tokenExpiresAt'
  >
>;

/** Queries on analytics_connections; every one is scoped by workspace. */
@Injectable()
export class ConnectionsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async insert(ws: WorkspaceId, values: NewConnection): Promise<ConnectionRow> {
    const [row] = await this.db
      .insert(analyticsConnections)
      .values({ ...values, workspaceId: ws })
      .returning();
    return row;
  }

  async get(ws: WorkspaceId, id: string, exec: Executor = this.db): Promise<ConnectionRow | undefined> {
    const [row] = await exec
      .select()
      .from(analyticsConnections)
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)));
    return row;
  }

  /** Newest first; `before` is the id cursor (UUIDv7 ids are time-ordered). */
  async list(ws: WorkspaceId, limit: number, before?: string): Promise<ConnectionRow[]> {
    return this.db
      .select()
      .from(analyticsConnections)
      .where(and(eq(analyticsConnections.workspaceId, ws), before ? lt(analyticsConnections.id, before) : undefined))
      .orderBy(desc(analyticsConnections.id))
      .limit(limit);
  }

  async update(ws: WorkspaceId, id: string, patch: ConnectionPatch): Promise<ConnectionRow | undefined> {
    const [row] = await this.db
      .update(analyticsConnections)
      .set({ ...patch, updatedAt: new Date() })
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)))
      .returning();
    return row;
  }

  async delete(ws: WorkspaceId, id: string): Promise<ConnectionRow | undefined> {
    const [row] = await this.db
      .delete(analyticsConnections)
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)))
      .returning();
    return row;
  }

  /**
   * Takes the connection's sync lease when it is free or expired: one sync per connection across
   * all workers, without holding a database session (PGlite serves a single one).
   */
  async acquireLease(ws: WorkspaceId, id: string, leaseId: string, leaseMs: number): Promise<ConnectionRow | undefined> {
    const [row] = await this.db
      .update(analyticsConnections)
      .set({ leaseId, leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(
        and(
          eq(analyticsConnections.workspaceId, ws),
          eq(analyticsConnections.id, id),
          sql`(${analyticsConnections.leaseId} is null or ${analyticsConnections.leaseExpiresAt} < now())`,
        ),
      )
      .returning();
    return row;
  }

  /** Extends the lease if still ours; false means another worker took it over (fencing). */
  async renewLease(ws: WorkspaceId, id: string, leaseId: string, leaseMs: number, exec: Executor = this.db): Promise<boolean> {
    const rows = await exec
      .update(analyticsConnections)
      .set({ leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(
        and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id), eq(analyticsConnections.leaseId, leaseId)),
      )
      .returning({ id: analyticsConnections.id });
    return rows.length === 1;
  }

  async releaseLease(ws: WorkspaceId, id: string, leaseId: string): Promise<void> {
    await this.db
      .update(analyticsConnections)
      .set({ leaseId: null, leaseExpiresAt: null })
      .where(
        and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id), eq(analyticsConnections.leaseId, leaseId)),
      );
  }

  async isLeased(ws: WorkspaceId, id: string): Promise<boolean> {
    const [row] = await this.db
      .select({
        busy: sql<boolean>`${analyticsConnections.leaseId} is not null and ${analyticsConnections.leaseExpiresAt} >= now()`,
      })
      .from(analyticsConnections)
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)));
    return !!row?.busy;
  }

  async setCredentials(
    ws: WorkspaceId,
    id: string,
    sealed: { ciphertext: string; keyId: string; tokenExpiresAt: Date | null },
  ): Promise<void> {
    await this.db
      .update(analyticsConnections)
      .set({ credentialsCiphertext: sealed.ciphertext, credentialsKeyId: sealed.keyId, tokenExpiresAt: sealed.tokenExpiresAt })
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)));
  }

  /** Progress learned while syncing: the synced-through date only moves forward. */
  async recordProgress(
    ws: WorkspaceId,
    id: string,
    p: { syncedThrough?: string; currency?: string; timeZone?: string },
    exec: Executor,
  ): Promise<void> {
    const set: Record<string, unknown> = {};
    if (p.syncedThrough)
      set.syncedThrough = sql`greatest(coalesce(${analyticsConnections.syncedThrough}, ${p.syncedThrough}::date), ${p.syncedThrough}::date)`;
    if (p.currency) set.currency = p.currency;
    if (p.timeZone) set.timeZone = p.timeZone;
    if (!Object.keys(set).length) return;
    await exec
      .update(analyticsConnections)
      .set(set)
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)));
  }

  async recordOutcome(ws: WorkspaceId, id: string, status: SyncRunStatus, error: string | null): Promise<void> {
    await this.db
      .update(analyticsConnections)
      .set({ lastSyncAt: new Date(), lastSyncStatus: status, lastError: error })
      .where(and(eq(analyticsConnections.workspaceId, ws), eq(analyticsConnections.id, id)));
  }
}
