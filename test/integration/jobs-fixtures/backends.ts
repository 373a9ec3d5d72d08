import type { Role } from '../../../src/runtime';
import { TEST_REDIS_URL } from '../../support/postgres';
import { redisAvailable } from '../../support/redis';
import { dbTargets, startTestApp, type DbTarget, type TestApp } from '../../support/test-app';
import { TestJobsModule, deleteRedisPrefix, redisPrefix } from './test-jobs.module';

/** One way to run the queue: BullMQ's Postgres backend (on PGlite or PostgreSQL) or Redis. */
export interface BackendCase {
  name: string;
  target: DbTarget;
  redis: boolean;
}

/**
 * The contract suite's matrix: the Postgres backend on every database target, and the Redis
 * backend (on PostgreSQL when available, else PGlite). Targets that are unavailable are skipped
 * visibly by the helpers (and fail under CI=true).
 */
export async function backendCases(): Promise<BackendCase[]> {
  const targets = await dbTargets();
  const cases: BackendCase[] = targets.map((target) => ({ name: `postgres backend on ${target}`, target, redis: false }));
  if (await redisAvailable()) {
    const target: DbTarget = targets.includes('postgres') ? 'postgres' : 'pglite';
    cases.push({ name: `redis backend (${target} database)`, target, redis: true });
  }
  return cases;
}

/** Short timings so the suites stay fast: backoff, polling, locks and stalled checks. */
export const FAST_JOB_ENV: Record<string, string> = {
  JOBS_BACKOFF_DELAY_MS: '50',
  OUTBOX_POLL_INTERVAL_MS: '300',
  JOBS_LOCK_DURATION_MS: '2000',
  JOBS_STALLED_INTERVAL_MS: '1000',
  RATE_LIMIT_MAX: '100000',
};

export interface JobsTestApp extends TestApp {
  backend: BackendCase;
}

/** Starts the app (role `all` unless told) with the test jobs on the given backend. */
export async function startJobsTestApp(
  backend: BackendCase,
  opts: { role?: Role; env?: Record<string, string>; listen?: boolean; logLevel?: string } = {},
): Promise<JobsTestApp> {
  const prefix = redisPrefix();
  const env = {
    ...FAST_JOB_ENV,
    ...(backend.redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    ...opts.env,
  };
  const t = await startTestApp(backend.target, {
    role: opts.role ?? 'all',
    env,
    listen: opts.listen,
    logLevel: opts.logLevel,
    extraImports: [TestJobsModule],
  });
  const close = t.close.bind(t);
  return {
    ...t,
    backend,
    async close() {
      await close();
      if (backend.redis) await deleteRedisPrefix(env.REDIS_URL ?? TEST_REDIS_URL, env.REDIS_KEY_PREFIX ?? prefix);
    },
  };
}
