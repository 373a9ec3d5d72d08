import { Inject, Injectable } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import type { WorkspaceId } from '../../../auth/auth-context';
import type { AppConfig } from '../../../config/config';
import { APP_CONFIG } from '../../../config/config.module';
import { JobsService } from '../../../jobs/jobs.service';
import { analyticsSyncJob, syncSchedulerId } from '../analytics.job-types';

/**
 * Checks a cron expression (cron-parser, the parser BullMQ schedules with): it must parse, and
 * two consecutive runs must be at least `minIntervalS` apart so a typo cannot hammer a provider.
 * Returns a problem message, or null when fine.
 */
export function scheduleProblem(expr: string, minIntervalS: number, now = new Date()): string | null {
  let it;
  try {
    it = CronExpressionParser.parse(expr, { tz: 'UTC', currentDate: now });
  } catch (err) {
    return `Not a cron expression: ${(err as Error).message}`;
  }
  let prev = it.next().getTime();
  for (let i = 0; i < 24; i++) {
    const next = it.next().getTime();
    if (next - prev < minIntervalS * 1000) return `Runs more often than every ${minIntervalS} s (ANALYTICS_MIN_SYNC_INTERVAL_S)`;
    prev = next;
  }
  return null;
}

/** Puts analytics syncs on the job engine: one schedule per connection, backfills, resumes. */
@Injectable()
export class SyncScheduler {
  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates or updates the connection's periodic sync (idempotent per connection). */
  async schedule(ws: WorkspaceId, connectionId: string, cron: string): Promise<void> {
    await this.jobs.schedule(
      analyticsSyncJob,
      syncSchedulerId(connectionId),
      { pattern: cron, tz: 'UTC' },
      { connection_id: connectionId, trigger: 'schedule' },
      { workspaceId: ws, requestId: null },
    );
  }

  async unschedule(connectionId: string): Promise<void> {
    await this.jobs.unschedule(analyticsSyncJob, syncSchedulerId(connectionId));
  }

  /** A requested sync (incremental or backfill) for a run recorded as `queued`. */
  async enqueue(ws: WorkspaceId, connectionId: string, runId: string, range?: { from: string; to: string }): Promise<void> {
    await this.jobs.enqueue(
      analyticsSyncJob,
      { connection_id: connectionId, trigger: 'manual', run_id: runId, ...(range ?? {}) },
      { workspaceId: ws, jobId: `analytics-run-${runId}` },
    );
  }

  /** Resumes a quota-stopped sync when the provider allows it again (one resume per stop). */
  async resumeAt(ws: WorkspaceId, connectionId: string, at: Date): Promise<void> {
    await this.jobs.enqueue(
      analyticsSyncJob,
      { connection_id: connectionId, trigger: 'resume' },
      {
        workspaceId: ws,
        delay: Math.max(0, at.getTime() - Date.now()),
        jobId: `analytics-resume-${connectionId}-${at.getTime()}`,
      },
    );
  }

  get minIntervalS(): number {
    return this.config.ANALYTICS_MIN_SYNC_INTERVAL_S;
  }
}
