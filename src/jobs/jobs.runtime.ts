import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { WorkspaceId } from '../auth/auth-context';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { Database } from '../db/database';
import { DATABASE } from '../db/database.module';
import { OutboxRelay } from '../events/outbox-relay';
import { ROOT_LOGGER } from '../observability/root-logger';
import { EffectInProgressError } from './effects';
import { runWithRequestId } from './job-context';
import type { JobContext, JobEnvelope } from './job-definition';
import { JobRegistry } from './job-registry';
import { JobsMetrics } from './jobs.metrics';
import { defaultJobOptions, mergeJobOptions } from './jobs.service';
import { QUEUE_BACKEND } from './jobs.tokens';
import type { JobWorker, QueueBackend } from './queue-backend';

/** Prefix of the schedulers declared by job definitions (`schedule`); others are left alone. */
export const STATIC_SCHEDULER_PREFIX = 'static.';

export interface JobsRuntimeParts {
  workers?: boolean;
  relay?: boolean;
  scheduler?: boolean;
}

/**
 * The worker role: one BullMQ worker per queue (concurrency from JOBS_CONCURRENCY), the outbox
 * relay, and the scheduler that keeps declared schedules in the queue. Started explicitly by
 * the runtime for `--role worker|all`; an `api` process never runs any of them.
 */
@Injectable()
export class JobsRuntime implements BeforeApplicationShutdown {
  private readonly workers: JobWorker[] = [];
  private relay?: OutboxRelay;
  private started = false;
  private stopping?: Promise<void>;
  private readonly log: Logger;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(QUEUE_BACKEND) private readonly backend: QueueBackend,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    private readonly registry: JobRegistry,
    private readonly metrics: JobsMetrics,
  ) {
    this.log = rootLogger.child({ component: 'jobs' });
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  async start(parts: JobsRuntimeParts = {}): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { workers = true, relay = true, scheduler = true } = parts;
    this.registry.validate();
    await this.backend.ready();
    if (scheduler) await this.syncSchedules();
    if (workers) {
      for (const queue of this.registry.queues()) this.workers.push(this.startWorker(queue));
    }
    if (relay) {
      this.relay = new OutboxRelay(this.database, this.backend, this.log.child({ component: 'outbox-relay' }), {
        batchSize: this.config.OUTBOX_BATCH_SIZE,
        pollIntervalMs: this.config.OUTBOX_POLL_INTERVAL_MS,
        claimTtlMs: this.config.OUTBOX_CLAIM_TTL_MS,
        jobOptions: defaultJobOptions(this.config),
        onPublished: (n) => this.metrics.published.inc(n),
      });
      await this.relay.start();
    }
    this.log.info(
      { backend: this.backend.kind, queues: workers ? this.registry.queues() : [], relay, scheduler },
      'job workers started',
    );
  }

  /**
   * Graceful stop: the relay finishes its batch, workers stop taking jobs and the jobs in flight
   * get `graceMs` to finish. Jobs still running after that are abandoned: their locks expire and
   * another worker (or this one after a restart) runs them again — none is lost.
   */
  stop(graceMs = this.config.SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.started) return;
      await this.relay?.stop();
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.allSettled(this.workers.map((w) => w.pause())).then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!finished) this.log.warn({ grace_ms: graceMs }, 'grace period over: unfinished jobs will run again elsewhere');
      await Promise.allSettled(this.workers.map((w) => w.close(true)));
      this.log.info('job workers stopped');
    })();
    return this.stopping;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Upserts the schedules declared by job definitions; removes declared ones that are gone. */
  async syncSchedules(): Promise<void> {
    const defaults = defaultJobOptions(this.config);
    const declared = new Set<string>();
    for (const def of this.registry.all()) {
      if (!def.schedule) continue;
      const id = `${STATIC_SCHEDULER_PREFIX}${def.name}`;
      declared.add(id);
      const data: JobEnvelope = { workspace_id: null, request_id: null, payload: def.schema.parse({}) };
      await this.backend.queue(def.queue).upsertJobScheduler(id, def.schedule, {
        name: def.name,
        data,
        opts: mergeJobOptions(defaults, def.options),
      });
    }
    for (const queue of this.registry.queues()) {
      const existing = await this.backend.queue(queue).getJobSchedulers(0, -1);
      for (const s of existing) {
        const id = s.id ?? s.key;
        if (id?.startsWith(STATIC_SCHEDULER_PREFIX) && !declared.has(id)) {
          await this.backend.queue(queue).removeJobScheduler(id);
          this.log.info({ queue, scheduler: id }, 'removed a schedule no job declares any more');
        }
      }
    }
  }

  private startWorker(queue: string): JobWorker {
    const worker = this.backend.createWorker(queue, this.processor(queue), {
      concurrency: this.config.JOBS_CONCURRENCY[queue] ?? this.config.JOBS_DEFAULT_CONCURRENCY,
      lockDuration: this.config.JOBS_LOCK_DURATION_MS,
      stalledInterval: this.config.JOBS_STALLED_INTERVAL_MS,
      maxStalledCount: 2,
    });
    worker.on('completed', (job) => this.metrics.processed.inc({ queue, name: job.name }));
    worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError || err.name === 'DelayedError') return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      this.metrics.failed.inc({ queue, name: job.name, final: String(final) });
      const log = this.jobLog(job, queue);
      const fields = { err: { message: err.message, name: err.name }, attempts_made: job.attemptsMade };
      if (final) log.error(fields, 'job failed for good (kept as failed; retry it from the admin API)');
      else log.warn(fields, 'job attempt failed; it will be retried');
    });
    return worker;
  }

  private jobLog(job: Job<JobEnvelope>, queue: string, attempt?: number): Logger {
    return this.log.child({
      job_id: job.id,
      job: job.name,
      queue,
      workspace_id: job.data?.workspace_id ?? null,
      request_id: job.data?.request_id ?? null,
      ...(attempt === undefined ? {} : { attempt }),
    });
  }

  private processor(queue: string): Processor<JobEnvelope> {
    return async (job, token) => {
      const def = this.registry.definition(job.name);
      const handler = this.registry.handler(job.name);
      if (!def || !handler) throw new UnrecoverableError(`no handler for job "${job.name}" on queue "${queue}"`);
      const envelope = job.data ?? ({} as JobEnvelope);
      const parsed = def.schema.safeParse(envelope.payload);
      if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${z.prettifyError(parsed.error)}`);
      const attempt = job.attemptsMade + 1;
      // The job's logger is made on first use: most jobs log nothing above the configured level,
      // and a pino child per job showed in the fan-out profile.
      let jobLogger: Logger | undefined;
      const logger = () => (jobLogger ??= this.jobLog(job, queue, attempt));
      const ctx: JobContext = {
        job,
        id: String(job.id),
        name: job.name,
        queue,
        workspaceId: (envelope.workspace_id ?? null) as WorkspaceId | null,
        requestId: envelope.request_id ?? null,
        attempt,
        get log() {
          return logger();
        },
      };
      const end = this.metrics.duration.startTimer({ queue, name: job.name });
      try {
        const result = await runWithRequestId(ctx.requestId, () => handler(parsed.data, ctx));
        const seconds = end({ status: 'completed' });
        if (this.log.isLevelEnabled('info')) logger().info({ duration_ms: Math.round(seconds * 1000) }, 'job completed');
        return result;
      } catch (err) {
        if (err instanceof EffectInProgressError && token) {
          end({ status: 'postponed' });
          logger().info({ retry_at: new Date(err.retryAt).toISOString() }, 'effect in progress elsewhere; job postponed');
          await job.moveToDelayed(err.retryAt, token);
          throw new DelayedError();
        }
        end({ status: 'failed' });
        throw err;
      }
    };
  }
}
