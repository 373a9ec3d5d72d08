import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { WorkspaceId } from '../../../auth/auth-context';
import { EffectInProgressError, EffectsService } from '../../../jobs/effects';
import type { JobContext, JobPayload } from '../../../jobs/job-definition';
import { JobHandler } from '../../../jobs/job-handler.decorator';
import { inboundProcessJob } from '../job-definitions';
import { InboundEffectsRegistry } from './inbound-effects';
import { InboundRepository } from './inbound.repository';

/** How long one run of a handler may take before another run may take over. */
const LEASE = { leaseMs: 120_000 };

type Outcome = { status: 'processed' | 'ignored' | 'skipped'; outcome: string };

/** Stripe sends two events for one change at times: effects are also keyed by object id + type. */
function stripeObjectKey(sourceKey: string, type: string, payload: unknown): string | undefined {
  const id = (payload as { data?: { object?: { id?: unknown } } })?.data?.object?.id;
  return typeof id === 'string' && id ? `${sourceKey}:${id}:${type}` : undefined;
}

@Injectable()
export class InboundJobs {
  constructor(
    private readonly repo: InboundRepository,
    private readonly registry: InboundEffectsRegistry,
    private readonly effects: EffectsService,
  ) {}

  @JobHandler(inboundProcessJob)
  async process(payload: JobPayload<typeof inboundProcessJob>, ctx: JobContext): Promise<Outcome> {
    if (!ctx.workspaceId) throw new UnrecoverableError('inbound event job without a workspace');
    return this.processEvent(ctx.workspaceId, payload.inbound_event_id, ctx);
  }

  /**
   * Applies one event's effects once: EffectsService.once keyed by the inbox row (and, for
   * Stripe, by object id + type, since Stripe may send two events for one change) runs the
   * handler, records the effect and skips it on any later run; a concurrent run of the same
   * event waits for the first (EffectInProgressError delays the job without spending an attempt).
   */
  async processEvent(workspaceId: WorkspaceId, id: string, ctx?: Pick<JobContext, 'attempt' | 'job'>): Promise<Outcome> {
    const row = await this.repo.find(workspaceId, id);
    if (!row || row.status === 'processed' || row.status === 'ignored') return { status: 'skipped', outcome: 'already_done' };
    const handler = this.registry.find(row.provider, row.type);
    if (!handler) {
      await this.repo.finish(workspaceId, id, { status: 'ignored', outcome: 'no_handler' });
      return { status: 'ignored', outcome: 'no_handler' };
    }
    const apply = (key: string) =>
      handler.apply({
        workspaceId,
        idempotencyKey: key,
        event: {
          id: row.id,
          provider: row.provider,
          providerEventId: row.providerEventId,
          type: row.type,
          payload: row.payload,
          receivedAt: row.receivedAt,
          sourceId: row.sourceId,
        },
      });
    let outcome: string;
    try {
      const objectKey = row.provider === 'stripe' ? stripeObjectKey(row.sourceKey, row.type, row.payload) : undefined;
      const done = await this.effects.once(
        'webhooks.inbound',
        row.id,
        async (key) => {
          if (!objectKey) return (await apply(key)).outcome;
          const inner = await this.effects.once(
            'webhooks.stripe-object',
            objectKey,
            async (k) => (await apply(k)).outcome,
            LEASE,
          );
          return inner.ran ? inner.result : 'duplicate_object_event';
        },
        LEASE,
      );
      outcome = done.ran ? done.result : (done.result ?? 'already_applied');
    } catch (err) {
      if (err instanceof EffectInProgressError) throw err;
      const maxAttempts = ctx?.job.opts.attempts ?? 1;
      const final = err instanceof UnrecoverableError || (ctx?.attempt ?? 1) >= maxAttempts;
      await this.repo.recordFailure(workspaceId, id, err instanceof Error ? err.message : String(err), final);
      throw err;
    }
    await this.repo.finish(workspaceId, id, { status: 'processed', outcome });
    return { status: 'processed', outcome };
  }
}
