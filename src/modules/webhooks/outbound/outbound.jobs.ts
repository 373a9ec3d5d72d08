import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { EventEnvelope } from '../../../events/catalogue';
import { OnEvent } from '../../../events/on-event.decorator';
import type { JobContext, JobPayload } from '../../../jobs/job-definition';
import { JobHandler } from '../../../jobs/job-handler.decorator';
import { deliverJob } from '../job-definitions';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryScheduler } from './delivery.scheduler';
import { DeliveryService, type AttemptResult } from './delivery.service';
import { bodyForEvent } from './event-types';

@Injectable()
export class OutboundJobs {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly scheduler: DeliveryScheduler,
    private readonly delivery: DeliveryService,
  ) {}

  /**
   * Outbound fan-out: every event of the catalogue becomes one message per subscribed, enabled
   * endpoint (and Zapier hook) of its workspace — one INSERT … SELECT, idempotent by (endpoint,
   * event) — and each new message's first attempt is queued at once.
   */
  @OnEvent('*')
  async fanOut(event: EventEnvelope): Promise<void> {
    const workspaceId = event.workspace_id as WorkspaceId;
    const created = await this.deliveries.fanOut(workspaceId, { id: event.id, type: event.type }, bodyForEvent(event));
    await this.scheduler.scheduleMany(
      workspaceId,
      created.map((m) => ({ messageId: m.id, attempt: 1, trigger: 'scheduled' as const })),
    );
  }

  @JobHandler(deliverJob)
  async deliver(payload: JobPayload<typeof deliverJob>, ctx: JobContext): Promise<AttemptResult> {
    if (!ctx.workspaceId) throw new UnrecoverableError('delivery job without a workspace');
    return this.delivery.attempt(ctx.workspaceId, payload.message_id, payload.attempt, payload.trigger);
  }
}
