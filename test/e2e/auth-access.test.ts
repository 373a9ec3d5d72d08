import { Controller, Get, Module } from '@nestjs/common';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/access-tokens';
import { RouteAccessInspector } from '../../src/auth/route-access';
import { registeredRoutes } from '../../src/http/create-app';
import { addMember, bearer, createApiKey, registerUser, type RegisteredUser } from '../support/auth';
import { ProbeModule } from '../support/probe.module';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

/** A route that forgot its access declaration: the guard must refuse it. */
@Controller('__undeclared')
class UndeclaredController {
  @Get('ping')
  ping() {
    return { leaked: true };
  }
}
@Module({ controllers: [UndeclaredController] })
class UndeclaredModule {}

describe.each(await dbTargets())('access guard (%s)', (target) => {
  let t: TestApp;
  let owner: RegisteredUser;
  beforeAll(async () => {
    t = await startTestApp(target, { extraImports: [ProbeModule, UndeclaredModule], env: { RATE_LIMIT_MAX: '10000' } });
    owner = await registerUser(t);
  });
  afterAll(() => t?.close());

  it('every registered route declares @Access or @Public (the walker finds the one that does not)', async () => {
    const inspector = t.app.get(RouteAccessInspector);
    const routes = inspector.routes();
    expect(inspector.problems()).toEqual(['GET /__undeclared/ping (UndeclaredController.ping): no @Access(...) or @Public()']);
    // The walker sees every Nest route Fastify registered (same count of /api/v1 + unprefixed routes).
    const fastifyRoutes = (registeredRoutes.get(t.app) ?? []).filter(
      (r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !/^\/(docs|api\/v1\/openapi)/.test(r.url) && r.url !== '*',
    );
    expect(routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS').length).toBe(fastifyRoutes.length);
    // And the one without a declaration is closed, even to a signed-in owner.
    const res = await t.inject({ url: '/api/v1/__undeclared/ping', headers: bearer(owner.access_token) });
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('leaked');
  });

  it('documents every @Access route in the OpenAPI spec with both security schemes', async () => {
    const spec = (await t.inject({ url: '/api/v1/openapi.json' })).json<{
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>;
    }>();
    const wrong: string[] = [];
    for (const r of t.app.get(RouteAccessInspector).routes()) {
      if (r.controller === 'UndeclaredController' || r.path.includes('__probe') || r.method === 'OPTIONS' || r.method === 'HEAD')
        continue;
      const prefixed = /^\/(health|metrics)/.test(r.path) ? r.path : `/api/v1${r.path}`;
      const op = spec.paths[prefixed.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[r.method.toLowerCase()];
      if (!op) {
        wrong.push(`${r.method} ${prefixed}: missing from the spec`);
        continue;
      }
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s)).sort();
      if (r.rule?.kind === 'scopes' && schemes.join() !== 'api_key,bearer')
        wrong.push(`${r.method} ${prefixed}: ${schemes.join()}`);
    }
    expect(wrong).toEqual([]);
  });

  it('401 without credentials, with a malformed header, or with garbage', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, bearer('garbage'), { 'x-api-key': 'sb_sk_nope' }]) {
      const res = await t.inject({ url: '/api/v1/auth/me', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('unauthenticated');
    }
  });

  describe('JWT checks (reliability row 6)', () => {
    const secret = new TextEncoder().encode('test-jwt-secret-0123456789abcdef0123456789abcdef');
    const claims = () => ({ wid: owner.workspace.id, role: 'owner', sid: '01900000-0000-7000-8000-000000000000' });
    const sign = (key: Uint8Array, f: (j: SignJWT) => SignJWT = (j) => j) =>
      f(
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(owner.user.id)
          .setIssuer(JWT_ISSUER)
          .setAudience(JWT_AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('10m'),
      ).sign(key);

    it('accepts a well-formed token (control)', async () => {
      const token = await sign(secret);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(200);
    });

    it('alg: none → 401', async () => {
      const token = new UnsecuredJWT(claims())
        .setSubject(owner.user.id)
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .encode();
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
    });

    it('HS256 signed with another key → 401', async () => {
      const token = await sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
    });

    it('expired → 401', async () => {
      const token = await sign(secret, (j) =>
        j.setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 60),
      );
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
    });

    it('wrong aud or iss → 401', async () => {
      for (const token of [
        await sign(secret, (j) => j.setAudience('other-api')),
        await sign(secret, (j) => j.setIssuer('evil')),
      ]) {
        expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
      }
    });

    it('a token for a workspace the user does not belong to → 401', async () => {
      const other = await registerUser(t);
      const token = await new SignJWT({ ...claims(), wid: other.workspace.id })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(owner.user.id)
        .setIssuer(JWT_ISSUER)
        .setAudience(JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(secret);
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
    });
  });

  describe('API keys (reliability rows 3, 7)', () => {
    it('a read-only key writing → 403; reading → 200', async () => {
      const { key } = await createApiKey(t, owner.access_token, ['leads:read']);
      const write = await t.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: bearer(key),
        payload: { name: 'x', scopes: ['leads:read'] },
      });
      expect(write.statusCode).toBe(403);
      expect(write.json().code).toBe('forbidden');
      const me = await t.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ kind: 'api_key', workspace: { id: owner.workspace.id }, scopes: ['leads:read'] });
    });

    it('unknown, revoked and expired keys get the identical 401 body', async () => {
      const revoked = await createApiKey(t, owner.access_token, ['leads:read']);
      const del = await t.inject({
        method: 'DELETE',
        url: `/api/v1/api-keys/${revoked.id}`,
        headers: bearer(owner.access_token),
      });
      expect(del.statusCode).toBe(204);
      const expiring = await createApiKey(t, owner.access_token, ['leads:read'], {
        expires_at: new Date(Date.now() + 1500).toISOString(),
      });
      expect((await t.inject({ url: '/api/v1/auth/me', headers: bearer(expiring.key) })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      const unknown = `sb_sk_0123456789abcdef_${'A'.repeat(43)}`;
      const wrongSecret = `${revoked.key.slice(0, 'sb_sk_0123456789abcdef_'.length)}${'B'.repeat(43)}`;
      const answers = [];
      for (const key of [unknown, revoked.key, expiring.key, wrongSecret]) {
        const res = await t.inject({ url: '/api/v1/auth/me', headers: { ...bearer(key), 'x-request-id': 'same-id' } });
        answers.push({ status: res.statusCode, body: res.body, ct: res.headers['content-type'] });
      }
      expect(answers[0].status).toBe(401);
      for (const a of answers) expect(a).toEqual(answers[0]);
    });

    it('a publishable key holds only leads:capture and refuses origins it does not list', async () => {
      const pk = await createApiKey(t, owner.access_token, ['leads:capture'], { allowed_origins: ['https://shop.example'] });
      expect(pk.key).toMatch(/^sb_pk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const ok = await t.inject({ url: '/api/v1/auth/me', headers: { ...bearer(pk.key), origin: 'https://shop.example' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe('https://shop.example');
      const bad = await t.inject({ url: '/api/v1/auth/me', headers: { ...bearer(pk.key), origin: 'https://evil.example' } });
      expect(bad.statusCode).toBe(403);
      const list = await t.inject({ url: '/api/v1/api-keys', headers: bearer(pk.key) });
      expect(list.statusCode).toBe(403);
    });
  });

  it('a member doing admin work → 403 (reliability row 3)', async () => {
    const member = await addMember(t, owner, 'member');
    expect(member.workspace).toMatchObject({ id: owner.workspace.id, role: 'member' });
    const key = await t.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: bearer(member.access_token),
      payload: { name: 'x', scopes: ['leads:read'] },
    });
    expect(key.statusCode).toBe(403);
    const members = await t.inject({ url: '/api/v1/workspaces/current/members', headers: bearer(member.access_token) });
    expect(members.statusCode).toBe(403);
    const me = await t.inject({ url: '/api/v1/auth/me', headers: bearer(member.access_token) });
    expect(me.json()).toMatchObject({ role: 'member', workspace: { id: owner.workspace.id } });
  });
});
