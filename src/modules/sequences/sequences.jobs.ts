import { Injectable } from '@nestjs/common';
import { asWorkspaceId } from '../../auth/auth-context';
import type { EventEnvelope } from '../../events/catalogue';
import { OnEvent } from '../../events/on-event.decorator';
import type { JobContext, JobPayload } from '../../jobs/job-definition';
import { JobHandler } from '../../jobs/job-handler.decorator';
import { SequenceEngine } from './sequence-engine';
import { sequenceStepJob, sequenceSweepJob } from './sequences.job-types';

/** Event subscribers (triggers, exits) and job handlers of the sequences module. */
@Injectable()
export class SequencesJobs {
  constructor(private readonly engine: SequenceEngine) {}

  @OnEvent('lead.created')
  async onLeadCreated(event: EventEnvelope<'lead.created'>): Promise<void> {
    await this.engine.onLeadCreated(asWorkspaceId(event.workspace_id), event.payload.lead_id, event.payload.source);
  }

  @OnEvent('lead.updated')
  async onLeadUpdated(event: EventEnvelope<'lead.updated'>): Promise<void> {
    const ws = asWorkspaceId(event.workspace_id);
    if (event.payload.changed_fields.includes('tags')) await this.engine.onTagsChanged(ws, event.payload.lead_id);
    if (event.payload.changed_fields.includes('consent')) await this.engine.onConfirmed(ws, event.payload.lead_id);
  }

  @OnEvent('lead.unsubscribed')
  async onUnsubscribed(event: EventEnvelope<'lead.unsubscribed'>): Promise<void> {
    const reason = event.payload.reason === 'bounced' ? 'bounced' : 'unsubscribed';
    await this.engine.exit(asWorkspaceId(event.workspace_id), event.payload.lead_id, reason);
  }

  @OnEvent('lead.converted')
  async onConverted(event: EventEnvelope<'lead.converted'>): Promise<void> {
    await this.engine.exit(asWorkspaceId(event.workspace_id), event.payload.lead_id, 'converted');
  }

  @JobHandler(sequenceStepJob)
  async step(payload: JobPayload<typeof sequenceStepJob>, ctx: JobContext) {
    if (!ctx.workspaceId) throw new Error('sequences.step needs a workspace');
    const result = await this.engine.runStep(ctx.workspaceId, payload.enrolment_id, payload.step);
    ctx.log.info({ enrolment_id: payload.enrolment_id, step: payload.step, ...result }, 'sequence step');
    return result;
  }

  @JobHandler(sequenceSweepJob)
  async sweep(_payload: JobPayload<typeof sequenceSweepJob>, ctx: JobContext) {
    const n = await this.engine.sweep();
    if (n) ctx.log.info({ rescheduled: n }, 'overdue sequence steps rescheduled');
    return { rescheduled: n };
  }
}
