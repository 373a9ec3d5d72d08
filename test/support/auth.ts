import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './test-app';

/** Helpers for HTTP tests that need a signed-in user or an API key. */

export interface RegisteredUser {
  access_token: string;
  refresh_token: string;
  user: { id: string; email: string; name: string; created_at: string };
  workspace: { id: string; name: string; role: 'owner' | 'admin' | 'member' };
  /** The password used, so tests can log in again. */
  password: string;
}

export const TEST_PASSWORD = 'correct-horse-battery-staple';

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** `{ authorization: 'Bearer <token>' }` for `t.inject({ headers })`; works for JWTs and API keys. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * Registers a new user with their own new workspace (they are its owner). Each call costs one
 * argon2id hash (~50 ms): share users across the tests of a file where you can.
 */
export async function registerUser(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; name: string; workspace_name: string }> = {},
): Promise<RegisteredUser> {
  const password = overrides.password ?? TEST_PASSWORD;
  const payload = {
    email: overrides.email ?? uniqueEmail(),
    password,
    name: overrides.name ?? 'Test User',
    workspace_name: overrides.workspace_name ?? 'Test Workspace',
  };
  const res = await t.inject({ method: 'POST', url: '/api/v1/auth/register', payload });
  expect(res.statusCode, res.body).toBe(201);
  return { ...res.json<Omit<RegisteredUser, 'password'>>(), password };
}

/**
 * Creates an API key in the workspace of `accessToken` and returns its id and full key.
 * `scopes: ['leads:capture']` makes a publishable key.
 */
export async function createApiKey(
  t: TestApp,
  accessToken: string,
  scopes: string[],
  opts: { name?: string; expires_at?: string; allowed_origins?: string[] } = {},
): Promise<{ id: string; key: string }> {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/api-keys',
    headers: bearer(accessToken),
    payload: { name: opts.name ?? 'test key', scopes, ...opts },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json<{ id: string; key: string }>();
  return { id: body.id, key: body.key };
}

/**
 * Adds a fresh user to `owner`'s workspace with the given role and returns that user's session
 * in that workspace (for "a member may not …" tests).
 */
export async function addMember(t: TestApp, owner: RegisteredUser, role: 'admin' | 'member'): Promise<RegisteredUser> {
  const other = await registerUser(t, { workspace_name: 'Own workspace' });
  const added = await t.inject({
    method: 'POST',
    url: '/api/v1/workspaces/current/members',
    headers: bearer(owner.access_token),
    payload: { email: other.user.email, role },
  });
  expect(added.statusCode, added.body).toBe(201);
  const switched = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/switch-workspace',
    headers: bearer(other.access_token),
    payload: { workspace_id: owner.workspace.id },
  });
  expect(switched.statusCode, switched.body).toBe(200);
  return { ...switched.json<Omit<RegisteredUser, 'password'>>(), password: other.password };
}
