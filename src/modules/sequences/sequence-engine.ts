import { Injectable } from '@nestjs/common';
import type { WorkspaceId } from '../../auth/auth-context';
import { JobsService } from '../../jobs/jobs.service';
import type { LeadRecord } from '../leads/leads.repository';
import { LeadsService } from '../leads/leads.service';
import { EmailSenderService } from '../email/email-sender.service';
import { sequenceStepJob } from './sequences.job-types';
import { SequencesRepository, type EnrolmentRecord, type SequenceRecord } from './sequences.repository';
import type { SequenceTrigger } from './sequences.schemas';

export type LeadVia = 'capture' | 'api' | 'import';

/** Does a new lead (arrived `via`) start this sequence? */
export function triggerMatches(trigger: SequenceTrigger, lead: LeadRecord, via: LeadVia | null): boolean {
  switch (trigger.type) {
    case 'lead_captured': {
      const channels = trigger.channels ?? ['capture', 'api'];
      if (!via || !channels.includes(via)) return false;
      if (trigger.source && lead.source !== trigger.source) return false;
      if (trigger.tag && !lead.tags.includes(trigger.tag)) return false;
      if (trigger.campaign_id && lead.campaignId !== trigger.campaign_id) return false;
      return true;
    }
    case 'tag_added':
      return lead.tags.includes(trigger.tag);
    case 'manual':
      return false;
  }
}

/** Leads that must not continue a sequence, and the exit reason. */
function exitReasonFor(lead: LeadRecord): string | null {
  if (lead.status === 'unsubscribed') return 'unsubscribed';
  if (lead.status === 'bounced') return 'bounced';
  if (lead.status === 'customer' || lead.convertedAt) return 'converted';
  return null;
}

export type StepResult =
  | { result: 'sent' | 'skipped'; next: 'scheduled' | 'completed'; reason?: string }
  | { result: 'exited'; reason: string }
  | { result: 'noop'; reason: string };

/**
 * Runs sequences: enrols leads (once per sequence), schedules each step as a delayed job with a
 * deterministic id, and at send time re-checks everything (exits on unsubscribe, bounce,
 * conversion; skips unconfirmed or suppressed sends). Advancing is guarded by the step number,
 * so a re-delivered step job is a no-op; the send itself is idempotent per (enrolment, step).
 */
@Injectable()
export class SequenceEngine {
  constructor(
    private readonly repo: SequencesRepository,
    private readonly jobs: JobsService,
    private readonly leads: LeadsService,
    private readonly sender: EmailSenderService,
  ) {}

  private async schedule(
    ws: WorkspaceId,
    enrolment: Pick<EnrolmentRecord, 'id' | 'nextStep' | 'nextRunAt'>,
    suffix = '',
  ): Promise<void> {
    const delay = enrolment.nextRunAt ? Math.max(0, enrolment.nextRunAt.getTime() - Date.now()) : 0;
    await this.jobs.enqueue(
      sequenceStepJob,
      { enrolment_id: enrolment.id, step: enrolment.nextStep },
      { workspaceId: ws, jobId: `seq-${enrolment.id}-${enrolment.nextStep}${suffix}`, delay },
    );
  }

  /**
   * Enrols the lead (no-op when already enrolled). A lead awaiting double opt-in waits
   * (`waiting_confirmation`) and starts when it confirms. Returns the new enrolment.
   */
  async enrol(ws: WorkspaceId, seq: SequenceRecord, lead: LeadRecord, via: string): Promise<EnrolmentRecord | undefined> {
    const steps = await this.repo.steps(ws, [seq.id]);
    const first = steps.find((s) => s.position === 0);
    if (!first) return undefined;
    const waiting = lead.consentStatus === 'pending';
    const created = await this.repo.transaction(async (tx) => {
      const e = await this.repo.enrol(
        ws,
        {
          sequenceId: seq.id,
          leadId: lead.id,
          status: waiting ? 'waiting_confirmation' : 'active',
          nextRunAt: waiting ? null : new Date(Date.now() + first.delaySeconds * 1000),
        },
        tx,
      );
      if (e)
        await this.leads.addActivity(ws, lead.id, 'enrolled', { sequence_id: seq.id, via, waiting_confirmation: waiting }, tx);
      return e;
    });
    if (created && created.status === 'active') await this.schedule(ws, created);
    return created;
  }

  /** New lead: every active `lead_captured` / `tag_added` sequence whose filters match. */
  async onLeadCreated(ws: WorkspaceId, leadId: string, via: LeadVia): Promise<number> {
    const [lead] = await this.leads.byIds(ws, [leadId]);
    if (!lead || exitReasonFor(lead)) return 0;
    const candidates = [
      ...(await this.repo.activeByTrigger(ws, 'lead_captured')),
      ...(await this.repo.activeByTrigger(ws, 'tag_added')),
    ];
    let n = 0;
    for (const seq of candidates) {
      const trigger = seq.trigger as SequenceTrigger;
      const matches = trigger.type === 'tag_added' ? triggerMatches(trigger, lead, null) : triggerMatches(trigger, lead, via);
      if (matches && (await this.enrol(ws, seq, lead, trigger.type))) n++;
    }
    return n;
  }

  /** Tags changed: `tag_added` sequences for tags the lead now has. */
  async onTagsChanged(ws: WorkspaceId, leadId: string): Promise<number> {
    const [lead] = await this.leads.byIds(ws, [leadId]);
    if (!lead || exitReasonFor(lead)) return 0;
    let n = 0;
    for (const seq of await this.repo.activeByTrigger(ws, 'tag_added')) {
      if (triggerMatches(seq.trigger as SequenceTrigger, lead, null) && (await this.enrol(ws, seq, lead, 'tag_added'))) n++;
    }
    return n;
  }

  /** Double opt-in confirmed: waiting enrolments start. */
  async onConfirmed(ws: WorkspaceId, leadId: string): Promise<number> {
    const [lead] = await this.leads.byIds(ws, [leadId]);
    if (!lead || lead.consentStatus !== 'granted') return 0;
    const activated = await this.repo.activateWaiting(ws, leadId);
    for (const e of activated) await this.schedule(ws, e);
    return activated.length;
  }

  async exit(ws: WorkspaceId, leadId: string, reason: string, sequenceId?: string): Promise<number> {
    const ended = await this.repo.exitLead(ws, leadId, reason, sequenceId);
    for (const e of ended) await this.leads.addActivity(ws, leadId, 'exited', { sequence_id: e.sequenceId, reason });
    return ended.length;
  }

  /** One step of one enrolment: the body of the `sequences.step` job. */
  async runStep(ws: WorkspaceId, enrolmentId: string, step: number): Promise<StepResult> {
    const enrolment = await this.repo.enrolment(ws, enrolmentId);
    if (!enrolment) return { result: 'noop', reason: 'enrolment_gone' };
    if (enrolment.status !== 'active') return { result: 'noop', reason: enrolment.status };
    if (enrolment.nextStep !== step) {
      // A repeat of a finished step: make sure the following one is scheduled (idempotent by job id).
      if (enrolment.nextStep === step + 1) await this.schedule(ws, enrolment);
      return { result: 'noop', reason: 'step_done' };
    }
    // Enrolments are deleted with their sequence and lead (FK cascade): a missing row here is a
    // failed read, not a deletion, so the job retries instead of leaving the enrolment stuck.
    const seq = await this.repo.findById(ws, enrolment.sequenceId);
    if (!seq) throw new Error(`sequence ${enrolment.sequenceId} of enrolment ${enrolment.id} not found; retrying`);
    if (seq.status !== 'active') return { result: 'noop', reason: `sequence_${seq.status}` };
    const [lead] = await this.leads.byIds(ws, [enrolment.leadId]);
    if (!lead) throw new Error(`lead ${enrolment.leadId} of enrolment ${enrolment.id} not found; retrying`);
    const exitReason = exitReasonFor(lead);
    if (exitReason) {
      await this.exit(ws, lead.id, exitReason, seq.id);
      return { result: 'exited', reason: exitReason };
    }
    const steps = await this.repo.steps(ws, [seq.id]);
    const current = steps.find((s) => s.position === step);
    let outcome: Awaited<ReturnType<EmailSenderService['sendSequenceStep']>> | null = null;
    if (current) {
      outcome = await this.sender.sendSequenceStep(ws, {
        enrolmentId: enrolment.id,
        sequenceId: seq.id,
        stepIndex: step,
        templateId: current.templateId,
        leadId: lead.id,
        campaignId: seq.campaignId,
      });
      if (outcome.status === 'bounced') {
        await this.exit(ws, lead.id, 'bounced', seq.id);
        return { result: 'exited', reason: 'bounced' };
      }
      if (outcome.status === 'skipped' && (outcome.reason === 'unsubscribed' || outcome.reason.startsWith('suppressed'))) {
        await this.exit(ws, lead.id, 'unsubscribed', seq.id);
        return { result: 'exited', reason: 'unsubscribed' };
      }
    }
    const next = steps.find((s) => s.position === step + 1);
    const advanced = await this.repo.advance(ws, enrolment.id, step, {
      status: next ? 'active' : 'completed',
      nextRunAt: next ? new Date(Date.now() + next.delaySeconds * 1000) : null,
    });
    if (advanced && next) await this.schedule(ws, advanced);
    const result = outcome?.status === 'sent' ? 'sent' : 'skipped';
    return { result, next: next ? 'scheduled' : 'completed', reason: outcome?.status === 'skipped' ? outcome.reason : undefined };
  }

  /** Re-schedules overdue active enrolments (a lost enqueue, a paused sequence resumed). */
  async sweep(graceMs = 60_000, limit = 500): Promise<number> {
    const rows = await this.repo.overdue(graceMs, limit);
    const bucket = Math.floor(Date.now() / 60_000);
    for (const { enrolment } of rows) await this.schedule(enrolment.workspaceId as WorkspaceId, enrolment, `-r${bucket}`);
    return rows.length;
  }
}
