import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { JobContext, JobPayload } from '../../jobs/job-definition';
import { JobHandler } from '../../jobs/job-handler.decorator';
import { analyticsReportJob, analyticsSyncJob } from './analytics.job-types';
import { ConnectionsRepository } from './connections/connections.repository';
import { ReportsService } from './reports/reports.service';
import { SyncScheduler } from './sync/sync-scheduler';
import { SyncRepository } from './sync/sync.repository';
import { SyncEngine, type SyncOutcome } from './sync/sync.service';

/** Job handlers of the analytics module (worker role). */
@Injectable()
export class AnalyticsJobs {
  constructor(
    private readonly engine: SyncEngine,
    private readonly scheduler: SyncScheduler,
    private readonly runs: SyncRepository,
    private readonly connections: ConnectionsRepository,
    private readonly reports: ReportsService,
  ) {}

  @JobHandler(analyticsSyncJob)
  async sync(payload: JobPayload<typeof analyticsSyncJob>, ctx: JobContext): Promise<SyncOutcome> {
    const ws = ctx.workspaceId;
    if (!ws) throw new UnrecoverableError('analytics.sync needs a workspace');
    const range = payload.from && payload.to ? { from: payload.from, to: payload.to } : undefined;
    const out = await this.engine.run(ws, payload.connection_id, { trigger: payload.trigger, runId: payload.run_id, range });
    switch (out.status) {
      case 'paused':
        await this.scheduler.resumeAt(ws, payload.connection_id, out.resumeAt);
        break;
      case 'busy':
        // A scheduled tick or a resume is served by the sync already running. A requested run
        // waits for it (job retries with backoff) and is recorded as skipped if it never frees.
        if (payload.run_id) {
          if (ctx.attempt < (ctx.job.opts.attempts ?? 1))
            throw new Error('another sync of this connection is running; retrying later');
          await this.runs.finishRun(ws, payload.run_id, {
            status: 'skipped',
            error: 'another sync of this connection was running',
          });
        }
        break;
      case 'not_found':
        // The connection is gone (e.g. its workspace was deleted): drop the schedule left behind —
        // after a second look, so one bad read can never silently stop a connection's syncs.
        if (payload.trigger === 'schedule' && !(await this.connections.get(ws, payload.connection_id))) {
          await this.scheduler.unschedule(payload.connection_id);
          ctx.log.info({ connection_id: payload.connection_id }, 'schedule of a deleted analytics connection removed');
        }
        break;
      default:
        break;
    }
    ctx.log.info({ outcome: out.status }, 'analytics sync job done');
    return out;
  }

  @JobHandler(analyticsReportJob)
  async report(payload: JobPayload<typeof analyticsReportJob>, ctx: JobContext): Promise<{ rows: number } | null> {
    const ws = ctx.workspaceId;
    if (!ws) throw new UnrecoverableError('analytics.report needs a workspace');
    return this.reports.process(ws, payload.report_id, ctx.attempt >= (ctx.job.opts.attempts ?? 1));
  }
}
