import fs from 'node:fs';
import type { Job } from 'bullmq';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { effects, events } from '../../src/db/schema/events';
import { EVENTS_QUEUE } from '../../src/events/event-jobs';
import { emitMany } from '../../src/events/emit';
import { demoMailDir, demoWelcomeEmailJob } from '../../src/jobs/demo.jobs';
import type { JobEnvelope } from '../../src/jobs/job-definition';
import { JobsService } from '../../src/jobs/jobs.service';
import { QUEUE_BACKEND } from '../../src/jobs/jobs.tokens';
import type { QueueBackend } from '../../src/jobs/queue-backend';
import { freePort } from '../support/own-postgres';
import { postgresAvailable } from '../support/postgres';
import { redisAvailable } from '../support/redis';
import { startJobsTestApp, type BackendCase, type JobsTestApp } from './jobs-fixtures/backends';
import { createWorkspace, sleep, waitFor } from './jobs-fixtures/test-jobs.module';
import { startWorkerProcess, type WorkerProcess } from './jobs-fixtures/worker-process';

/**
 * Reliability rows 19, 20 and 23 with real worker processes (`switchboard start --role worker`,
 * built by the global setup) killed the hard way. They share one PostgreSQL database with the
 * test, so they run on the real server (PGlite is one process by design).
 */
const backends: BackendCase[] = [];
if (await postgresAvailable()) {
  backends.push({ name: 'postgres backend', target: 'postgres', redis: false });
  if (await redisAvailable()) backends.push({ name: 'redis backend', target: 'postgres', redis: true });
}

describe.runIf(backends.length > 0).each(backends)('worker process faults: $name', (backend) => {
  let t: JobsTestApp;
  let jobs: JobsService;
  let queues: QueueBackend;
  let ws: WorkspaceId;
  const running: WorkerProcess[] = [];

  const spawnWorker = async (env: Record<string, string> = {}) => {
    const w = await startWorkerProcess(t, env);
    running.push(w);
    return w;
  };
  const job = async (id: string, queue = 'default') => (await queues.queue(queue).getJob(id)) as Job<JobEnvelope> | undefined;
  const allCompleted = async (ids: string[], queue = 'default') =>
    (await Promise.all(ids.map(async (id) => (await job(id, queue))?.getState()))).every((s) => s === 'completed');
  /** Emails written per lead (the demo job's effect). */
  const mailsFor = (lead: string) => {
    const dir = demoMailDir(t.config.dataDir);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(lead)).length : 0;
  };
  const effectsDone = async (leads: string[]) =>
    (
      await t.runtime.database.db
        .select({ subject: effects.subject })
        .from(effects)
        .where(and(eq(effects.kind, 'demo.welcome-email'), eq(effects.state, 'done'), inArray(effects.subject, leads)))
    ).length;
  const enqueueDemo = async (n: number, work_ms: number) => {
    const leads = Array.from({ length: n }, () => uuidv7());
    const ids = await jobs.enqueueBulk(
      demoWelcomeEmailJob,
      leads.map((lead_id) => ({ payload: { lead_id, work_ms }, workspaceId: ws, delay: 0 })),
    );
    return { leads, ids };
  };

  beforeAll(async () => {
    t = await startJobsTestApp(backend, { role: 'api' });
    jobs = t.app.get(JobsService);
    queues = t.app.get(QUEUE_BACKEND);
    ws = await createWorkspace(t.runtime.database.db);
  });
  afterEach(async () => {
    for (const w of running.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    }
  });
  afterAll(() => t?.close());

  it('row 19: a worker SIGKILLed mid-job — the job runs again elsewhere and the email is sent once', async () => {
    const { leads, ids } = await enqueueDemo(4, 4000);
    const a = await spawnWorker();
    // Each job has sent its email, recorded the effect, and is now "working" (work_ms): kill it there.
    await waitFor(async () => (await effectsDone(leads)) === leads.length, 30_000, 'four emails recorded');
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();
    expect(await allCompleted(ids)).toBe(false);

    await spawnWorker();
    await waitFor(() => allCompleted(ids), 40_000, 'jobs completed by the second worker');
    for (const id of ids) {
      const done = (await job(id))!;
      // The re-run found the effect recorded and did not send again.
      expect(done.returnvalue).toEqual({ sent: false });
    }
    for (const lead of leads) expect(mailsFor(lead)).toBe(1);
  });

  it('row 23: SIGTERM with jobs in flight — they finish within the grace period, the rest wait for another worker', async () => {
    const { leads, ids } = await enqueueDemo(6, 1500);
    const healthPort = await freePort();
    const a = await spawnWorker({
      JOBS_CONCURRENCY: 'default=3',
      SHUTDOWN_GRACE_MS: '15000',
      WORKER_HEALTH_PORT: String(healthPort),
    });
    expect((await fetch(`http://127.0.0.1:${healthPort}/health/ready`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text()).toContain('jobs_queue_depth');
    await waitFor(() => leads.filter((l) => mailsFor(l) === 1).length >= 3, 30_000, 'three jobs in flight');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const finishedByA = (await Promise.all(ids.map(async (id) => ((await job(id))?.finishedOn ? [id] : [])))).flat();
    expect(finishedByA.length).toBeGreaterThanOrEqual(3);
    expect(a.output()).not.toMatch(/grace period over/);

    await spawnWorker();
    await waitFor(() => allCompleted(ids), 40_000, 'all six completed');
    for (const lead of leads) expect(mailsFor(lead)).toBe(1);
    for (const id of finishedByA) expect((await job(id))!.returnvalue).toEqual({ sent: true });
  });

  it('row 23: SIGTERM when jobs outlast the grace period — they are abandoned and run again, none lost', async () => {
    const { leads, ids } = await enqueueDemo(3, 5000);
    const a = await spawnWorker({ JOBS_CONCURRENCY: 'default=3', SHUTDOWN_GRACE_MS: '500' });
    await waitFor(async () => (await effectsDone(leads)) === leads.length, 30_000, 'three jobs in flight');
    const stopAt = Date.now();
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(4500);
    expect(a.output()).toMatch(/grace period over/);
    expect(await allCompleted(ids)).toBe(false);

    await spawnWorker();
    await waitFor(() => allCompleted(ids), 40_000, 'jobs re-run to completion');
    for (const id of ids) expect((await job(id))!.returnvalue).toEqual({ sent: false });
    for (const lead of leads) expect(mailsFor(lead)).toBe(1);
  });

  it('row 20: the relay process killed while events are being written — every event is published exactly once after a restart', async () => {
    const db = t.runtime.database.db;
    const ids: string[] = [];
    const write = async (batches: number) => {
      for (let i = 0; i < batches; i++) {
        ids.push(
          ...(await db.transaction((tx) =>
            emitMany(
              tx,
              ws,
              Array.from({ length: 5 }, () => ({
                type: 'lead.created' as const,
                payload: { lead_id: uuidv7(), source: 'capture' as const },
              })),
            ),
          )),
        );
        await sleep(10);
      }
    };
    const a = await spawnWorker();
    const writing = write(40);
    await waitFor(async () => ids.length >= 60, 20_000, 'some events written');
    a.child.kill('SIGKILL');
    await a.exited;
    await writing;
    await write(10);
    expect(ids).toHaveLength(250);

    await spawnWorker();
    await waitFor(
      async () => (await db.select({ id: events.id }).from(events).where(isNull(events.publishedAt))).length === 0,
      40_000,
      'outbox drained',
    );
    await waitFor(() => allCompleted(ids, EVENTS_QUEUE), 40_000, 'every event job completed');
    const jobsById = await Promise.all(ids.map((id) => job(id, EVENTS_QUEUE)));
    expect(jobsById.map((j) => j?.id)).toEqual(ids);
    expect(jobsById.every((j) => j!.name === 'lead.created')).toBe(true);
  });
});
