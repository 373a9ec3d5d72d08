import { Controller, Get, HttpCode, Module, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Access, Public } from '../../src/common/decorators/access.decorator';
import { DomainError } from '../../src/common/errors/domain-error';
import { ServedByFastify } from '../../src/http/served-by-fastify';
import { startTestApp, type TestApp } from '../support/test-app';

const PROBLEM = /^application\/problem\+json/;

@Controller('__probe/direct')
class DirectProbeController {
  @Public()
  @Post('echo/:name')
  @HttpCode(202)
  @ServedByFastify({ rateLimit: false })
  echo(@Req() request: FastifyRequest) {
    return Promise.resolve({ name: (request.params as { name: string }).name, body: request.body });
  }

  @Public()
  @Post('created')
  @ServedByFastify()
  created() {
    return Promise.resolve({ ok: true });
  }

  @Public()
  @Get('refused')
  @ServedByFastify()
  refused(): Promise<never> {
    return Promise.reject(new DomainError('conflict', 'Already there'));
  }

  @Public()
  @Get('boom')
  @ServedByFastify()
  boom(): Promise<never> {
    return Promise.reject(new Error('secret internal detail: hunter2'));
  }
}

@Module({ controllers: [DirectProbeController] })
class DirectProbeModule {}

@Controller('__probe/direct-guarded')
class GuardedDirectController {
  @Access('leads:read')
  @Get()
  @ServedByFastify()
  read() {
    return Promise.resolve({ leaked: true });
  }
}

@Module({ controllers: [GuardedDirectController] })
class GuardedDirectModule {}

describe('@ServedByFastify routes (pglite)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { extraImports: [DirectProbeModule] });
  });
  afterAll(() => t?.close());

  it('calls the controller method with the Fastify request, with @HttpCode and the platform headers', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/direct/echo/ada',
      headers: { 'x-request-id': 'direct-1' },
      payload: { a: 1 },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ name: 'ada', body: { a: 1 } });
    expect(res.headers['x-request-id']).toBe('direct-1');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(t.logLines.some((l) => l.includes('"request_id":"direct-1"') && l.includes('request completed'))).toBe(true);
  });

  it('answers a POST without @HttpCode with 201, as Nest would', async () => {
    expect((await t.inject({ method: 'POST', url: '/api/v1/__probe/direct/created' })).statusCode).toBe(201);
  });

  it('still parses JSON with the app parser (prototype poisoning refused)', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/__probe/direct/echo/x',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__":{"x":1}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM);
  });

  it('turns a DomainError into problem+json through the app exception filter', async () => {
    const res = await t.inject({ url: '/api/v1/__probe/direct/refused', headers: { 'x-request-id': 'direct-2' } });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.json()).toMatchObject({ status: 409, detail: 'Already there', request_id: 'direct-2' });
  });

  it('answers an unexpected error with a 500 that leaks nothing', async () => {
    const res = await t.inject({ url: '/api/v1/__probe/direct/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).not.toContain('hunter2');
  });
});

describe('@ServedByFastify on a route that is not @Public', () => {
  it('refuses to start: the access guard would not run for it', async () => {
    await expect(startTestApp('pglite', { extraImports: [GuardedDirectModule] })).rejects.toThrow(
      /GuardedDirectController\.read: @ServedByFastify\(\) routes must be @Public\(\)/,
    );
  });
});
