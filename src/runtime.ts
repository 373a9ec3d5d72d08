import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppDeps } from './app.module';
import type { AppConfig } from './config/config';
import { openDatabase, type Database } from './db/database';
import { runMigrations } from './db/migrate';
import { printFirstRunHint } from './auth/first-run';
import { createHttpApp } from './http/create-app';
import { startWorkerRole, type WorkerRole } from './jobs/jobs.role';
import { OPENAPI_JSON_PATH, DOCS_PATH } from './http/openapi';
import { Lifecycle } from './observability/lifecycle';

export type Role = 'all' | 'api' | 'worker';
export const ROLES: Role[] = ['all', 'api', 'worker'];

export interface Runtime {
  app?: NestFastifyApplication;
  /** Workers, outbox relay and scheduler (roles `worker` and `all`; see src/jobs/jobs.role.ts). */
  worker?: WorkerRole;
  database: Database;
  redis: Redis | null;
  url?: string;
  stop(): Promise<void>;
}

export function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    // Fail fast while Redis is away: callers (rate limit, readiness) degrade instead of hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  let lastLogged = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      log.warn({ err: { message: err.message } }, 'redis unavailable');
    }
  });
  return redis;
}

/** Opens the database (and Redis), migrates, and starts what the role asks for. */
export async function startRuntime(
  config: AppConfig,
  log: Logger,
  opts: { role: Role; listen?: boolean; extraImports?: AppDeps['extraImports'] },
): Promise<Runtime> {
  if (config.generatedSecrets.length) {
    log.warn(
      { secrets: config.generatedSecrets, file: `${config.dataDir}/secrets.json` },
      'generated secrets and stored them in the data folder; set them explicitly in production',
    );
  }
  const database = await openDatabase(config, log);
  const redis = config.REDIS_URL ? createRedis(config.REDIS_URL, log) : null;
  try {
    if (config.MIGRATE_ON_START) await runMigrations(database.pool);
    let app: NestFastifyApplication | undefined;
    let url: string | undefined;
    if (opts.role === 'all' || opts.role === 'api') {
      app = await createHttpApp({ config, database, redis, logger: log, extraImports: opts.extraImports });
      if (opts.listen !== false) {
        await app.listen({ port: config.PORT, host: config.HOST });
        const address = app.getHttpServer().address();
        const port = typeof address === 'object' && address ? address.port : config.PORT;
        const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
        url = config.PUBLIC_URL ?? `http://${host}:${port}`;
      }
    }
    const worker = await startJobsIfRole(
      opts.role,
      { config, database, redis, logger: log, extraImports: opts.extraImports },
      app,
    );
    let stopping: Promise<void> | undefined;
    const runtime: Runtime = {
      app,
      worker,
      database,
      redis,
      url,
      // Idempotent: a signal handler and a caller may both stop the runtime.
      stop() {
        stopping ??= (async () => {
          if (app) {
            app.get(Lifecycle).beginShutdown();
            await app.close();
          }
          await worker?.stop();
          if (redis) await redis.quit().catch(() => redis.disconnect());
          await database.close();
        })();
        return stopping;
      },
    };
    if (url)
      log.info(
        { url, docs: `${url}${DOCS_PATH}`, openapi: `${url}${OPENAPI_JSON_PATH}`, mode: config.mode, role: opts.role },
        `Switchboard listening on ${url} — API docs at ${url}${DOCS_PATH}`,
      );
    // Identity (issue 3): on a fresh database, say how to create the first user.
    if (url) await printFirstRunHint(database, log, url);
    return runtime;
  } catch (err) {
    redis?.disconnect();
    await database.close();
    throw err;
  }
}

/** Roles `worker` and `all` run the job side; `api` never does (issue 4). */
async function startJobsIfRole(role: Role, deps: AppDeps, app?: NestFastifyApplication): Promise<WorkerRole | undefined> {
  if (role === 'api') return undefined;
  try {
    return await startWorkerRole(deps, app);
  } catch (err) {
    await app?.close().catch(() => undefined);
    throw err;
  }
}
