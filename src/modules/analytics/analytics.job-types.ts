import { z } from 'zod';
import { defineJob } from '../../jobs/job-definition';

export const ANALYTICS_QUEUE = 'analytics';

/**
 * One sync of one connection. Scheduled per connection (cron), enqueued by
 * `POST …/connections/:id/sync` (with the queued run's id and an optional backfill range) and,
 * after a quota stop, enqueued again with a delay to resume from the checkpoint. Provider faults
 * never fail the job (the run records them and the checkpoint keeps the place); only an
 * unexpected error (e.g. the database) makes BullMQ retry it.
 */
export const analyticsSyncJob = defineJob({
  name: 'analytics.sync',
  queue: ANALYTICS_QUEUE,
  schema: z.strictObject({
    connection_id: z.uuid(),
    trigger: z.enum(['schedule', 'manual', 'resume']),
    run_id: z.uuid().optional(),
    from: z.string().optional(),
    to: z.string().optional(),
  }),
  description: 'Pulls GA4 / Meta / LinkedIn metrics of one connection into ad_metrics_daily (incremental, backfill or resume)',
  options: { attempts: 3, backoff: { type: 'exponential', delay: 30_000 } },
});

/** Builds a large report (CSV and JSON) requested with `POST /analytics/report`. */
export const analyticsReportJob = defineJob({
  name: 'analytics.report',
  queue: ANALYTICS_QUEUE,
  schema: z.strictObject({ report_id: z.uuid() }),
  description: 'Computes an analytics report and stores it as CSV and JSON for download',
  options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 } },
});

export const ANALYTICS_JOBS = [analyticsSyncJob, analyticsReportJob];

/** Scheduler id of a connection's periodic sync (BullMQ forbids `:` in ids). */
export const syncSchedulerId = (connectionId: string) => `analytics-sync-${connectionId}`;
