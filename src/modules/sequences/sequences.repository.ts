import { Inject, Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { WorkspaceId } from '../../auth/auth-context';
import type { Db } from '../../db/database';
import { DRIZZLE } from '../../db/database.module';
import { emailTemplates, sequenceEnrolments, sequenceSteps, sequences } from '../../db/schema';
import type { DbExecutor } from '../../events/emit';
import type { SequenceTrigger } from './sequences.schemas';

export type SequenceRecord = typeof sequences.$inferSelect;
export type StepRecord = typeof sequenceSteps.$inferSelect;
export type EnrolmentRecord = typeof sequenceEnrolments.$inferSelect;
export type EnrolmentStatus = EnrolmentRecord['status'];

@Injectable()
export class SequencesRepository {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  transaction<T>(fn: (tx: DbExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insert(
    ws: WorkspaceId,
    v: { name: string; status: SequenceRecord['status']; trigger: SequenceTrigger; campaignId: string | null },
    tx: DbExecutor,
  ): Promise<SequenceRecord> {
    const [row] = await tx
      .insert(sequences)
      .values({ ...v, workspaceId: ws })
      .returning();
    return row;
  }

  async update(
    ws: WorkspaceId,
    id: string,
    v: Partial<Pick<SequenceRecord, 'name' | 'status' | 'trigger' | 'campaignId'>>,
    tx: DbExecutor,
  ) {
    const [row] = await tx
      .update(sequences)
      .set({ ...v, updatedAt: new Date() })
      .where(and(eq(sequences.workspaceId, ws), eq(sequences.id, id)))
      .returning();
    return row;
  }

  async replaceSteps(
    ws: WorkspaceId,
    sequenceId: string,
    steps: Array<{ delay_seconds: number; template_id: string }>,
    tx: DbExecutor,
  ) {
    await tx.delete(sequenceSteps).where(and(eq(sequenceSteps.workspaceId, ws), eq(sequenceSteps.sequenceId, sequenceId)));
    await tx.insert(sequenceSteps).values(
      steps.map((s, i) => ({
        workspaceId: ws,
        sequenceId,
        position: i,
        delaySeconds: s.delay_seconds,
        templateId: s.template_id,
      })),
    );
  }

  /** Which of these template ids exist in the workspace. */
  async existingTemplates(ws: WorkspaceId, ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db
      .select({ id: emailTemplates.id })
      .from(emailTemplates)
      .where(and(eq(emailTemplates.workspaceId, ws), inArray(emailTemplates.id, ids)));
    return new Set(rows.map((r) => r.id));
  }

  async findById(ws: WorkspaceId, id: string, tx: DbExecutor = this.db): Promise<SequenceRecord | undefined> {
    const [row] = await tx
      .select()
      .from(sequences)
      .where(and(eq(sequences.workspaceId, ws), eq(sequences.id, id)));
    return row;
  }

  steps(ws: WorkspaceId, sequenceIds: string[]): Promise<StepRecord[]> {
    if (!sequenceIds.length) return Promise.resolve([]);
    return this.db
      .select()
      .from(sequenceSteps)
      .where(and(eq(sequenceSteps.workspaceId, ws), inArray(sequenceSteps.sequenceId, sequenceIds)))
      .orderBy(asc(sequenceSteps.sequenceId), asc(sequenceSteps.position));
  }

  list(ws: WorkspaceId, limit: number, beforeId?: string) {
    const where: SQL[] = [eq(sequences.workspaceId, ws)];
    if (beforeId) where.push(lt(sequences.id, beforeId));
    return this.db
      .select()
      .from(sequences)
      .where(and(...where))
      .orderBy(desc(sequences.id))
      .limit(limit + 1);
  }

  /** Active sequences whose trigger has this type. */
  activeByTrigger(ws: WorkspaceId, type: SequenceTrigger['type']): Promise<SequenceRecord[]> {
    return this.db
      .select()
      .from(sequences)
      .where(and(eq(sequences.workspaceId, ws), eq(sequences.status, 'active'), sql`${sequences.trigger}->>'type' = ${type}`));
  }

  async delete(ws: WorkspaceId, id: string): Promise<boolean> {
    const rows = await this.db
      .delete(sequences)
      .where(and(eq(sequences.workspaceId, ws), eq(sequences.id, id)))
      .returning({ id: sequences.id });
    return rows.length > 0;
  }

  /** Enrols once per (sequence, lead); returns the new enrolment, or undefined when it existed. */
  async enrol(
    ws: WorkspaceId,
    v: { sequenceId: string; leadId: string; status: EnrolmentStatus; nextRunAt: Date | null },
    tx: DbExecutor,
  ): Promise<EnrolmentRecord | undefined> {
    const [row] = await tx
      .insert(sequenceEnrolments)
      .values({ ...v, workspaceId: ws, nextStep: 0 })
      .onConflictDoNothing({ target: [sequenceEnrolments.sequenceId, sequenceEnrolments.leadId] })
      .returning();
    return row;
  }

  async enrolment(ws: WorkspaceId, id: string): Promise<EnrolmentRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(sequenceEnrolments)
      .where(and(eq(sequenceEnrolments.workspaceId, ws), eq(sequenceEnrolments.id, id)));
    return row;
  }

  async enrolmentOf(ws: WorkspaceId, sequenceId: string, leadId: string): Promise<EnrolmentRecord | undefined> {
    const [row] = await this.db
      .select()
      .from(sequenceEnrolments)
      .where(
        and(
          eq(sequenceEnrolments.workspaceId, ws),
          eq(sequenceEnrolments.sequenceId, sequenceId),
          eq(sequenceEnrolments.leadId, leadId),
        ),
      );
    return row;
  }

  enrolments(ws: WorkspaceId, sequenceId: string, limit: number, beforeId?: string) {
    const where: SQL[] = [eq(sequenceEnrolments.workspaceId, ws), eq(sequenceEnrolments.sequenceId, sequenceId)];
    if (beforeId) where.push(lt(sequenceEnrolments.id, beforeId));
    return this.db
      .select()
      .from(sequenceEnrolments)
      .where(and(...where))
      .orderBy(desc(sequenceEnrolments.id))
      .limit(limit + 1);
  }

  /** Moves an enrolment from `step` to the next one (guarded, so a repeat of the step job is a no-op). */
  async advance(
    ws: WorkspaceId,
    id: string,
    fromStep: number,
    next: { status: EnrolmentStatus; nextRunAt: Date | null },
  ): Promise<EnrolmentRecord | undefined> {
    const [row] = await this.db
      .update(sequenceEnrolments)
      .set({ nextStep: fromStep + 1, status: next.status, nextRunAt: next.nextRunAt, updatedAt: new Date() })
      .where(
        and(
          eq(sequenceEnrolments.workspaceId, ws),
          eq(sequenceEnrolments.id, id),
          eq(sequenceEnrolments.nextStep, fromStep),
          eq(sequenceEnrolments.status, 'active'),
        ),
      )
      .returning();
    return row;
  }

  /** Ends the lead's running or waiting enrolments; returns those it ended. */
  exitLead(ws: WorkspaceId, leadId: string, reason: string, sequenceId?: string, tx: DbExecutor = this.db) {
    const where: SQL[] = [
      eq(sequenceEnrolments.workspaceId, ws),
      eq(sequenceEnrolments.leadId, leadId),
      inArray(sequenceEnrolments.status, ['active', 'waiting_confirmation']),
    ];
    if (sequenceId) where.push(eq(sequenceEnrolments.sequenceId, sequenceId));
    return tx
      .update(sequenceEnrolments)
      .set({ status: 'exited', exitReason: reason, nextRunAt: null, updatedAt: new Date() })
      .where(and(...where))
      .returning();
  }

  /** Waiting enrolments of a lead that just confirmed become active, first step due after `delay`. */
  async activateWaiting(ws: WorkspaceId, leadId: string): Promise<EnrolmentRecord[]> {
    const result = await this.db.execute<{ id: string }>(sql`
      update sequence_enrolments e set status = 'active', updated_at = now(),
        next_run_at = now() + make_interval(secs => coalesce(s.delay_seconds, 0))
      from sequence_steps s
      where e.workspace_id = ${ws} and e.lead_id = ${leadId} and e.status = 'waiting_confirmation'
        and s.sequence_id = e.sequence_id and s.position = e.next_step
      returning e.id`);
    const ids = result.rows.map((r) => r.id);
    if (!ids.length) return [];
    return this.db
      .select()
      .from(sequenceEnrolments)
      .where(and(eq(sequenceEnrolments.workspaceId, ws), inArray(sequenceEnrolments.id, ids)));
  }

  /** Active enrolments overdue by more than `graceMs` (their job was lost or their sequence was paused): all workspaces. */
  overdue(graceMs: number, limit: number) {
    return this.db
      .select({ enrolment: sequenceEnrolments })
      .from(sequenceEnrolments)
      .innerJoin(sequences, eq(sequences.id, sequenceEnrolments.sequenceId))
      .where(
        and(
          eq(sequenceEnrolments.status, 'active'),
          eq(sequences.status, 'active'),
          lt(sequenceEnrolments.nextRunAt, sql`now() - ${graceMs} * interval '1 millisecond'`),
        ),
      )
      .orderBy(asc(sequenceEnrolments.nextRunAt))
      .limit(limit);
  }
}
