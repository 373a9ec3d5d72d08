import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../support/postgres';
import { ProbeModule } from '../support/probe.module';
import { redisAvailable } from '../support/redis';
import { startTestApp, type TestApp } from '../support/test-app';

describe.runIf(await redisAvailable())('rate limit shared through Redis by two app instances', () => {
  const prefix = `sbtest${randomBytes(4).toString('hex')}:`;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_MAX: '4' };
    a = await startTestApp('pglite', { env, extraImports: [ProbeModule] });
    b = await startTestApp('pglite', { env, extraImports: [ProbeModule] });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('counts requests from both instances against one budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await a.inject({ url: '/api/v1/__probe/page' })).statusCode);
      statuses.push((await b.inject({ url: '/api/v1/__probe/page' })).statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBe(2);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
  });

  it('reports Redis in readiness', async () => {
    expect((await a.inject({ url: '/health/ready' })).json().checks.redis).toBe('ok');
  });
});
