import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { WorkspaceId } from '../auth/auth-context';

/** Queue names: lowercase words joined by `-` (BullMQ forbids `:`). */
const QUEUE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Job names: dotted or dashed words, e.g. `welcome-email`, `webhooks.deliver`, `lead.created`. */
const JOB_NAME = /^[a-z][a-z0-9_.-]{0,99}$/;

export type BackoffSpec = { type: 'exponential' | 'fixed'; delay: number; jitter?: number };

/** Per-job options a definition (or one enqueue) may override; the rest come from config. */
export interface JobOptions {
  attempts?: number;
  backoff?: BackoffSpec;
  /** Milliseconds before the job becomes runnable. */
  delay?: number;
  /** 1 (highest) … 2,097,152; jobs without priority run first in FIFO order. */
  priority?: number;
}

export type ScheduleSpec = { pattern: string; tz?: string } | { every: number };

/**
 * A job type: its name, queue, payload schema and defaults. Handlers are attached with
 * `@JobHandler(definition)`; the module that owns the job lists it in
 * `JobsModule.forFeature([...])`. Start fails when a listed job has no handler or a handler's
 * job is not listed.
 */
export interface JobDefinition<N extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly queue: string;
  readonly schema: S;
  readonly description: string;
  readonly options?: JobOptions;
  /**
   * A fixed schedule (cron `pattern` or `every` ms) run by the scheduler in the worker role;
   * the payload is `{}` and the job has no workspace. Per-workspace schedules use
   * `JobsService.schedule()` instead.
   */
  readonly schedule?: ScheduleSpec;
}

export function defineJob<const N extends string, S extends z.ZodType>(def: JobDefinition<N, S>): JobDefinition<N, S> {
  if (!JOB_NAME.test(def.name)) throw new Error(`job name "${def.name}" must match ${JOB_NAME}`);
  if (!QUEUE_NAME.test(def.queue)) throw new Error(`queue name "${def.queue}" must match ${QUEUE_NAME}`);
  return Object.freeze(def);
}

export type JobPayload<D extends JobDefinition> = z.output<D['schema']>;
export type JobInput<D extends JobDefinition> = z.input<D['schema']>;

/**
 * What every job carries besides its payload. The workspace id scopes the admin API (a job of
 * another workspace is invisible); the request id links the job's logs to its cause.
 */
export interface JobEnvelope<P = unknown> {
  workspace_id: string | null;
  request_id: string | null;
  payload: P;
  /** Set for event jobs: when the event happened. */
  occurred_at?: string;
}

export interface JobContext {
  job: Job<JobEnvelope>;
  id: string;
  name: string;
  queue: string;
  workspaceId: WorkspaceId | null;
  requestId: string | null;
  /** 1 for the first run, 2 for the first retry … */
  attempt: number;
  /** The process logger bound to this job (job id, name, queue, workspace, request id). */
  log: Logger;
}

export type JobHandlerFn<P = unknown> = (payload: P, ctx: JobContext) => Promise<unknown>;
