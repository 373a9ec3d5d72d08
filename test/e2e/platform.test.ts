import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/create-app';
import { ProbeModule } from '../support/probe.module';
import { dbTargets, startTestApp, type TestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;

describe.each(await dbTargets())('platform HTTP conventions (%s)', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, {
      extraImports: [ProbeModule],
      env: { RATE_LIMIT_MAX: '1000', CORS_ORIGINS: 'https://app.example.com' },
    });
  });
  afterAll(() => t?.close());

  it('serves liveness, readiness, metrics and the OpenAPI document', async () => {
    expect((await t.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await t.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database).toBe('ok');
    const spec = await t.inject({ url: '/api/v1/openapi.json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe('3.1.0');
    expect((await t.inject({ url: '/docs' })).statusCode).toBe(200);
    const metrics = await t.inject({ url: '/metrics' });
    expect(metrics.body).toContain('http_request_duration_seconds');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
  });

  it('answers 404 as problem+json with the request id', async () => {
    const res = await t.inject({ url: '/api/v1/does-not-exist', headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.headers['x-request-id']).toBe('req-abc-123');
    expect(res.json()).toMatchObject({
      status: 404,
      title: 'Not found',
      request_id: 'req-abc-123',
      instance: '/api/v1/does-not-exist',
    });
  });

  it('generates a request id when none (or an unsafe one) is given', async () => {
    const res = await t.inject({ url: '/health/live', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists every invalid and unknown field on a 400', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      payload: { name: '', count: 1.5, workspace_id: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    const body = res.json();
    expect(body.code).toBe('validation_failed');
    const paths = body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['count', 'name', 'workspace_id']);
  });

  it('refuses __proto__ keys and deep nesting with 400, never 500', async () => {
    const proto = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","__proto__":{"x":1}}',
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.headers['content-type']).toMatch(PROBLEM);
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: deep,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/nesting/);
    const broken = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(broken.statusCode).toBe(400);
  });

  it('answers 413 for a body over the limit', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.json().status).toBe(413);
  });

  it('hides 500 details and logs them with the request id', async () => {
    const res = await t.inject({ url: '/api/v1/__probe/boom', headers: { 'x-request-id': 'boom-1' } });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toMatch(/at .*\.ts/);
    expect(res.json()).toMatchObject({ status: 500, request_id: 'boom-1' });
    const logged = t.logLines.find((l) => l.includes('boom-1') && l.includes('unhandled error'));
    expect(logged).toBeDefined();
  });

  it('logs one line per request with its id, route, status and duration, at warn for a 4xx', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/echo',
      headers: { 'x-request-id': 'log-line-1', 'content-type': 'application/json' },
      payload: '{"broken": ',
    });
    expect(res.statusCode).toBe(400);
    const line = t.logLines.find((l) => l.includes('"request_id":"log-line-1"') && l.includes('request completed'));
    expect(line).toBeDefined();
    const parsed = JSON.parse(line!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'warn', route: '/api/v1/__probe/echo', req: { method: 'POST' }, res: { status: 400 } });
    expect(typeof parsed.responseTime).toBe('number');
  });

  it('clamps limit to the maximum page size', async () => {
    expect((await t.inject({ url: '/api/v1/__probe/page' })).json()).toEqual({ limit: 200 });
  });

  it('redacts credentials from logs', async () => {
    await t.inject({
      url: '/api/v1/__probe/boom',
      headers: { authorization: 'Bearer sb_sk_leakme_topsecret', 'x-api-key': 'sb_sk_other_leak', cookie: 'sid=leakcookie' },
    });
    const all = t.logLines.join('\n');
    expect(all).not.toContain('topsecret');
    expect(all).not.toContain('leakcookie');
    expect(all).not.toContain('sb_sk_other_leak');
  });

  it('allows CORS only for configured origins', async () => {
    const preflight = (origin: string) =>
      t.inject({ method: 'OPTIONS', url: '/api/v1/__probe/echo', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('https://app.example.com')).headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect((await preflight('https://evil.example.net')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sets security headers', async () => {
    const res = await t.inject({ url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('documents every registered route in the OpenAPI spec', async () => {
    const spec = (await t.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const ignored = /^\/(docs|api\/v1\/openapi\.(json|yaml))/;
    const missing: string[] = [];
    for (const route of registeredRoutes.get(t.app) ?? []) {
      if (
        route.method === 'HEAD' ||
        route.method === 'OPTIONS' ||
        ignored.test(route.url) ||
        route.url.includes('__probe') ||
        route.url === '*'
      )
        continue;
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/$/, '');
      if (!spec.paths[path]?.[route.method.toLowerCase()]) missing.push(`${route.method} ${route.url}`);
    }
    expect(missing).toEqual([]);
    expect((registeredRoutes.get(t.app) ?? []).length).toBeGreaterThan(3);
  });
});

describe.each(await dbTargets())('rate limiting (%s)', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(target, { extraImports: [ProbeModule], env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  afterAll(() => t?.close());

  it('answers 429 problem+json with Retry-After and RateLimit headers, per credential', async () => {
    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await t.inject({ url: '/api/v1/__probe/page' }));
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    const last = responses[3];
    expect(last.headers['content-type']).toMatch(PROBLEM);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.headers['ratelimit-limit']).toBe('3');
    expect(last.json().status).toBe(429);
    // A different credential has its own bucket.
    const other = await t.inject({ url: '/api/v1/__probe/page', headers: { authorization: 'Bearer some-key' } });
    expect(other.statusCode).toBe(200);
  });

  it('rate-limits unknown URLs too (no free probing for routes)', async () => {
    const headers = { authorization: 'Bearer probe-404' };
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await t.inject({ url: `/api/v1/no-such-route-${i}`, headers })).statusCode);
    expect(codes).toEqual([404, 404, 404, 429]);
  });

  it('ignores a spoofed X-Forwarded-For when the proxy is not trusted', async () => {
    const res = await t.inject({ url: '/api/v1/__probe/page', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.statusCode).toBe(429);
  });
});
