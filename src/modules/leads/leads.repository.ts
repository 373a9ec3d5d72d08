import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gt, gte, ilike, lt, or, sql, type SQL } from 'drizzle-orm';
import { statement } from '../../db/statement';
import { tableReader } from '../../db/table-reader';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Database, Db } from '../../db/database';
import { DATABASE, DRIZZLE } from '../../db/database.module';
import {
  conversions,
  emailSends,
  leadActivities,
  leadImportRows,
  leadSettings,
  leads,
  sequenceEnrolments,
  suppressions,
} from '../../db/schema';
import type { DbExecutor } from '../../events/emit';
import { runUpsert, suppressionHash, type LeadRow, type UpsertOptions, type UpsertRow } from './lead-upsert.sql';
import type { LeadInput, LeadListQuery } from './leads.schemas';

export type LeadRecord = typeof leads.$inferSelect;
export type LeadUpdate = Partial<Omit<typeof leads.$inferInsert, 'id' | 'workspaceId' | 'email' | 'createdAt'>>;
export type SuppressionReason = (typeof suppressions.$inferInsert)['reason'];

const leadReader = tableReader(leads);
const LEADS_BY_IDS_SQL = `select ${leadReader.columns} from leads where workspace_id = $1 and id = any($2::uuid[])`;

/** The raw (snake_case) row of the upsert statement → the drizzle record shape. */
export function recordFromRow(r: LeadRow): LeadRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    email: r.email,
    emailKey: r.email_key,
    firstName: r.first_name,
    lastName: r.last_name,
    phone: r.phone,
    company: r.company,
    source: r.source,
    status: r.status as LeadRecord['status'],
    tags: r.tags,
    customFields: r.custom_fields,
    consentStatus: r.consent_status,
    consentAt: r.consent_at,
    consentIp: r.consent_ip,
    consentWording: r.consent_wording,
    firstTouch: r.first_touch,
    lastTouch: r.last_touch,
    campaignId: r.campaign_id,
    possibleDuplicateOf: r.possible_duplicate_of,
    confirmedAt: r.confirmed_at,
    convertedAt: r.converted_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Queries on leads and their satellites. Every method takes the workspace first. */
@Injectable()
export class LeadsRepository {
  constructor(
    @Inject(DRIZZLE) private readonly db: Db,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /** Create-or-merge in one statement (see lead-upsert.sql.ts). */
  upsert(ws: WorkspaceId, input: LeadInput, opts: UpsertOptions): Promise<UpsertRow> {
    return runUpsert(this.database, ws, input, opts);
  }

  transaction<T>(fn: (tx: DbExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async findById(ws: WorkspaceId, id: string, tx: DbExecutor = this.db): Promise<LeadRecord | undefined> {
    const [row] = await tx
      .select()
      .from(leads)
      .where(and(eq(leads.workspaceId, ws), eq(leads.id, id)));
    return row;
  }

  /** The row locked for update (inside a transaction). */
  async lockById(ws: WorkspaceId, id: string, tx: DbExecutor): Promise<LeadRecord | undefined> {
    const [row] = await tx
      .select()
      .from(leads)
      .where(and(eq(leads.workspaceId, ws), eq(leads.id, id)))
      .for('update');
    return row;
  }

  async findByEmail(ws: WorkspaceId, email: string, tx: DbExecutor = this.db): Promise<LeadRecord | undefined> {
    const [row] = await tx
      .select()
      .from(leads)
      .where(and(eq(leads.workspaceId, ws), eq(leads.email, email)));
    return row;
  }

  private filters(ws: WorkspaceId, q: Omit<LeadListQuery, 'limit' | 'cursor'>): SQL[] {
    const where: SQL[] = [eq(leads.workspaceId, ws)];
    if (q.status) where.push(eq(leads.status, q.status));
    if (q.source) where.push(eq(leads.source, q.source));
    if (q.tag) where.push(sql`${leads.tags} @> array[${q.tag}]::text[]`);
    if (q.campaign) where.push(eq(leads.campaignId, q.campaign));
    if (q.created_from) where.push(gte(leads.createdAt, new Date(q.created_from)));
    if (q.created_to) where.push(lt(leads.createdAt, new Date(q.created_to)));
    if (q.q) {
      const pattern = `%${likeEscape(q.q)}%`;
      where.push(
        or(
          ilike(leads.email, pattern),
          ilike(leads.firstName, pattern),
          ilike(leads.lastName, pattern),
          ilike(leads.company, pattern),
        )!,
      );
    }
    return where;
  }

  /** Newest first; keyset pagination on the (time-ordered) id. */
  list(ws: WorkspaceId, q: LeadListQuery, beforeId?: string): Promise<LeadRecord[]> {
    const where = this.filters(ws, q);
    if (beforeId) where.push(lt(leads.id, beforeId));
    return this.db
      .select()
      .from(leads)
      .where(and(...where))
      .orderBy(desc(leads.id))
      .limit(q.limit + 1);
  }

  /** Oldest first in batches, for the streamed export. */
  exportBatch(ws: WorkspaceId, q: Omit<LeadListQuery, 'limit' | 'cursor'>, afterId: string | undefined, size: number) {
    const where = this.filters(ws, q);
    if (afterId) where.push(gt(leads.id, afterId));
    return this.db
      .select()
      .from(leads)
      .where(and(...where))
      .orderBy(asc(leads.id))
      .limit(size);
  }

  async update(ws: WorkspaceId, id: string, values: LeadUpdate, tx: DbExecutor): Promise<LeadRecord | undefined> {
    const [row] = await tx
      .update(leads)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(leads.workspaceId, ws), eq(leads.id, id)))
      .returning();
    return row;
  }

  async addActivity(ws: WorkspaceId, leadId: string, type: string, data: Record<string, unknown>, tx: DbExecutor = this.db) {
    await tx.insert(leadActivities).values({ workspaceId: ws, leadId, type, data });
  }

  activities(ws: WorkspaceId, leadId: string, limit: number, beforeId?: string) {
    const where = [eq(leadActivities.workspaceId, ws), eq(leadActivities.leadId, leadId)];
    if (beforeId) where.push(lt(leadActivities.id, beforeId));
    return this.db
      .select()
      .from(leadActivities)
      .where(and(...where))
      .orderBy(desc(leadActivities.id))
      .limit(limit + 1);
  }

  async delete(ws: WorkspaceId, id: string, tx: DbExecutor): Promise<boolean> {
    const rows = await tx
      .delete(leads)
      .where(and(eq(leads.workspaceId, ws), eq(leads.id, id)))
      .returning({ id: leads.id });
    return rows.length > 0;
  }

  async suppress(ws: WorkspaceId, email: string, reason: SuppressionReason, tx: DbExecutor = this.db): Promise<void> {
    await tx
      .insert(suppressions)
      .values({ workspaceId: ws, emailHash: suppressionHash(ws, email), reason })
      .onConflictDoUpdate({
        target: [suppressions.workspaceId, suppressions.emailHash],
        // An erase is the strongest reason and is never downgraded.
        set: { reason: sql`case when ${suppressions.reason} = 'erased' then ${suppressions.reason} else excluded.reason end` },
      });
  }

  async suppression(ws: WorkspaceId, email: string, tx: DbExecutor = this.db): Promise<SuppressionReason | null> {
    const [row] = await tx
      .select({ reason: suppressions.reason })
      .from(suppressions)
      .where(and(eq(suppressions.workspaceId, ws), eq(suppressions.emailHash, suppressionHash(ws, email))));
    return row?.reason ?? null;
  }

  /** Removes PII that is not cascaded from the lead row: staged import rows and stored Idempotency-Key replays. */
  async erasePiiOutsideLead(ws: WorkspaceId, leadId: string, email: string, tx: DbExecutor): Promise<void> {
    await tx.delete(leadImportRows).where(and(eq(leadImportRows.workspaceId, ws), eq(leadImportRows.email, email)));
    // Replayed responses of POST /leads (Idempotency-Key) hold the lead as JSON.
    await tx.execute(
      sql`delete from idempotency_keys where workspace_id = ${ws} and (response_body::text like ${`%${leadId}%`} or response_body::text like ${`%${likeEscape(email)}%`})`,
    );
    // Provider webhooks about the person (Stripe customers, HubSpot contacts, Zapier posts) sit in
    // the inbox: their payload and headers are blanked, the row stays so that a provider retry
    // is still recognised as a duplicate and not processed again.
    await tx.execute(
      sql`update inbound_events set payload = '{"erased": true}'::jsonb, headers = '{}'::jsonb
          where workspace_id = ${ws} and payload::text ilike ${`%${likeEscape(email)}%`}`,
    );
  }

  /** Everything held about one lead, for the GDPR export. */
  async everything(ws: WorkspaceId, leadId: string) {
    const [activity, sends, enrolments, conv] = await Promise.all([
      this.db
        .select()
        .from(leadActivities)
        .where(and(eq(leadActivities.workspaceId, ws), eq(leadActivities.leadId, leadId)))
        .orderBy(asc(leadActivities.id)),
      this.db
        .select()
        .from(emailSends)
        .where(and(eq(emailSends.workspaceId, ws), eq(emailSends.leadId, leadId)))
        .orderBy(asc(emailSends.id)),
      this.db
        .select()
        .from(sequenceEnrolments)
        .where(and(eq(sequenceEnrolments.workspaceId, ws), eq(sequenceEnrolments.leadId, leadId)))
        .orderBy(asc(sequenceEnrolments.id)),
      this.db
        .select()
        .from(conversions)
        .where(and(eq(conversions.workspaceId, ws), eq(conversions.leadId, leadId)))
        .orderBy(asc(conversions.id)),
    ]);
    return { activity, sends, enrolments, conversions: conv };
  }

  async settings(ws: WorkspaceId): Promise<typeof leadSettings.$inferSelect> {
    const [row] = await this.db.select().from(leadSettings).where(eq(leadSettings.workspaceId, ws));
    return row ?? { workspaceId: ws, doubleOptIn: false, confirmationRedirectUrl: null, updatedAt: new Date(0) };
  }

  async saveSettings(ws: WorkspaceId, values: { doubleOptIn?: boolean; confirmationRedirectUrl?: string | null }) {
    const [row] = await this.db
      .insert(leadSettings)
      .values({ workspaceId: ws, ...values })
      .onConflictDoUpdate({ target: leadSettings.workspaceId, set: { ...values, updatedAt: new Date() } })
      .returning();
    return row;
  }

  /** Leads by id (CRM sync, sends, every lead event handler): a prepared statement, not a built query. */
  async byIds(ws: WorkspaceId, ids: string[]): Promise<LeadRecord[]> {
    if (!ids.length) return [];
    const { rows } = await this.database.pool.query(statement(this.database, 'leads_by_ids_v1', LEADS_BY_IDS_SQL, [ws, ids]));
    return rows.map((r: Record<string, unknown>) => leadReader.row(r));
  }

  /** Conversions: insert once per (source, external id). Returns the id, or null for a repeat. */
  async insertConversion(
    ws: WorkspaceId,
    c: {
      leadId: string | null;
      campaignId: string | null;
      amountMinor: number;
      currency: string;
      occurredAt: Date;
      source: string;
      externalId: string;
    },
    tx: DbExecutor,
  ): Promise<string | null> {
    const rows = await tx
      .insert(conversions)
      .values({ workspaceId: ws, ...c })
      .onConflictDoNothing({ target: [conversions.workspaceId, conversions.source, conversions.externalId] })
      .returning({ id: conversions.id });
    return rows[0]?.id ?? null;
  }

  async markConverted(ws: WorkspaceId, leadId: string, at: Date, tx: DbExecutor): Promise<LeadRecord | undefined> {
    const [row] = await tx
      .update(leads)
      .set({ status: 'customer', convertedAt: sql`coalesce(${leads.convertedAt}, ${at})`, updatedAt: new Date() })
      .where(and(eq(leads.workspaceId, ws), eq(leads.id, leadId)))
      .returning();
    return row;
  }
}
