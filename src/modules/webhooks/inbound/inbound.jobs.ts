import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { Db } from '../../../db/database';
import { DRIZZLE } from '../../../db/database.module';
import { EffectsService } from '../../../jobs/effects';
import type { JobContext, JobPayload } from '../../../jobs/job-definition';
import { JobHandler } from '../../../jobs/job-handler.decorator';
import { inboundProcessJob } from '../job-definitions';
import { InboundEffectsRegistry } from './inbound-effects';
import { InboundRepository } from './inbound.repository';

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
    @Inject(DRIZZLE) private readonly db: Db,
  ) {}

  @JobHandler(inboundProcessJob)
  async process(payload: JobPayload<typeof inboundProcessJob>, ctx: JobContext): Promise<Outcome> {
    if (!ctx.workspaceId) throw new UnrecoverableError('inbound event job without a workspace');
    return this.processEvent(ctx.workspaceId, payload.inbound_event_id, ctx);
  }

  /**
   * Applies one event's effects exactly once: the row is locked, the (inbox row) and, for Stripe,
   * the (object id + type) keys are recorded with EffectsService in the same transaction as the
   * handler's writes and the row's new status. A second run finds the keys and does nothing.
   */
  async processEvent(workspaceId: WorkspaceId, id: string, ctx?: Pick<JobContext, 'attempt' | 'job'>): Promise<Outcome> {
    const row = await this.repo.find(workspaceId, id);
    if (!row || row.status === 'processed' || row.status === 'ignored') return { status: 'skipped', outcome: 'already_done' };
    const handler = this.registry.find(row.provider, row.type);
    if (!handler) {
      await this.repo.finish(workspaceId, id, { status: 'ignored', outcome: 'no_handler' });
      return { status: 'ignored', outcome: 'no_handler' };
    }
    try {
      return await this.db.transaction(async (tx) => {
        const locked = await this.repo.lockForProcessing(workspaceId, id, tx);
        if (!locked || locked.status === 'processed' || locked.status === 'ignored')
          return { status: 'skipped', outcome: 'already_done' };
        if (!(await this.effects.recordInTx(tx, 'webhooks.inbound', locked.id))) {
          await this.repo.finish(workspaceId, id, { status: 'processed', outcome: locked.outcome ?? 'already_applied' }, tx);
          return { status: 'processed', outcome: 'already_applied' };
        }
        if (locked.provider === 'stripe') {
          const key = stripeObjectKey(locked.sourceKey, locked.type, locked.payload);
          if (key && !(await this.effects.recordInTx(tx, 'webhooks.stripe-object', key))) {
            await this.repo.finish(workspaceId, id, { status: 'processed', outcome: 'duplicate_object_event' }, tx);
            return { status: 'processed', outcome: 'duplicate_object_event' };
          }
        }
        const result = await handler.apply({
          workspaceId,
          tx,
          event: {
            id: locked.id,
            provider: locked.provider,
            providerEventId: locked.providerEventId,
            type: locked.type,
            payload: locked.payload,
            receivedAt: locked.receivedAt,
            sourceId: locked.sourceId,
          },
          once: (kind, subject) => this.effects.recordInTx(tx, kind, subject),
        });
        await this.repo.finish(workspaceId, id, { status: 'processed', outcome: result.outcome }, tx);
        return { status: 'processed', outcome: result.outcome };
      });
    } catch (err) {
      const maxAttempts = ctx?.job.opts.attempts ?? 1;
      const final = err instanceof UnrecoverableError || (ctx?.attempt ?? 1) >= maxAttempts;
      await this.repo.recordFailure(workspaceId, id, err instanceof Error ? err.message : String(err), final);
      throw err;
    }
  }
}
