import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, TEST_PASSWORD, uniqueEmail, type RegisteredUser } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

// Throttling is independent of the database: one target is enough.
describe('login throttling (memory store)', () => {
  let t: TestApp;
  let user: RegisteredUser;
  beforeAll(async () => {
    t = await startTestApp('pglite', {
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '5', RATE_LIMIT_MAX: '100000' },
    });
    user = await registerUser(t);
  });
  afterAll(() => t?.close());

  const login = (email: string, password: string) =>
    t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

  it('429 per account after repeated failures, even with the right password, then per IP', async () => {
    for (let i = 0; i < 3; i++) expect((await login(user.user.email, 'wrong-password-x')).statusCode).toBe(401);
    const blocked = await login(user.user.email, TEST_PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/problem\+json/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);

    // Other accounts from the same IP: two more failures reach the IP limit (5).
    expect((await login(uniqueEmail('a'), 'wrong-password-x')).statusCode).toBe(401);
    expect((await login(uniqueEmail('b'), 'wrong-password-x')).statusCode).toBe(401);
    expect((await login(uniqueEmail('c'), 'wrong-password-x')).statusCode).toBe(429);
  });
});
