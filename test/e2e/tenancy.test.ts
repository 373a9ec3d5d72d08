import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_KEY_SCOPES } from '../../src/auth/scopes';
import { bearer, createApiKey, registerUser } from '../support/auth';
import { loadTenancyCases, type TenantAuth } from '../support/tenancy-routes';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

/**
 * Reliability row 1: workspace A reads, patches or deletes B's resources by id → 404, nothing
 * leaked. Table-driven: every case registered in test/support/tenancy-cases/ runs here.
 */
const cases = await loadTenancyCases();

async function tenant(t: TestApp, name: string): Promise<TenantAuth> {
  const owner = await registerUser(t, { workspace_name: name });
  const { key } = await createApiKey(t, owner.access_token, [...SECRET_KEY_SCOPES], { name: `${name} all scopes` });
  return { owner, workspaceId: owner.workspace.id, apiKey: key };
}

describe.each(await dbTargets())('cross-tenant isolation (%s)', (target) => {
  let t: TestApp;
  let a: TenantAuth;
  let b: TenantAuth;
  beforeAll(async () => {
    t = await startTestApp(target, { env: { RATE_LIMIT_MAX: '100000' } });
    a = await tenant(t, 'Workspace A');
    b = await tenant(t, 'Workspace B');
  });
  afterAll(() => t?.close());

  it('has cases registered', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  it.each(cases.map((c) => [`${c.method} ${c.path} — ${c.name}`, c] as const))('%s → 404 for A', async (_label, c) => {
    const id = await c.create(t, b);
    const url = c.path.replace(':id', encodeURIComponent(id));
    for (const [who, headers] of [
      ['user of A', bearer(a.owner.access_token)],
      ['API key of A', { 'x-api-key': a.apiKey }],
    ] as const) {
      const res = await t.inject({
        method: c.method,
        url,
        headers,
        ...(c.body !== undefined ? { payload: c.body as object } : {}),
      });
      const expected = who === 'API key of A' && c.userOnly ? 403 : 404;
      expect(res.statusCode, `${who}: ${res.body}`).toBe(expected);
      expect(res.body).not.toContain(b.workspaceId);
    }
    await c.verifyUntouched?.(t, b, id);
  });
});
