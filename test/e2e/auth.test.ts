import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyUsage } from '../../src/auth/api-keys/api-key-usage';
import { addMember, bearer, createApiKey, registerUser, TEST_PASSWORD, uniqueEmail, type RegisteredUser } from '../support/auth';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

describe.each(await dbTargets())('identity flows (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  beforeAll(async () => {
    t = await startTestApp(target, { env: { RATE_LIMIT_MAX: '100000' } });
    owner = await registerUser(t, { email: uniqueEmail('owner'), name: 'Olive Owner', workspace_name: 'Acme' });
  });
  afterAll(() => t?.close());

  const query = (sql: string, params: unknown[] = []) => t.runtime.database.pool.query(sql, params);

  describe('register', () => {
    it('returns the user, the workspace (owner) and a token pair', () => {
      expect(owner.user).toMatchObject({ name: 'Olive Owner' });
      expect(owner.workspace).toMatchObject({ name: 'Acme', role: 'owner' });
      expect(owner.access_token.split('.')).toHaveLength(3);
      expect(owner.refresh_token).toMatch(/^sbr_/);
    });

    it('answers 409 for a duplicate email, whatever its case and spacing', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: `  ${owner.user.email.toUpperCase()} `, password: TEST_PASSWORD, name: 'X', workspace_name: 'Y' },
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('conflict');
    });

    it('refuses short passwords and unknown properties with 400', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: uniqueEmail(), password: 'short', name: 'X', workspace_name: 'Y', role: 'owner' },
      });
      expect(res.statusCode).toBe(400);
      expect(
        res
          .json()
          .errors.map((e: { path: string }) => e.path)
          .sort(),
      ).toEqual(['password', 'role']);
    });

    it('answers a 1 MB password with a fast 400 (reliability row 9), on register and login', async () => {
      const huge = 'p'.repeat(1_000_000);
      for (const [url, payload] of [
        ['/api/v1/auth/register', { email: uniqueEmail(), password: huge, name: 'X', workspace_name: 'Y' }],
        ['/api/v1/auth/login', { email: owner.user.email, password: huge }],
      ] as const) {
        const started = performance.now();
        const res = await t.inject({ method: 'POST', url, payload });
        expect(res.statusCode).toBe(400);
        expect(performance.now() - started).toBeLessThan(1000);
      }
    });
  });

  describe('login', () => {
    it('signs in with the right password (email case-insensitive)', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: owner.user.email.toUpperCase(), password: TEST_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ user: { id: owner.user.id }, workspace: { id: owner.workspace.id, role: 'owner' } });
    });

    it('answers wrong email and wrong password with the same 401', async () => {
      const bodies = [];
      for (const payload of [
        { email: owner.user.email, password: 'wrong-password-123' },
        { email: uniqueEmail('nobody'), password: TEST_PASSWORD },
      ]) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload,
          headers: { 'x-request-id': 'login-x' },
        });
        expect(res.statusCode).toBe(401);
        bodies.push(res.body);
      }
      expect(bodies[0]).toBe(bodies[1]);
    });
  });

  describe('sessions', () => {
    it('rotates refresh tokens and revokes the whole family when a spent one is reused', async () => {
      const login = (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: owner.user.email, password: TEST_PASSWORD },
        })
      ).json<RegisteredUser>();
      const first = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: login.refresh_token },
      });
      expect(first.statusCode).toBe(200);
      const rotated = first.json<RegisteredUser>();
      expect(rotated.refresh_token).not.toBe(login.refresh_token);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(rotated.access_token) })).statusCode).toBe(200);

      // The spent token is presented again (stolen copy): 401, and the family is gone.
      const reuse = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: login.refresh_token },
      });
      expect(reuse.statusCode).toBe(401);
      const next = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: rotated.refresh_token },
      });
      expect(next.statusCode).toBe(401);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(rotated.access_token) })).statusCode).toBe(401);
      // Other sessions of the same user are unaffected.
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(owner.access_token) })).statusCode).toBe(200);
    });

    it('two concurrent refreshes with one token: exactly one wins', async () => {
      const s = (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: owner.user.email, password: TEST_PASSWORD },
        })
      ).json<RegisteredUser>();
      const refresh = () =>
        t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: s.refresh_token } });
      const results = await Promise.all([refresh(), refresh()]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    });

    it('answers an unknown refresh token with 401', async () => {
      const res = await t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: 'sbr_nope' } });
      expect(res.statusCode).toBe(401);
    });

    it('logout ends the session: its access and refresh tokens stop working', async () => {
      const s = (
        await t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: owner.user.email, password: TEST_PASSWORD },
        })
      ).json<RegisteredUser>();
      const out = await t.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(s.access_token) });
      expect(out.statusCode).toBe(204);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(s.access_token) })).statusCode).toBe(401);
      const refresh = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: s.refresh_token },
      });
      expect(refresh.statusCode).toBe(401);
    });

    it('stores refresh tokens hashed', async () => {
      const { rows } = await query('select token_hash from refresh_tokens');
      expect(rows.length).toBeGreaterThan(0);
      const all = JSON.stringify(rows);
      expect(all).not.toContain(owner.refresh_token);
      expect(all).not.toContain(owner.refresh_token.slice(4));
    });
  });

  describe('me, members and switch-workspace', () => {
    let admin: RegisteredUser;
    let member: RegisteredUser;
    beforeAll(async () => {
      admin = await addMember(t, owner, 'admin');
      member = await addMember(t, owner, 'member');
    });

    it('me shows the user, current workspace, role, scopes and memberships', async () => {
      const me = (await t.inject({ url: '/api/v1/auth/me', headers: bearer(member.access_token) })).json();
      expect(me).toMatchObject({
        kind: 'user',
        user: { id: member.user.id },
        workspace: { id: owner.workspace.id },
        role: 'member',
      });
      expect(me.scopes).toContain('leads:write');
      expect(me.scopes).not.toContain('keys:manage');
      expect(me.workspaces.map((w: { id: string }) => w.id)).toContain(owner.workspace.id);
      expect(me.workspaces).toHaveLength(2);
    });

    it('switch-workspace gives tokens for another membership and 404 for a foreign workspace', async () => {
      const me = (await t.inject({ url: '/api/v1/auth/me', headers: bearer(member.access_token) })).json();
      const own = me.workspaces.find((w: { id: string }) => w.id !== owner.workspace.id);
      const switched = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-workspace',
        headers: bearer(member.access_token),
        payload: { workspace_id: own.id },
      });
      expect(switched.statusCode).toBe(200);
      expect(switched.json().workspace).toEqual({ id: own.id, name: own.name, role: 'owner' });
      const there = await t.inject({ url: '/api/v1/auth/me', headers: bearer(switched.json().access_token) });
      expect(there.json()).toMatchObject({ workspace: { id: own.id }, role: 'owner' });
      const stranger = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-workspace',
        headers: bearer(member.access_token),
        payload: { workspace_id: '01900000-0000-7000-8000-000000000000' },
      });
      expect(stranger.statusCode).toBe(404);
      const byKey = await t.inject({
        method: 'POST',
        url: '/api/v1/auth/switch-workspace',
        headers: bearer((await createApiKey(t, owner.access_token, ['leads:read'])).key),
        payload: { workspace_id: own.id },
      });
      expect(byKey.statusCode).toBe(403);
    });

    it('lists members; owners and admins manage them; members get 403', async () => {
      const list = await t.inject({ url: '/api/v1/workspaces/current/members', headers: bearer(admin.access_token) });
      expect(list.statusCode).toBe(200);
      const roles = Object.fromEntries(list.json().data.map((m: { user_id: string; role: string }) => [m.user_id, m.role]));
      expect(roles).toEqual({ [owner.user.id]: 'owner', [admin.user.id]: 'admin', [member.user.id]: 'member' });
      const byMember = await t.inject({
        method: 'PATCH',
        url: `/api/v1/workspaces/current/members/${member.user.id}`,
        headers: bearer(member.access_token),
        payload: { role: 'admin' },
      });
      expect(byMember.statusCode).toBe(403);
    });

    it('admins cannot touch ownership; the last owner cannot leave', async () => {
      const promote = await t.inject({
        method: 'PATCH',
        url: `/api/v1/workspaces/current/members/${member.user.id}`,
        headers: bearer(admin.access_token),
        payload: { role: 'owner' },
      });
      expect(promote.statusCode).toBe(403);
      const removeOwner = await t.inject({
        method: 'DELETE',
        url: `/api/v1/workspaces/current/members/${owner.user.id}`,
        headers: bearer(admin.access_token),
      });
      expect(removeOwner.statusCode).toBe(403);
      const demoteSelf = await t.inject({
        method: 'PATCH',
        url: `/api/v1/workspaces/current/members/${owner.user.id}`,
        headers: bearer(owner.access_token),
        payload: { role: 'admin' },
      });
      expect(demoteSelf.statusCode).toBe(409);
    });

    it('adding an unknown email → 404, an existing member → 409; a removed member loses access at once', async () => {
      const unknown = await t.inject({
        method: 'POST',
        url: '/api/v1/workspaces/current/members',
        headers: bearer(owner.access_token),
        payload: { email: uniqueEmail('ghost') },
      });
      expect(unknown.statusCode).toBe(404);
      const again = await t.inject({
        method: 'POST',
        url: '/api/v1/workspaces/current/members',
        headers: bearer(owner.access_token),
        payload: { email: member.user.email, role: 'member' },
      });
      expect(again.statusCode).toBe(409);
      const promoted = await t.inject({
        method: 'PATCH',
        url: `/api/v1/workspaces/current/members/${member.user.id}`,
        headers: bearer(admin.access_token),
        payload: { role: 'admin' },
      });
      expect(promoted.statusCode).toBe(200);
      // The new role applies to the existing token right away (roles are read per request).
      const me = await t.inject({ url: '/api/v1/auth/me', headers: bearer(member.access_token) });
      expect(me.json().role).toBe('admin');
      const removed = await t.inject({
        method: 'DELETE',
        url: `/api/v1/workspaces/current/members/${member.user.id}`,
        headers: bearer(owner.access_token),
      });
      expect(removed.statusCode).toBe(204);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(member.access_token) })).statusCode).toBe(401);
    });
  });

  describe('API keys (reliability row 8)', () => {
    it('shows the full key once; lists and reads never return it; the database holds only a hash', async () => {
      const created = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(owner.access_token),
        payload: { name: 'CRM sync', scopes: ['leads:read', 'leads:write'] },
      });
      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body).toMatchObject({ name: 'CRM sync', kind: 'secret', scopes: ['leads:read', 'leads:write'], last_used_at: null });
      expect(body.key).toMatch(/^sb_sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(body.key.startsWith(`${body.prefix}_`)).toBe(true);
      const secret = body.key.slice(body.prefix.length + 1);

      const list = await t.inject({ url: '/api/v1/api-keys', headers: bearer(owner.access_token) });
      const one = await t.inject({ url: `/api/v1/api-keys/${body.id}`, headers: bearer(owner.access_token) });
      for (const res of [list, one]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(secret);
        expect(res.body).not.toContain('"key"');
      }
      expect(list.json().data.some((k: { id: string }) => k.id === body.id)).toBe(true);

      const dump =
        JSON.stringify((await query('select * from api_keys')).rows) +
        JSON.stringify((await query('select * from idempotency_keys')).rows);
      expect(dump).not.toContain(secret);
      const users = JSON.stringify((await query('select * from users')).rows);
      expect(users).not.toContain(TEST_PASSWORD);
      const { rows } = await query('select password_hash from users where id = $1', [owner.user.id]);
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });

    it('records last_used_at in batches, not per request', async () => {
      const { id, key } = await createApiKey(t, owner.access_token, ['leads:read']);
      for (let i = 0; i < 3; i++) expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(key) })).statusCode).toBe(200);
      const before = await query('select last_used_at from api_keys where id = $1', [id]);
      expect(before.rows[0].last_used_at).toBeNull();
      await t.app.get(ApiKeyUsage).flush();
      const after = await query('select last_used_at from api_keys where id = $1', [id]);
      expect(after.rows[0].last_used_at).toBeInstanceOf(Date);
    });

    it('validates scopes: publishable only alone, origins only for publishable, no escalation', async () => {
      const mixed = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(owner.access_token),
        payload: { name: 'x', scopes: ['leads:capture', 'leads:read'] },
      });
      expect(mixed.statusCode).toBe(400);
      const origins = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(owner.access_token),
        payload: { name: 'x', scopes: ['leads:read'], allowed_origins: ['https://a.example'] },
      });
      expect(origins.statusCode).toBe(400);
      const badOrigin = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(owner.access_token),
        payload: { name: 'x', scopes: ['leads:capture'], allowed_origins: ['https://a.example/path'] },
      });
      expect(badOrigin.statusCode).toBe(400);
      const past = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(owner.access_token),
        payload: { name: 'x', scopes: ['leads:read'], expires_at: '2000-01-01T00:00:00Z' },
      });
      expect(past.statusCode).toBe(400);
      const keyManager = await createApiKey(t, owner.access_token, ['keys:manage']);
      const escalate = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(keyManager.key),
        payload: { name: 'x', scopes: ['webhooks:manage'] },
      });
      expect(escalate.statusCode).toBe(403);
    });

    it('answers 404 for a malformed or unknown key id', async () => {
      for (const id of ['not-a-uuid', '01900000-0000-7000-8000-000000000000']) {
        const res = await t.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: bearer(owner.access_token) });
        expect(res.statusCode).toBe(404);
      }
    });
  });

  describe('Idempotency-Key on POST', () => {
    it('replays the first response for the same body and answers 422 for another body', async () => {
      const post = (payload: object, key: string) =>
        t.inject({
          method: 'POST',
          url: '/api/v1/api-keys',
          headers: { ...bearer(owner.access_token), 'idempotency-key': key },
          payload,
        });
      const first = await post({ name: 'idem', scopes: ['leads:read', 'analytics:read'] }, 'idem-1');
      expect(first.statusCode).toBe(201);
      // Same body, keys in another order: a replay with the same status and body, minus the secret.
      const again = await post({ scopes: ['leads:read', 'analytics:read'], name: 'idem' }, 'idem-1');
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const { key: _secret, ...rest } = first.json();
      expect(again.json()).toEqual(rest);
      const { rows } = await query("select count(*)::int as n from api_keys where name = 'idem'");
      expect(rows[0].n).toBe(1);

      const other = await post({ name: 'idem', scopes: ['leads:read'] }, 'idem-1');
      expect(other.statusCode).toBe(422);
      expect(other.json().code).toBe('idempotency_key_mismatch');
    });

    it('replays status and body exactly on another route (members), keys are per workspace', async () => {
      const newcomer = await registerUser(t);
      const add = () =>
        t.inject({
          method: 'POST',
          url: '/api/v1/workspaces/current/members',
          headers: { ...bearer(owner.access_token), 'idempotency-key': 'add-newcomer' },
          payload: { email: newcomer.user.email, role: 'member' },
        });
      const first = await add();
      expect(first.statusCode).toBe(201);
      const second = await add(); // without the key this would be a 409 (already a member)
      expect(second.statusCode).toBe(201);
      expect(second.body).toBe(first.body);
      // The same key in another workspace is another key.
      const elsewhere = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { ...bearer(newcomer.access_token), 'idempotency-key': 'add-newcomer' },
        payload: { name: 'other ws', scopes: ['leads:read'] },
      });
      expect(elsewhere.statusCode).toBe(201);
    });

    it('frees the key when the request fails, so a retry runs again', async () => {
      const post = (email: string) =>
        t.inject({
          method: 'POST',
          url: '/api/v1/workspaces/current/members',
          headers: { ...bearer(owner.access_token), 'idempotency-key': 'retry-me' },
          payload: { email, role: 'member' },
        });
      const ghost = uniqueEmail('later');
      expect((await post(ghost)).statusCode).toBe(404);
      await registerUser(t, { email: ghost });
      expect((await post(ghost)).statusCode).toBe(201);
    });

    it('refuses a malformed key with 400', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { ...bearer(owner.access_token), 'idempotency-key': 'x'.repeat(300) },
        payload: { name: 'x', scopes: ['leads:read'] },
      });
      expect(res.statusCode).toBe(400);
    });
  });
});
