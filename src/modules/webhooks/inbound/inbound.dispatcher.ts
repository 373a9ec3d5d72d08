import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import type { WorkspaceId } from '../../../auth/auth-context';
import { JobsService } from '../../../jobs/jobs.service';
import { ROOT_LOGGER } from '../../../observability/root-logger';
import { inboundJobId, inboundProcessJob } from '../job-definitions';

export interface InboundWork {
  id: string;
  workspaceId: string;
  replayCount: number;
}

/** Hands stored inbound events to the processing job (deduplicated by job id). */
@Injectable()
export class InboundDispatcher {
  constructor(
    private readonly jobs: JobsService,
    @Optional() @Inject(ROOT_LOGGER) private readonly log?: Logger,
  ) {}

  async dispatch(work: InboundWork[]): Promise<void> {
    if (!work.length) return;
    await this.jobs.enqueueBulk(
      inboundProcessJob,
      work.map((w) => ({
        payload: { inbound_event_id: w.id },
        workspaceId: w.workspaceId as WorkspaceId,
        jobId: inboundJobId(w.id, w.replayCount),
      })),
    );
  }

  /**
   * After the answer has gone: the event is already durable, so a failed hand-off only delays
   * it until the sweep job (every 30 s) re-enqueues rows still `received`.
   */
  dispatchSoon(work: InboundWork[]): void {
    if (!work.length) return;
    setImmediate(() => {
      this.dispatch(work).catch((err: Error) =>
        this.log?.warn(
          { err: { message: err.message }, count: work.length },
          'inbound event hand-off failed; the sweep will retry',
        ),
      );
    });
  }
}
