import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config';
import { openDatabase } from '../../src/db/database';
import { runMigrations } from '../../src/db/migrate';
import { createTestDatabase, postgresAvailable } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite folder that test apps copy instead of running initdb + migrations. */
    pgliteTemplateDir: string;
    /** A migrated database on the test Postgres used as CREATE DATABASE … TEMPLATE. */
    postgresTemplateDb: string | null;
  }
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Once per run: build the CLI (its tests run the built program) and prepare migrated
 * template databases, so each suite starts from a copy rather than from initdb + migrations.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', '@swc', 'cli', 'bin', 'swc.js'), 'src', '-d', 'dist', '--copy-files', '-q'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );

  const templateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tpl-'));
  const config = loadConfig({ NODE_ENV: 'test', SWITCHBOARD_DATA_DIR: templateDir });
  const embedded = await openDatabase(config, quietLog, { poolMax: 1 });
  await runMigrations(embedded.pool);
  await embedded.close();
  project.provide('pgliteTemplateDir', path.join(templateDir, 'pglite'));

  let pgTemplate: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  if (await postgresAvailable()) {
    pgTemplate = await createTestDatabase('sb_tpl');
    const external = await openDatabase(
      loadConfig({ NODE_ENV: 'test', SWITCHBOARD_DATA_DIR: templateDir, DATABASE_URL: pgTemplate.url }),
      quietLog,
      {
        poolMax: 1,
      },
    );
    await runMigrations(external.pool);
    await external.close();
  }
  project.provide('postgresTemplateDb', pgTemplate?.name ?? null);

  return async () => {
    fs.rmSync(templateDir, { recursive: true, force: true });
    await pgTemplate?.drop();
  };
}
