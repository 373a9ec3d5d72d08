import fs from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { EffectsService } from './effects';
import { defineJob, type JobContext, type JobPayload } from './job-definition';
import { JobHandler } from './job-handler.decorator';

/**
 * A demonstration job in the shape of the seed's example (a welcome email sent 5 s after sign-up,
 * 3 attempts, exponential backoff from 2 s). It exercises the whole pipeline — delay, retries,
 * the idempotent-effects helper — and is what the job tests and the benchmark run. Its "email"
 * is a file under `<data dir>/mail/demo/`, one per send; the real welcome email arrives with
 * the leads module.
 *
 * ```ts
 * await jobs.enqueue(demoWelcomeEmailJob, { lead_id }, {
 *   workspaceId, delay: 5000, attempts: 3, backoff: { type: 'exponential', delay: 2000 },
 * });
 * ```
 */
export const demoWelcomeEmailJob = defineJob({
  name: 'demo.welcome-email',
  queue: 'default',
  schema: z.strictObject({
    lead_id: z.uuid(),
    /** Fail this many first attempts before sending (shows retries and backoff). */
    fail_attempts: z.number().int().min(0).max(20).default(0),
    /** Keep working this long after sending (a window to kill the worker mid-job). */
    work_ms: z.number().int().min(0).max(60_000).default(0),
    /** Skip the file write (benchmarks measure the pipeline, not the disk). */
    dry_run: z.boolean().default(false),
  }),
  description: 'Demo: writes a welcome email for a lead to <data dir>/mail/demo once (idempotent by lead id)',
  options: { delay: 5000, attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
});

export const DEMO_JOBS = [demoWelcomeEmailJob];

export function demoMailDir(dataDir: string): string {
  return path.join(dataDir, 'mail', 'demo');
}

@Injectable()
export class DemoJobs {
  constructor(
    private readonly effects: EffectsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @JobHandler(demoWelcomeEmailJob)
  async welcomeEmail(payload: JobPayload<typeof demoWelcomeEmailJob>, ctx: JobContext): Promise<{ sent: boolean }> {
    if (ctx.attempt <= payload.fail_attempts) throw new Error(`demo failure on attempt ${ctx.attempt}`);
    if (payload.dry_run) return { sent: false };
    const { ran } = await this.effects.once('demo.welcome-email', payload.lead_id, async (key) => {
      const dir = demoMailDir(this.config.dataDir);
      await fs.mkdir(dir, { recursive: true });
      const file = path.join(dir, `${payload.lead_id}-${Date.now()}-${process.pid}.eml`);
      const message = [
        `Message-ID: <${key}@switchboard.local>`,
        `X-Switchboard-Job: ${ctx.queue}/${ctx.id}`,
        'Subject: Welcome!',
        '',
        `Welcome, lead ${payload.lead_id}.`,
        '',
      ].join('\r\n');
      await fs.writeFile(file, message);
      ctx.log.info({ file }, 'demo welcome email written');
      return { file };
    });
    if (payload.work_ms) await new Promise((r) => setTimeout(r, payload.work_ms));
    return { sent: ran };
  }
}
