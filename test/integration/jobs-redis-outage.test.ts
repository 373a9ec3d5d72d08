import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceId } from '../../src/auth/auth-context';
import { events } from '../../src/db/schema/events';
import { freePort } from '../support/own-postgres';
import { IN_CI } from '../support/postgres';
import { dbTargets } from '../support/test-app';
import { startJobsTestApp, type JobsTestApp } from './jobs-fixtures/backends';
import { JobRecorder, createWorkspace, sleep, waitFor } from './jobs-fixtures/test-jobs.module';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer) {
  if (IN_CI) throw new Error('CI=true but redis-server is not installed: the Redis outage test cannot run');
  console.warn('[skip] redis-server not installed; the Redis outage test is skipped');
}

/** A Redis server of our own (never the shared one), persisted with an fsync'd AOF so a restart keeps the queue. */
class OwnRedis {
  private child?: ChildProcess;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-redis-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /Ready to accept connections/.test(out), 10_000, `redis-server ready:\n${out}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Reliability row 21: Redis stopped for a while under load. Capture keeps answering 2xx (the
 * events go to Postgres only), the events wait in the outbox, and once Redis is back every one of
 * them is published and handled — nothing lost.
 */
const target = (await dbTargets()).includes('postgres') ? 'postgres' : 'pglite';

describe.runIf(hasRedisServer)('Redis stopped under load (row 21)', () => {
  let redis: OwnRedis;
  let t: JobsTestApp;
  let ws: WorkspaceId;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    t = await startJobsTestApp(
      { name: 'own redis', target, redis: true },
      { env: { REDIS_URL: redis.url, OUTBOX_POLL_INTERVAL_MS: '200', JOBS_CONCURRENCY: 'events=10' } },
    );
    ws = await createWorkspace(t.runtime.database.db);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.destroy();
  });

  it('keeps capturing while Redis is down and delivers every event after it returns', async () => {
    const rec = t.app.get(JobRecorder);
    const ids: string[] = [];
    const statuses: number[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        const res = await t.inject({ method: 'POST', url: '/api/v1/__jobs_probe/emit', payload: { workspace_id: ws } });
        statuses.push(res.statusCode);
        if (res.statusCode === 201) ids.push(res.json<{ event_id: string }>().event_id);
        await sleep(15);
      }
    })();
    const unpublished = async () =>
      (await t.runtime.database.db.select({ id: events.id }).from(events).where(isNull(events.publishedAt))).length;

    // Flowing normally.
    await waitFor(() => rec.events.length >= 20, 20_000, 'events flowing');
    // Redis goes away for a while; capture goes on.
    await redis.stop();
    const downAt = ids.length;
    await sleep(3000);
    expect(ids.length - downAt).toBeGreaterThan(20);
    expect(await unpublished()).toBeGreaterThan(10);
    // Redis comes back (same data folder); load goes on a little, then stops.
    await redis.start();
    await sleep(1000);
    loading = false;
    await load;

    expect(statuses.every((s) => s === 201)).toBe(true);
    await waitFor(async () => (await unpublished()) === 0, 30_000, 'outbox drained');
    const seen = new Set(rec.events.map((e) => e.id));
    await waitFor(
      () => {
        for (const e of rec.events) seen.add(e.id);
        return ids.every((id) => seen.has(id));
      },
      30_000,
      'every event handled',
    );
    expect(ids.length).toBeGreaterThan(60);
  });
});
