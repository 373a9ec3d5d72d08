import { Injectable } from '@nestjs/common';
import type { WorkspaceId } from '../../auth/auth-context';
import type { JobContext } from '../../jobs/job-definition';
import { JobHandler } from '../../jobs/job-handler.decorator';
import { sweepJob } from './job-definitions';
import { InboundDispatcher } from './inbound/inbound.dispatcher';
import { InboundRepository } from './inbound/inbound.repository';
import { DeliveriesRepository } from './outbound/deliveries.repository';
import { DeliveryScheduler } from './outbound/delivery.scheduler';

/** Rows older than this without progress are handed to the queue again. */
export const SWEEP_GRACE_MS = 30_000;
const SWEEP_BATCH = 500;

/**
 * The safety net behind "2xx only after a durable insert" and "a crash between commit and
 * enqueue loses nothing": every 30 s, inbound events still `received` and outbound messages
 * past due are re-enqueued. Job ids are deterministic, so a job that still exists is not added
 * twice, and the attempt lease stops a duplicate send.
 */
@Injectable()
export class WebhooksSweep {
  constructor(
    private readonly inbound: InboundRepository,
    private readonly dispatcher: InboundDispatcher,
    private readonly deliveries: DeliveriesRepository,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  @JobHandler(sweepJob)
  async sweep(_payload: Record<string, never>, ctx?: JobContext): Promise<{ inbound: number; outbound: number }> {
    const stale = await this.inbound.claimStale(SWEEP_GRACE_MS, SWEEP_BATCH);
    await this.dispatcher.dispatch(stale);
    const due = await this.deliveries.dueAcrossWorkspaces(SWEEP_GRACE_MS, SWEEP_BATCH);
    const byWorkspace = new Map<string, Array<{ messageId: string; attempt: number; trigger: 'scheduled'; fresh: boolean }>>();
    for (const m of due) {
      const list = byWorkspace.get(m.workspaceId) ?? [];
      // A lapsed lease means the attempt's job ran and died: it needs a job with a new id.
      list.push({ messageId: m.id, attempt: m.attempts + 1, trigger: 'scheduled', fresh: m.status === 'sending' });
      byWorkspace.set(m.workspaceId, list);
    }
    for (const [ws, items] of byWorkspace) await this.scheduler.scheduleMany(ws as WorkspaceId, items);
    const result = { inbound: stale.length, outbound: due.length };
    if (result.inbound || result.outbound) ctx?.log.info(result, 'webhooks sweep re-enqueued work');
    return result;
  }
}
