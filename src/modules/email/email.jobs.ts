import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { asWorkspaceId } from '../../auth/auth-context';
import type { EventEnvelope } from '../../events/catalogue';
import { OnEvent } from '../../events/on-event.decorator';
import { defineJob, type JobContext, type JobPayload } from '../../jobs/job-definition';
import { JobHandler } from '../../jobs/job-handler.decorator';
import { JobsService } from '../../jobs/jobs.service';
import { LeadsService } from '../leads/leads.service';
import { EmailSenderService } from './email-sender.service';

/** Sends the double-opt-in confirmation email of one lead (at most one per lead and day). */
export const confirmationEmailJob = defineJob({
  name: 'email.confirmation',
  queue: 'email',
  schema: z.strictObject({ lead_id: z.uuid(), day: z.iso.date() }),
  description: 'Double opt-in: emails the confirmation link to a pending lead (idempotent per lead and day)',
  options: { attempts: 8, backoff: { type: 'exponential', delay: 5000 } },
});

export const EMAIL_JOBS = [confirmationEmailJob];

@Injectable()
export class EmailJobs {
  constructor(
    private readonly jobs: JobsService,
    private readonly leads: LeadsService,
    private readonly sender: EmailSenderService,
  ) {}

  private async confirmIfPending(event: EventEnvelope<'lead.created'> | EventEnvelope<'lead.updated'>): Promise<void> {
    const ws = asWorkspaceId(event.workspace_id);
    const [lead] = await this.leads.byIds(ws, [event.payload.lead_id]);
    if (!lead || lead.consentStatus !== 'pending') return;
    const day = new Date().toISOString().slice(0, 10);
    await this.jobs.enqueue(
      confirmationEmailJob,
      { lead_id: lead.id, day },
      { workspaceId: ws, jobId: `confirm-${lead.id}-${day}`, requestId: event.request_id },
    );
  }

  @OnEvent('lead.created')
  async onLeadCreated(event: EventEnvelope<'lead.created'>): Promise<void> {
    await this.confirmIfPending(event);
  }

  @OnEvent('lead.updated')
  async onLeadUpdated(event: EventEnvelope<'lead.updated'>): Promise<void> {
    if (event.payload.changed_fields.includes('consent')) await this.confirmIfPending(event);
  }

  /** GDPR erase: stored copies of the person's mail go too. */
  @OnEvent('lead.deleted')
  async onLeadDeleted(event: EventEnvelope<'lead.deleted'>): Promise<void> {
    if (event.payload.erased) await this.sender.eraseLeadMail(event.payload.lead_id);
  }

  @JobHandler(confirmationEmailJob)
  async sendConfirmation(payload: JobPayload<typeof confirmationEmailJob>, ctx: JobContext) {
    if (!ctx.workspaceId) throw new Error('email.confirmation needs a workspace');
    const outcome = await this.sender.sendConfirmation(ctx.workspaceId, payload.lead_id, payload.day);
    ctx.log.info({ lead_id: payload.lead_id, status: outcome.status }, 'confirmation email');
    return outcome;
  }
}
