import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { z } from 'zod';
import type { WorkspaceId } from '../auth/auth-context';
import { DomainError, notFound } from '../common/errors/domain-error';
import { decodeCursor, encodeCursor, type Page } from '../common/http/pagination';
import type { JobEnvelope } from './job-definition';
import { JobRegistry } from './job-registry';
import { JOB_STATES, type JobStateName, type JobView } from './jobs.schemas';
import { QUEUE_BACKEND } from './jobs.tokens';
import type { QueueBackend } from './queue-backend';

const cursorSchema = z.object({ q: z.number().int().min(0), s: z.number().int().min(0), o: z.number().int().min(0) });
/** Jobs read from the queue per step, and at most per request, while filtering by workspace. */
const SCAN_CHUNK = 200;
const SCAN_BUDGET = 5000;

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

export function toJobView(job: Job<JobEnvelope>, queue: string, state: string): JobView {
  const data = job.data ?? ({} as Partial<JobEnvelope>);
  return {
    id: String(job.id),
    queue,
    name: job.name,
    state,
    workspace_id: data.workspace_id ?? null,
    request_id: data.request_id ?? null,
    payload: data.payload ?? null,
    attempts_made: job.attemptsMade,
    attempts_max: job.opts.attempts ?? 1,
    last_error: job.failedReason || null,
    created_at: iso(job.timestamp)!,
    run_at: iso(job.timestamp + (job.delay ?? 0))!,
    processed_at: iso(job.processedOn),
    finished_at: iso(job.finishedOn),
  };
}

/**
 * The admin API's view of the queues, scoped to one workspace: every job carries its
 * workspace id in its data, and a job of another workspace (or a system job) is answered
 * exactly like a job that does not exist.
 */
@Injectable()
export class JobsAdminService {
  constructor(
    @Inject(QUEUE_BACKEND) private readonly backend: QueueBackend,
    private readonly registry: JobRegistry,
  ) {}

  async list(
    workspaceId: WorkspaceId,
    query: { queue?: string; state?: JobStateName; limit: number; cursor?: string },
  ): Promise<Page<JobView>> {
    const queues = query.queue ? [this.knownQueue(query.queue)] : this.registry.queues();
    const states: readonly JobStateName[] = query.state ? [query.state] : JOB_STATES;
    let pos = decodeCursor(query.cursor, cursorSchema) ?? { q: 0, s: 0, o: 0 };
    await this.backend.ready();
    const data: JobView[] = [];
    let scanned = 0;
    while (pos.q < queues.length && data.length < query.limit && scanned < SCAN_BUDGET) {
      const queue = queues[pos.q];
      const state = states[pos.s];
      const jobs = (await this.backend.queue(queue).getJobs(state, pos.o, pos.o + SCAN_CHUNK - 1)) as Array<Job<JobEnvelope>>;
      scanned += jobs.length;
      let consumed = 0;
      for (const job of jobs) {
        consumed++;
        if (job?.data?.workspace_id !== workspaceId) continue;
        data.push(toJobView(job, queue, state));
        if (data.length === query.limit) break;
      }
      pos = { ...pos, o: pos.o + consumed };
      if (data.length < query.limit && jobs.length < SCAN_CHUNK) {
        // This (queue, state) list is exhausted: move on.
        pos = pos.s + 1 < states.length ? { q: pos.q, s: pos.s + 1, o: 0 } : { q: pos.q + 1, s: 0, o: 0 };
      }
    }
    return { data, next_cursor: pos.q < queues.length ? encodeCursor(pos) : null };
  }

  async get(workspaceId: WorkspaceId, queue: string, id: string): Promise<JobView> {
    const job = await this.find(workspaceId, queue, id);
    return toJobView(job, queue, await job.getState());
  }

  /** Runs a failed job again (attempts start over). Only failed jobs can be retried. */
  async retry(workspaceId: WorkspaceId, queue: string, id: string): Promise<JobView> {
    const job = await this.find(workspaceId, queue, id);
    const state = await job.getState();
    if (state !== 'failed') throw new DomainError('conflict', `Only failed jobs can be retried; this job is ${state}`);
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    const fresh = await this.find(workspaceId, queue, id);
    return toJobView(fresh, queue, await fresh.getState());
  }

  /** Deletes a job that is not running (a waiting or delayed job never runs; a finished one is forgotten). */
  async remove(workspaceId: WorkspaceId, queue: string, id: string): Promise<void> {
    const job = await this.find(workspaceId, queue, id);
    const state = await job.getState();
    if (state === 'active') throw new DomainError('conflict', 'The job is running; it can be removed once it has finished');
    await job.remove();
  }

  private knownQueue(queue: string): string {
    if (!this.registry.queues().includes(queue))
      throw new DomainError('bad_request', `Unknown queue "${queue}"`, [
        { path: 'queue', message: `must be one of ${this.registry.queues().join(', ')}` },
      ]);
    return queue;
  }

  private async find(workspaceId: WorkspaceId, queue: string, id: string): Promise<Job<JobEnvelope>> {
    if (!this.registry.queues().includes(queue)) throw notFound('Job');
    await this.backend.ready();
    const job = (await this.backend.queue(queue).getJob(id)) as Job<JobEnvelope> | undefined;
    if (!job || job.data?.workspace_id !== workspaceId) throw notFound('Job');
    return job;
  }
}
