import { Inject, Injectable } from '@nestjs/common';
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { emailSends } from '../../db/schema';

export type SendRecord = typeof emailSends.$inferSelect;
export type SendStatus = SendRecord['status'];

export interface SendLog {
  idempotencyKey: string;
  kind: SendRecord['kind'];
  leadId: string | null;
  templateId?: string | null;
  sequenceId?: string | null;
  enrolmentId?: string | null;
  stepIndex?: number | null;
  campaignId?: string | null;
  status: SendStatus;
  skipReason?: string | null;
  messageId?: string | null;
  error?: string | null;
}

/** The send log: one row per idempotency key, updated by every attempt. */
@Injectable()
export class EmailSendsRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  async record(ws: WorkspaceId, log: SendLog): Promise<SendRecord> {
    const sentAt = log.status === 'sent' ? new Date() : null;
    const [row] = await this.db
      .insert(emailSends)
      .values({ ...log, workspaceId: ws, attempts: 1, sentAt })
      .onConflictDoUpdate({
        target: [emailSends.workspaceId, emailSends.idempotencyKey],
        set: {
          status: log.status,
          skipReason: log.skipReason ?? null,
          messageId: sql`coalesce(excluded.message_id, ${emailSends.messageId})`,
          error: log.error ?? null,
          attempts: sql`${emailSends.attempts} + 1`,
          sentAt: sql`coalesce(${emailSends.sentAt}, excluded.sent_at)`,
          updatedAt: new Date(),
        },
      })
      .returning();
    return row;
  }

  async byKey(ws: WorkspaceId, key: string): Promise<SendRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(emailSends)
      .where(and(eq(emailSends.workspaceId, ws), eq(emailSends.idempotencyKey, key)));
    return row;
  }
}
