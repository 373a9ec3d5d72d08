import { Injectable } from '@nestjs/common';
import type { WorkspaceId } from '../../../auth/auth-context';
import { JobsService } from '../../../jobs/jobs.service';
import { deliverJob, deliverJobId } from '../job-definitions';
import type { AttemptTrigger } from './delivery.service';

/** Puts delivery attempts on the queue (the jobs engine): one job per attempt. */
@Injectable()
export class DeliveryScheduler {
  constructor(private readonly jobs: JobsService) {}

  async scheduleAttempt(
    workspaceId: WorkspaceId,
    messageId: string,
    attempt: number,
    delayMs: number,
    trigger: AttemptTrigger,
    deferred = false,
  ): Promise<void> {
    await this.jobs.enqueue(
      deliverJob,
      { message_id: messageId, attempt, trigger },
      {
        workspaceId,
        delay: Math.max(0, Math.round(delayMs)),
        // A deferral (rate limit) re-adds the same attempt while its job is still active: new id.
        jobId: deliverJobId(messageId, attempt, deferred ? `-d${Date.now()}` : ''),
      },
    );
  }

  async scheduleMany(
    workspaceId: WorkspaceId,
    items: Array<{ messageId: string; attempt: number; trigger: AttemptTrigger; fresh?: boolean }>,
  ): Promise<void> {
    if (!items.length) return;
    await this.jobs.enqueueBulk(
      deliverJob,
      items.map((i) => ({
        payload: { message_id: i.messageId, attempt: i.attempt, trigger: i.trigger },
        workspaceId,
        jobId: deliverJobId(i.messageId, i.attempt, i.fresh ? `-s${Date.now()}` : ''),
      })),
    );
  }
}
