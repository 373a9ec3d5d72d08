import fs from 'node:fs';
import type { Job } from 'bullmq';
import { eq, inArray, isNull } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { events } from '../../src/db/schema/events';
import { EVENTS_QUEUE } from '../../src/events/event-jobs';
import { emit, emitMany } from '../../src/events/emit';
import { demoMailDir, demoWelcomeEmailJob } from '../../src/jobs/demo.jobs';
import type { JobEnvelope } from '../../src/jobs/job-definition';
import { JobsAdminService } from '../../src/jobs/jobs-admin.service';
import { JobsRuntime, STATIC_SCHEDULER_PREFIX } from '../../src/jobs/jobs.runtime';
import { JobsService } from '../../src/jobs/jobs.service';
import { QUEUE_BACKEND } from '../../src/jobs/jobs.tokens';
import type { QueueBackend } from '../../src/jobs/queue-backend';
import { backendCases, startJobsTestApp, type JobsTestApp } from './jobs-fixtures/backends';
import { JobRecorder, createWorkspace, flakyJob, sleep, tickJob, waitFor } from './jobs-fixtures/test-jobs.module';

/**
 * The job system's contract, run unchanged on every backend: BullMQ's Postgres backend on PGlite
 * and on PostgreSQL, and BullMQ on Redis.
 */
describe.each(await backendCases())('job contract: $name', (backend) => {
  let t: JobsTestApp;
  let jobs: JobsService;
  let admin: JobsAdminService;
  let rec: JobRecorder;
  let queues: QueueBackend;
  let ws: WorkspaceId;
  let other: WorkspaceId;
  let seed: { id: string; lead: string; enqueuedAt: number };

  const jobOf = async (queue: string, id: string) => (await queues.queue(queue).getJob(id)) as Job<JobEnvelope> | undefined;
  const stateOf = async (queue: string, id: string) => (await jobOf(queue, id))?.getState();

  beforeAll(async () => {
    t = await startJobsTestApp(backend);
    jobs = t.app.get(JobsService);
    admin = t.app.get(JobsAdminService);
    rec = t.app.get(JobRecorder);
    queues = t.app.get(QUEUE_BACKEND);
    ws = await createWorkspace(t.runtime.database.db);
    other = await createWorkspace(t.runtime.database.db, 'other');
    // The seed's example, as written: 5 s delay, 3 attempts, exponential backoff from 2 s. The demo
    // job fails its first attempt, so this also shows the backoff. It runs while the other tests do.
    const lead = uuidv7();
    seed = {
      lead,
      enqueuedAt: Date.now(),
      id: await jobs.enqueue(
        demoWelcomeEmailJob,
        { lead_id: lead, fail_attempts: 1 },
        { workspaceId: ws, delay: 5000, attempts: 3, backoff: { type: 'exponential', delay: 2000 } },
      ),
    };
  });
  afterAll(() => t?.close());

  it('uses the backend the configuration asks for', () => {
    expect(jobs.backendKind).toBe(backend.redis ? 'redis' : 'postgres');
    expect(t.runtime.worker?.jobs.isRunning).toBe(true);
  });

  it('keeps a delayed job delayed until its time', async () => {
    expect(await stateOf('default', seed.id)).toBe('delayed');
    expect(fs.existsSync(demoMailDir(t.config.dataDir))).toBe(false);
  });

  it('retries with exponential backoff, then succeeds', async () => {
    const key = `retry-${uuidv7()}`;
    await jobs.enqueue(flakyJob, { key, fail_times: 2 }, { workspaceId: ws, attempts: 5 });
    const runs = await waitFor(() => (rec.count(key) >= 3 ? rec.runs.get(key) : undefined), 15_000, 'three runs');
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // Backoff 100 ms then 200 ms, each with up to 50 % jitter taken off.
    expect(runs[1].at - runs[0].at).toBeGreaterThanOrEqual(45);
    expect(runs[2].at - runs[1].at).toBeGreaterThanOrEqual(95);
    const job = await waitFor(async () =>
      (await stateOf('test', runs[0].jobId)) === 'completed' ? jobOf('test', runs[0].jobId) : undefined,
    );
    expect(job.returnvalue).toEqual({ ok: true });
    await sleep(300);
    expect(rec.count(key)).toBe(3);
  });

  it('fails for good after the last attempt, shows the job as failed, and a retry runs it again', async () => {
    const key = `dead-${uuidv7()}`;
    const id = await jobs.enqueue(flakyJob, { key, fail_times: 99 }, { workspaceId: ws, attempts: 2 });
    await waitFor(async () => (await stateOf('test', id)) === 'failed', 15_000, 'failed state');
    expect(rec.count(key)).toBe(2);

    const page = await admin.list(ws, { queue: 'test', state: 'failed', limit: 50 });
    const view = page.data.find((j) => j.id === id);
    expect(view).toMatchObject({
      state: 'failed',
      attempts_made: 2,
      attempts_max: 2,
      last_error: 'flaky failure 2',
      workspace_id: ws,
    });
    expect((await admin.get(ws, 'test', id)).payload).toEqual({ key, fail_times: 99, permanent: false });
    // Another workspace sees nothing.
    await expect(admin.get(other, 'test', id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await admin.list(other, { queue: 'test', state: 'failed', limit: 50 })).data).toEqual([]);

    rec.failOverride.set(key, 0);
    const retried = await admin.retry(ws, 'test', id);
    expect(['waiting', 'active', 'completed', 'prioritized']).toContain(retried.state);
    await waitFor(async () => (await stateOf('test', id)) === 'completed', 15_000, 'completed after retry');
    expect(rec.count(key)).toBe(3);
    await expect(admin.retry(ws, 'test', id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('does not retry an UnrecoverableError', async () => {
    const key = `perm-${uuidv7()}`;
    const id = await jobs.enqueue(flakyJob, { key, permanent: true }, { workspaceId: ws, attempts: 5 });
    await waitFor(async () => (await stateOf('test', id)) === 'failed', 15_000, 'failed state');
    expect(rec.count(key)).toBe(1);
    expect((await admin.get(ws, 'test', id)).last_error).toBe('permanent failure');
  });

  it('fires a cron schedule until it is removed', async () => {
    const key = `cron-${uuidv7()}`;
    await jobs.schedule(tickJob, `tick-${key}`, { pattern: '* * * * * *' }, { key }, { workspaceId: ws });
    await waitFor(() => rec.count(key) >= 2, 6000, 'two ticks');
    expect(rec.runs.get(key)![0].workspaceId).toBe(ws);
    expect(await jobs.unschedule(tickJob, `tick-${key}`)).toBe(true);
    await sleep(300);
    const after = rec.count(key);
    await sleep(1500);
    expect(rec.count(key)).toBe(after);
  });

  it('keeps the schedules job definitions declare', async () => {
    const schedulers = await queues.queue('system').getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.id ?? s.key)).toContain(`${STATIC_SCHEDULER_PREFIX}system.outbox-prune`);
    await t.app.get(JobsRuntime).syncSchedules(); // idempotent
    expect(await queues.queue('system').getJobSchedulersCount()).toBe(schedulers.length);
  });

  it('deduplicates by job id', async () => {
    const key = `dup-${uuidv7()}`;
    const jobId = `dup-${uuidv7()}`;
    const a = await jobs.enqueue(flakyJob, { key }, { workspaceId: ws, jobId, delay: 300 });
    const b = await jobs.enqueue(flakyJob, { key }, { workspaceId: ws, jobId, delay: 300 });
    const [c] = await jobs.enqueueBulk(flakyJob, [{ payload: { key }, workspaceId: ws, jobId }]);
    expect(new Set([a, b, c])).toEqual(new Set([jobId]));
    await waitFor(() => rec.count(key) >= 1, 10_000, 'one run');
    await sleep(500);
    expect(rec.count(key)).toBe(1);
  });

  it('publishes a committed event once, as a job whose id is the event id', async () => {
    const lead = uuidv7();
    const id = await t.runtime.database.db.transaction((tx) =>
      emit(tx, ws, 'lead.created', { lead_id: lead, source: 'capture' }),
    );
    const [seen] = await waitFor(() => (rec.eventsWith(id).length ? rec.eventsWith(id) : undefined), 10_000, 'event delivered');
    expect(seen).toMatchObject({ id, type: 'lead.created', workspace_id: ws, payload: { lead_id: lead, source: 'capture' } });
    const [row] = await t.runtime.database.db.select().from(events).where(eq(events.id, id));
    expect(row.publishedAt).toBeInstanceOf(Date);
    expect(await jobOf(EVENTS_QUEUE, id)).toBeDefined();
    await sleep(300);
    expect(rec.eventsWith(id)).toHaveLength(1);
  });

  it('writes no event and runs no job when the transaction rolls back after emit', async () => {
    let emitted = '';
    await expect(
      t.runtime.database.db.transaction(async (tx) => {
        emitted = await emit(tx, ws, 'lead.created', { lead_id: uuidv7(), source: 'api' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    // A later event in the same order proves the relay has run past that point.
    const later = await t.runtime.database.db.transaction((tx) =>
      emit(tx, ws, 'lead.created', { lead_id: uuidv7(), source: 'api' }),
    );
    await waitFor(() => rec.eventsWith(later).length === 1, 10_000, 'later event');
    expect(await t.runtime.database.db.select().from(events).where(eq(events.id, emitted))).toEqual([]);
    expect(await jobOf(EVENTS_QUEUE, emitted)).toBeUndefined();
    expect(rec.eventsWith(emitted)).toEqual([]);
  });

  it('after a relay crash (batch claimed, or published but not marked) publishes each event exactly once', async () => {
    const db = t.runtime.database.db;
    // The state a relay leaves when it dies after claiming a batch, or after publishing it: rows
    // claimed for 1.5 s and not marked published, half of them already in the queue.
    const ids = await db.transaction(async (tx) => {
      const list = await emitMany(
        tx,
        ws,
        Array.from({ length: 20 }, () => ({
          type: 'lead.created' as const,
          payload: { lead_id: uuidv7(), source: 'import' as const },
        })),
      );
      await tx
        .update(events)
        .set({ claimedUntil: new Date(Date.now() + 1500) })
        .where(inArray(events.id, list));
      return list;
    });
    const rows = await db.select().from(events).where(inArray(events.id, ids));
    await queues.queue(EVENTS_QUEUE).addBulk(
      rows.slice(0, 10).map((r) => ({
        name: r.type,
        data: { workspace_id: r.workspaceId, request_id: null, payload: r.payload, occurred_at: r.occurredAt.toISOString() },
        opts: { jobId: r.id },
      })),
    );
    await waitFor(() => ids.every((id) => rec.eventsWith(id).length > 0), 15_000, 'all 20 events delivered');
    await waitFor(
      async () => (await db.select({ id: events.id }).from(events).where(isNull(events.publishedAt))).length === 0,
      10_000,
      'all marked published',
    );
    await sleep(500);
    for (const id of ids) expect(rec.eventsWith(id)).toHaveLength(1);
  });

  it("runs the seed's welcome-email example: after the 5 s delay, one failed attempt, backoff, one email", async () => {
    const job = await waitFor(
      async () => ((await stateOf('default', seed.id)) === 'completed' ? jobOf('default', seed.id) : undefined),
      20_000,
      'seed job completed',
    );
    expect(job.processedOn! - job.timestamp).toBeGreaterThanOrEqual(5000);
    expect(job.finishedOn! - seed.enqueuedAt).toBeGreaterThanOrEqual(5000 + 1000); // + backoff 2 s, up to 50 % jitter
    expect(job.stacktrace).toHaveLength(1);
    expect(job.returnvalue).toEqual({ sent: true });
    const files = fs.readdirSync(demoMailDir(t.config.dataDir)).filter((f) => f.startsWith(seed.lead));
    expect(files).toHaveLength(1);
  });
});
