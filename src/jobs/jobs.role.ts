import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule, type AppDeps } from '../app.module';
import { Lifecycle } from '../observability/lifecycle';
import { MetricsService } from '../observability/metrics';
import { PinoNestLogger } from '../observability/nest-logger';
import { JobsRuntime } from './jobs.runtime';
import { startWorkerHealthServer } from './worker-health';

/** What `--role worker|all` adds to a process: workers, outbox relay and scheduler. */
export interface WorkerRole {
  /** The Nest context the handlers live in (the HTTP app's for role `all`). */
  context: INestApplicationContext;
  jobs: JobsRuntime;
  /** Port of the worker health server (role `worker` with WORKER_HEALTH_PORT). */
  healthPort?: number;
  /** Stops the worker-only context (role `worker`); with role `all` the app's close does it. */
  stop(): Promise<void>;
}

/**
 * Starts the job side of a process. With `app` (role `all`) the workers run inside the HTTP
 * app's context and stop when it closes (jobs first, within SHUTDOWN_GRACE_MS). Without (role
 * `worker`) a Nest application context without HTTP server is created for the handlers, and a
 * small health/metrics server is started when WORKER_HEALTH_PORT is set.
 */
export async function startWorkerRole(deps: AppDeps, app?: INestApplicationContext): Promise<WorkerRole> {
  if (app) {
    const jobs = app.get(JobsRuntime);
    await jobs.start();
    return { context: app, jobs, stop: async () => undefined };
  }
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(deps), {
    bufferLogs: true,
    abortOnError: false,
  });
  let health: Awaited<ReturnType<typeof startWorkerHealthServer>> | undefined;
  try {
    context.useLogger(new PinoNestLogger(deps.logger));
    await context.init();
    const jobs = context.get(JobsRuntime);
    await jobs.start();
    if (deps.config.WORKER_HEALTH_PORT !== undefined) {
      health = await startWorkerHealthServer(
        {
          database: deps.database,
          redis: deps.redis,
          registry: context.get(MetricsService).registry,
          isRunning: () => jobs.isRunning,
        },
        deps.config.WORKER_HEALTH_PORT,
        deps.config.HOST,
      );
      deps.logger.info({ port: health.port }, 'worker health and metrics listening');
    }
    return {
      context,
      jobs,
      healthPort: health?.port,
      async stop() {
        context.get(Lifecycle).beginShutdown();
        // Jobs stop first (beforeApplicationShutdown); the health server answers until the end.
        await context.close();
        await health?.close();
      },
    };
  } catch (err) {
    await health?.close();
    await context.close().catch(() => undefined);
    throw err;
  }
}
