import { Inject, Injectable } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { WorkspaceId } from '../auth/auth-context';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { currentRequestId } from './job-context';
import type { JobDefinition, JobEnvelope, JobInput, JobOptions, ScheduleSpec } from './job-definition';
import { JobRegistry } from './job-registry';
import { QUEUE_BACKEND } from './jobs.tokens';
import type { QueueBackend } from './queue-backend';

export interface EnqueueOptions extends JobOptions {
  /** The tenant the job belongs to (null for system jobs). Scopes the admin API. */
  workspaceId: WorkspaceId | null;
  /**
   * Deduplication: while a job with this id exists (waiting, delayed, active, or kept after
   * finishing) adding it again is a no-op. BullMQ forbids `:` and integer-like ids.
   */
  jobId?: string;
  /** Defaults to the current request (or job) id. */
  requestId?: string | null;
}

type JobsConfig = Pick<
  AppConfig,
  | 'JOBS_ATTEMPTS'
  | 'JOBS_BACKOFF_DELAY_MS'
  | 'JOBS_BACKOFF_JITTER'
  | 'JOBS_KEEP_COMPLETED_COUNT'
  | 'JOBS_KEEP_COMPLETED_AGE_S'
  | 'JOBS_KEEP_FAILED_COUNT'
  | 'JOBS_KEEP_FAILED_AGE_S'
>;

/**
 * Options every job gets unless its definition or the enqueue call says otherwise: attempts,
 * exponential backoff with jitter, and retention of finished jobs bounded by age and count.
 */
export function defaultJobOptions(config: JobsConfig): JobsOptions {
  return {
    attempts: config.JOBS_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.JOBS_BACKOFF_DELAY_MS, jitter: config.JOBS_BACKOFF_JITTER },
    removeOnComplete: { age: config.JOBS_KEEP_COMPLETED_AGE_S, count: config.JOBS_KEEP_COMPLETED_COUNT },
    removeOnFail: { age: config.JOBS_KEEP_FAILED_AGE_S, count: config.JOBS_KEEP_FAILED_COUNT },
  };
}

/** Layers job options; a backoff given without `jitter` keeps the configured jitter. */
export function mergeJobOptions(base: JobsOptions, ...layers: Array<JobOptions | undefined>): JobsOptions {
  const out: JobsOptions = { ...base };
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.attempts !== undefined) out.attempts = layer.attempts;
    if (layer.delay !== undefined) out.delay = layer.delay;
    if (layer.priority !== undefined) out.priority = layer.priority;
    if (layer.backoff) {
      const jitter = typeof out.backoff === 'object' ? out.backoff.jitter : undefined;
      out.backoff = { jitter, ...layer.backoff };
    }
  }
  return out;
}

/** Producer side of the job system, usable from every role (API processes enqueue too). */
@Injectable()
export class JobsService {
  private readonly defaults: JobsOptions;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(QUEUE_BACKEND) private readonly backend: QueueBackend,
    private readonly registry: JobRegistry,
  ) {
    this.defaults = defaultJobOptions(config);
  }

  get backendKind(): QueueBackend['kind'] {
    return this.backend.kind;
  }

  /** Validates the payload against the job's schema and adds the job; returns its id. */
  async enqueue<D extends JobDefinition>(def: D, payload: JobInput<D>, opts: EnqueueOptions): Promise<string> {
    const [id] = await this.enqueueBulk(def, [{ payload, ...opts }]);
    return id;
  }

  /** Several jobs of one type in one round trip. */
  async enqueueBulk<D extends JobDefinition>(def: D, items: Array<EnqueueOptions & { payload: JobInput<D> }>): Promise<string[]> {
    this.registry.assertRegistered(def);
    const jobs = items.map((item) => ({
      name: def.name,
      data: this.envelope(def, item.payload, item.workspaceId, item.requestId),
      opts: { ...mergeJobOptions(this.defaults, def.options, item), ...(item.jobId ? { jobId: item.jobId } : {}) },
    }));
    await this.backend.ready();
    const added = await this.backend.queue(def.queue).addBulk(jobs);
    return added.map((j) => String(j.id));
  }

  /**
   * Creates or updates a repeating job (BullMQ job scheduler): a cron `pattern` (with optional
   * `tz`) or `every` n ms. Idempotent per `schedulerId`; every process may call it at start.
   */
  async schedule<D extends JobDefinition>(
    def: D,
    schedulerId: string,
    spec: ScheduleSpec,
    payload: JobInput<D>,
    opts: Omit<EnqueueOptions, 'jobId' | 'delay'>,
  ): Promise<void> {
    this.registry.assertRegistered(def);
    await this.backend.ready();
    await this.backend.queue(def.queue).upsertJobScheduler(schedulerId, spec, {
      name: def.name,
      data: this.envelope(def, payload, opts.workspaceId, opts.requestId ?? null),
      opts: mergeJobOptions(this.defaults, def.options, opts),
    });
  }

  async unschedule(def: JobDefinition, schedulerId: string): Promise<boolean> {
    await this.backend.ready();
    return this.backend.queue(def.queue).removeJobScheduler(schedulerId);
  }

  private envelope(
    def: JobDefinition,
    payload: unknown,
    workspaceId: WorkspaceId | null,
    requestId: string | null | undefined,
  ): JobEnvelope {
    const parsed = def.schema.safeParse(payload);
    if (!parsed.success) throw new Error(`invalid payload for job "${def.name}": ${z.prettifyError(parsed.error)}`);
    return {
      workspace_id: workspaceId,
      request_id: requestId === undefined ? currentRequestId() : requestId,
      payload: parsed.data,
    };
  }
}
