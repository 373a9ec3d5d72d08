import { Injectable } from '@nestjs/common';
import type { WorkspaceId } from '../../../auth/auth-context';
import { JobsService } from '../../../jobs/jobs.service';
import { inboundJobId, inboundProcessJob } from '../job-definitions';

export interface InboundWork {
  id: string;
  workspaceId: string;
  replayCount: number;
}

/** Hands stored inbound events to the processing job (deduplicated by job id). */
@Injectable()
export class InboundDispatcher {
  constructor(private readonly jobs: JobsService) {}

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
}
