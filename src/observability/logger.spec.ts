import { describe, expect, it } from 'vitest';
import { createLogger, redactSecretFields } from './logger';

describe('redactSecretFields', () => {
  it('blanks secret-named fields at the top level and two levels down', () => {
    const input = { password: 'p', user: { token: 't', profile: { api_key: 'k', name: 'n' } }, list: [{ secret: 's' }] };
    expect(redactSecretFields(input)).toEqual({
      password: '[redacted]',
      user: { token: '[redacted]', profile: { api_key: '[redacted]', name: 'n' } },
      list: [{ secret: '[redacted]' }],
    });
  });

  it('leaves the caller objects alone and returns them unchanged when nothing is secret', () => {
    const inner = { token: 't' };
    const input = { a: inner, b: { c: 1 } };
    const out = redactSecretFields(input) as typeof input;
    expect(inner.token).toBe('t');
    expect(out.b).toBe(input.b);
    const clean = { a: { b: 1 }, when: new Date(0) };
    expect(redactSecretFields(clean)).toBe(clean);
  });

  it('keeps an Error an Error, with its message and stack', () => {
    const err = Object.assign(new Error('boom'), { authorization: 'Bearer x' });
    const out = redactSecretFields({ err }) as { err: Error & { authorization: string } };
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err.message).toBe('boom');
    expect(out.err.stack).toBe(err.stack);
    expect(out.err.authorization).toBe('[redacted]');
    expect(err.authorization).toBe('Bearer x');
  });
});

describe('createLogger', () => {
  it('writes no credential from headers or secret-named fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    log.child({ request_id: 'r1' }).info(
      {
        req: { headers: { authorization: 'Bearer sb_sk_a_leak1', cookie: 'sid=leak2', 'x-api-key': 'leak3' } },
        body: { password: 'leak4', nested: { refresh_token: 'leak5' } },
        err: Object.assign(new Error('failed'), { client_secret: 'leak6' }),
      },
      'request',
    );
    const out = lines.join('');
    for (const leak of ['leak1', 'leak2', 'leak3', 'leak4', 'leak5', 'leak6']) expect(out).not.toContain(leak);
    expect(out).toContain('"request_id":"r1"');
    expect(out).toContain('failed');
  });
});
