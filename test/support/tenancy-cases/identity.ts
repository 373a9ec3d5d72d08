import { expect } from 'vitest';
import { bearer, createApiKey, registerUser } from '../auth';
import { registerTenancyCase } from '../tenancy-routes';

// Cross-tenant cases of the identity area (issue 3). Other areas add their own files here.

registerTenancyCase({
  name: 'api key: read',
  method: 'GET',
  path: '/api/v1/api-keys/:id',
  create: async (t, b) => (await createApiKey(t, b.owner.access_token, ['leads:read'])).id,
});

registerTenancyCase({
  name: 'api key: revoke',
  method: 'DELETE',
  path: '/api/v1/api-keys/:id',
  create: async (t, b) => (await createApiKey(t, b.owner.access_token, ['leads:read'])).id,
  verifyUntouched: async (t, b, id) => {
    const res = await t.inject({ url: `/api/v1/api-keys/${id}`, headers: bearer(b.owner.access_token) });
    expect(res.statusCode).toBe(200);
  },
});

/** A second user who belongs to B only (and to their own workspace). */
async function memberOfB(t: Parameters<Parameters<typeof registerTenancyCase>[0]['create']>[0], ownerToken: string) {
  const u = await registerUser(t);
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/workspaces/current/members',
    headers: bearer(ownerToken),
    payload: { email: u.user.email, role: 'member' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return u.user.id;
}

registerTenancyCase({
  name: 'member: change role',
  method: 'PATCH',
  path: '/api/v1/workspaces/current/members/:id',
  userOnly: true,
  body: { role: 'admin' },
  create: (t, b) => memberOfB(t, b.owner.access_token),
  verifyUntouched: async (t, b, id) => {
    const res = await t.inject({ url: '/api/v1/workspaces/current/members?limit=200', headers: bearer(b.owner.access_token) });
    const m = res.json<{ data: Array<{ user_id: string; role: string }> }>().data.find((x) => x.user_id === id);
    expect(m?.role).toBe('member');
  },
});

registerTenancyCase({
  name: 'member: remove (B owner)',
  method: 'DELETE',
  path: '/api/v1/workspaces/current/members/:id',
  userOnly: true,
  create: async (_t, b) => b.owner.user.id,
  verifyUntouched: async (t, b) => {
    expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(b.owner.access_token) })).statusCode).toBe(200);
  },
});
