import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import type { AppDeps } from '../../src/app.module';
import { loadConfig, type AppConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { startRuntime, type Role, type Runtime } from '../../src/runtime';
import { createTestDatabase, postgresAvailable } from './postgres';

export type DbTarget = 'pglite' | 'postgres';

/** Database targets the suites run against: both by default, narrowed by TEST_DB_TARGETS. */
export async function dbTargets(): Promise<DbTarget[]> {
  const wanted = (process.env.TEST_DB_TARGETS ?? 'pglite,postgres').split(',').map((s) => s.trim()) as DbTarget[];
  const out: DbTarget[] = [];
  if (wanted.includes('pglite')) out.push('pglite');
  if (wanted.includes('postgres') && (await postgresAvailable())) out.push('postgres');
  return out;
}

export interface TestApp {
  target: DbTarget;
  config: AppConfig;
  runtime: Runtime;
  app: NestFastifyApplication;
  fastify: FastifyInstance;
  logLines: string[];
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

const TEST_SECRETS = {
  JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789abcdef',
  API_KEY_SALT: 'test-api-key-salt-0123456789abcdef0123456789abcd',
  WEBHOOK_SECRET: 'whsec_test_0123456789abcdef0123456789abcdef0123',
  ENCRYPTION_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
};

/**
 * Starts the real application on a fresh database of the given target: a temporary PGlite
 * folder or a new database on the test Postgres. Log lines are captured for assertions.
 */
export async function startTestApp(
  target: DbTarget,
  opts: {
    env?: Record<string, string>;
    role?: Role;
    listen?: boolean;
    logLevel?: string;
    extraImports?: AppDeps['extraImports'];
  } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbt-'));
  // Start from the migrated templates prepared once per run (test/support/global-setup.ts).
  const pgliteTemplate = inject('pgliteTemplateDir');
  if (target === 'pglite' && pgliteTemplate && fs.existsSync(pgliteTemplate)) {
    fs.cpSync(pgliteTemplate, path.join(dataDir, 'pglite'), { recursive: true });
  }
  const pgdb = target === 'postgres' ? await createTestDatabase('sb_test', inject('postgresTemplateDb')) : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    SWITCHBOARD_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: opts.logLevel ?? 'info',
    ...TEST_SECRETS,
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
    ...opts.env,
  });
  const logLines: string[] = [];
  // The production logger factory, so redaction is exercised; lines are captured for assertions.
  const appLogger: Logger = createLogger({
    level: config.LOG_LEVEL,
    destination: {
      write: (l: string) => {
        logLines.push(l);
        // TEST_APP_ERRORS=1 prints the app's error lines, to diagnose a 5xx seen in a test.
        if (process.env.TEST_APP_ERRORS && /"level":(50|60)/.test(l)) process.stderr.write(l);
      },
    },
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime(config, appLogger, {
      role: opts.role ?? 'api',
      listen: opts.listen ?? false,
      extraImports: opts.extraImports,
    });
  } catch (err) {
    await pgdb?.drop();
    throw err;
  }
  const app = runtime.app!;
  const fastify = app.getHttpAdapter().getInstance();
  let closed = false;
  return {
    target,
    config,
    runtime,
    app,
    fastify,
    logLines,
    inject: (o) => fastify.inject(o),
    async close() {
      if (closed) return;
      closed = true;
      await runtime.stop();
      await pgdb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
