import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Database } from '../db/database';
import { DATABASE } from '../db/database.module';
import { MetricsService } from '../observability/metrics';
import { JobRegistry } from './job-registry';
import { QUEUE_BACKEND } from './jobs.tokens';
import type { QueueBackend } from './queue-backend';

export const DEPTH_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/** Scrapes must stay fast while a datastore is away: a slow probe reports nothing this time. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Queue and outbox metrics on the app's Prometheus registry (`/metrics`, and the worker's
 * health port). Depth and outbox lag are read at scrape time; counters and the duration
 * histogram are fed by the workers of this process.
 */
@Injectable()
export class JobsMetrics {
  readonly processed: Counter<'queue' | 'name'>;
  readonly failed: Counter<'queue' | 'name' | 'final'>;
  readonly duration: Histogram<'queue' | 'name' | 'status'>;
  readonly published: Counter;

  constructor(
    metrics: MetricsService,
    @Inject(QUEUE_BACKEND) backend: QueueBackend,
    @Inject(DATABASE) database: Database,
    registry: JobRegistry,
  ) {
    const registers = [metrics.registry];
    this.processed = new Counter({
      name: 'jobs_processed_total',
      help: 'Jobs completed by this process',
      labelNames: ['queue', 'name'] as const,
      registers,
    });
    this.failed = new Counter({
      name: 'jobs_failed_total',
      help: 'Job attempts that failed in this process; final="true" when no attempt is left (dead letter)',
      labelNames: ['queue', 'name', 'final'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'job_duration_seconds',
      help: 'Handler run time per attempt',
      labelNames: ['queue', 'name', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.published = new Counter({
      name: 'outbox_published_total',
      help: 'Events the outbox relay of this process published to the queue',
      registers,
    });
    new Gauge({
      name: 'jobs_queue_depth',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        if (
          !(await within(
            1000,
            backend.ready().then(() => true),
          ))
        )
          return;
        await Promise.all(
          registry.queues().map(async (queue) => {
            const counts = await within(2000, backend.queue(queue).getJobCounts(...DEPTH_STATES));
            if (!counts) return;
            for (const state of DEPTH_STATES) this.set({ queue, state }, counts[state] ?? 0);
          }),
        );
      },
    });
    // One query per scrape feeds both outbox gauges (prom-client collects them one after the other).
    let sample: { at: number; value: Promise<{ lag: number; count: number } | undefined> } | undefined;
    const outbox = () => {
      if (!sample || Date.now() - sample.at > 500) {
        const value = within(
          2000,
          database.pool.query<{ lag: string | null; n: string }>(
            `select extract(epoch from now() - min(occurred_at)) as lag, count(*) as n from events where published_at is null`,
          ),
        ).then((res) => res && { lag: Math.max(0, Number(res.rows[0].lag ?? 0)), count: Number(res.rows[0].n) });
        sample = { at: Date.now(), value };
      }
      return sample.value;
    };
    new Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age of the oldest unpublished event (0 when the outbox is empty)',
      registers,
      async collect() {
        const s = await outbox();
        if (s) this.set(s.lag);
      },
    });
    new Gauge({
      name: 'outbox_unpublished_events',
      help: 'Events written but not yet published to the queue',
      registers,
      async collect() {
        const s = await outbox();
        if (s) this.set(s.count);
      },
    });
  }
}
