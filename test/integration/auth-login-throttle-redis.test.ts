import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../support/postgres';
import { redisAvailable } from '../support/redis';
import { startTestApp, type TestApp } from '../support/test-app';

describe.runIf(await redisAvailable())('login throttling shared through Redis by two API processes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `sbtest${randomBytes(4).toString('hex')}:`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '4',
      LOGIN_MAX_FAILURES_PER_IP: '1000',
      RATE_LIMIT_MAX: '100000',
    };
    a = await startTestApp('pglite', { env });
    b = await startTestApp('pglite', { env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('counts failures for one account across both instances', async () => {
    const email = `victim-${randomBytes(4).toString('hex')}@example.com`;
    const attempt = (t: TestApp) =>
      t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'wrong-password-x' } });
    const statuses = [];
    for (const t of [a, b, a, b, a, b]) statuses.push((await attempt(t)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });
});
