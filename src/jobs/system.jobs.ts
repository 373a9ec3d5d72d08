import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { Database } from '../db/database';
import { DATABASE } from '../db/database.module';
import { defineJob, type JobContext } from './job-definition';
import { JobHandler } from './job-handler.decorator';

/** Deletes published events past EVENTS_RETENTION_DAYS and effects past their expiry, daily. */
export const outboxPruneJob = defineJob({
  name: 'system.outbox-prune',
  queue: 'system',
  schema: z.strictObject({}),
  description: 'Deletes published outbox events older than EVENTS_RETENTION_DAYS and expired effect records',
  schedule: { pattern: '17 3 * * *' },
  options: { attempts: 3 },
});

export const SYSTEM_JOBS = [outboxPruneJob];

const BATCH = 5000;

@Injectable()
export class SystemJobs {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(outboxPruneJob)
  async pruneOutbox(_payload: Record<string, never>, ctx: JobContext): Promise<{ events: number; effects: number }> {
    const pool = this.database.pool;
    let events = 0;
    // Small batches: each is its own short statement, so capture never waits long behind it.
    for (;;) {
      const res = await pool.query(
        `delete from events where id in (
           select id from events where published_at < now() - $1 * interval '1 day' limit ${BATCH})`,
        [this.config.EVENTS_RETENTION_DAYS],
      );
      events += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < BATCH) break;
    }
    const eff = await pool.query(`delete from effects where state = 'done' and expires_at < now()`);
    const result = { events, effects: eff.rowCount ?? 0 };
    ctx.log.info(result, 'outbox pruned');
    return result;
  }
}
