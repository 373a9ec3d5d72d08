import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI } from '../support/postgres';
import { OwnPostgres } from '../support/own-postgres';
import { startTestApp, type TestApp } from '../support/test-app';

const canRun = OwnPostgres.available();
if (!canRun && IN_CI) throw new Error('CI=true but PostgreSQL server binaries (initdb, pg_ctl) are missing');
if (!canRun) console.warn('[skip] PostgreSQL server binaries not found; the outage test is skipped');

describe.runIf(canRun)('readiness follows Postgres availability (reliability row 22)', () => {
  let pg: OwnPostgres;
  let t: TestApp;
  beforeAll(async () => {
    pg = await OwnPostgres.create();
    t = await startTestApp('pglite', { env: { DATABASE_URL: pg.url } });
  });
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    pg?.destroy();
  });

  it('answers 503 while Postgres is down, liveness stays 200, and recovers without a restart', async () => {
    expect((await t.inject({ url: '/health/ready' })).statusCode).toBe(200);
    pg.stop('immediate'); // drops every pooled connection: the pool error handler must keep us alive
    const down = await t.inject({ url: '/health/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json().checks.database).toBe('down');
    expect(down.headers['retry-after']).toBeDefined();
    expect((await t.inject({ url: '/health/live' })).statusCode).toBe(200);
    pg.start();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await t.inject({ url: '/health/ready' })).statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});
