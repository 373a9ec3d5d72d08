import { Injectable } from '@nestjs/common';
import { asWorkspaceId } from '../../../auth/auth-context';
import type { EventEnvelope } from '../../../events/catalogue';
import { OnEvent } from '../../../events/on-event.decorator';
import type { JobContext, JobPayload } from '../../../jobs/job-definition';
import { JobHandler } from '../../../jobs/job-handler.decorator';
import { hubspotFlushJob } from './hubspot.job-types';
import { HubSpotService } from './hubspot.service';

/** CRM notification: lead events (through the outbox) → pending sync → batch upsert to HubSpot. */
@Injectable()
export class HubSpotJobs {
  constructor(private readonly hubspot: HubSpotService) {}

  @OnEvent('lead.created')
  async created(event: EventEnvelope<'lead.created'>) {
    await this.hubspot.leadChanged(asWorkspaceId(event.workspace_id), event.payload.lead_id, event.request_id);
  }

  @OnEvent('lead.updated')
  async updated(event: EventEnvelope<'lead.updated'>) {
    await this.hubspot.leadChanged(asWorkspaceId(event.workspace_id), event.payload.lead_id, event.request_id);
  }

  @OnEvent('lead.converted')
  async converted(event: EventEnvelope<'lead.converted'>) {
    await this.hubspot.leadChanged(asWorkspaceId(event.workspace_id), event.payload.lead_id, event.request_id);
  }

  @OnEvent('lead.unsubscribed')
  async unsubscribed(event: EventEnvelope<'lead.unsubscribed'>) {
    await this.hubspot.leadChanged(asWorkspaceId(event.workspace_id), event.payload.lead_id, event.request_id);
  }

  @JobHandler(hubspotFlushJob)
  async flush(_payload: JobPayload<typeof hubspotFlushJob>, ctx: JobContext) {
    if (!ctx.workspaceId) throw new Error('crm.hubspot-flush needs a workspace');
    const result = await this.hubspot.flush(ctx.workspaceId);
    if (result.upserted) ctx.log.info(result, 'HubSpot contacts upserted');
    return result;
  }
}
