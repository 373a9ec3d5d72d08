import { randomBytes } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Inject, Injectable, Module, Post } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import type { WorkspaceId } from '../../../src/auth/auth-context';
import { Public } from '../../../src/common/decorators/access.decorator';
import type { Db } from '../../../src/db/database';
import { DRIZZLE } from '../../../src/db/database.module';
import { workspaces } from '../../../src/db/schema/identity';
import type { EventEnvelope } from '../../../src/events/catalogue';
import { emit } from '../../../src/events/emit';
import { OnEvent } from '../../../src/events/on-event.decorator';
import { defineJob, type JobContext, type JobPayload } from '../../../src/jobs/job-definition';
import { JobHandler } from '../../../src/jobs/job-handler.decorator';
import { JobsModule } from '../../../src/jobs/jobs.module';

/** Test-only job types on their own queue. */
export const flakyJob = defineJob({
  name: 'test.flaky',
  queue: 'test',
  schema: z.strictObject({
    key: z.string(),
    /** Fail the first n attempts (the recorder can override it while the job lives). */
    fail_times: z.number().int().min(0).default(0),
    /** Throw UnrecoverableError. */
    permanent: z.boolean().default(false),
  }),
  description: 'test: fails a given number of times, records every run',
  options: { backoff: { type: 'exponential', delay: 100 } },
});

export const tickJob = defineJob({
  name: 'test.tick',
  queue: 'test',
  schema: z.strictObject({ key: z.string() }),
  description: 'test: records every run (schedules)',
});

export interface Run {
  at: number;
  attempt: number;
  requestId: string | null;
  workspaceId: string | null;
  jobId: string;
}

/** What the test handlers saw, per app instance. */
@Injectable()
export class JobRecorder {
  readonly runs = new Map<string, Run[]>();
  readonly events: EventEnvelope[] = [];
  /** key → number of attempts that must fail (overrides the payload's fail_times). */
  readonly failOverride = new Map<string, number>();

  record(key: string, ctx: JobContext): void {
    const list = this.runs.get(key) ?? [];
    list.push({ at: Date.now(), attempt: ctx.attempt, requestId: ctx.requestId, workspaceId: ctx.workspaceId, jobId: ctx.id });
    this.runs.set(key, list);
  }

  count(key: string): number {
    return this.runs.get(key)?.length ?? 0;
  }

  eventsWith(id: string): EventEnvelope[] {
    return this.events.filter((e) => e.id === id);
  }
}

@Injectable()
class TestHandlers {
  constructor(private readonly rec: JobRecorder) {}

  @JobHandler(flakyJob)
  async flaky(p: JobPayload<typeof flakyJob>, ctx: JobContext): Promise<{ ok: true }> {
    this.rec.record(p.key, ctx);
    if (p.permanent) throw new UnrecoverableError('permanent failure');
    const failTimes = this.rec.failOverride.get(p.key) ?? p.fail_times;
    if (ctx.attempt <= failTimes) throw new Error(`flaky failure ${ctx.attempt}`);
    return { ok: true };
  }

  @JobHandler(tickJob)
  async tick(p: JobPayload<typeof tickJob>, ctx: JobContext): Promise<void> {
    this.rec.record(p.key, ctx);
  }

  @OnEvent('lead.created')
  async onLeadCreated(event: EventEnvelope<'lead.created'>): Promise<void> {
    this.rec.events.push(event);
  }
}

/** A capture-like route: one transaction that "changes state" and emits lead.created. */
@Controller('__jobs_probe')
class JobsProbeController {
  constructor(@Inject(DRIZZLE) private readonly db: Db) {}

  @Public()
  @Post('emit')
  @HttpCode(201)
  async emit(@Body() body: { workspace_id: string }, @Headers('x-fail') fail?: string): Promise<{ event_id: string }> {
    return this.db.transaction(async (tx) => {
      const event_id = await emit(tx, body.workspace_id as WorkspaceId, 'lead.created', { lead_id: uuidv7(), source: 'api' });
      if (fail) throw new Error('rolled back after emit');
      return { event_id };
    });
  }
}

@Module({
  imports: [JobsModule.forFeature([flakyJob, tickJob])],
  controllers: [JobsProbeController],
  providers: [JobRecorder, TestHandlers],
})
export class TestJobsModule {}

/** Inserts a workspace row (events reference workspaces). */
export async function createWorkspace(db: Db, name = 'jobs test'): Promise<WorkspaceId> {
  const [row] = await db.insert(workspaces).values({ name }).returning({ id: workspaces.id });
  return row.id as WorkspaceId;
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Redis key prefix of its own, and a cleanup that deletes every key under it. */
export function redisPrefix(): string {
  return `sbtest${randomBytes(4).toString('hex')}:`;
}

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
