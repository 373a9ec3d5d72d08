import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error';

/** Depth of a parsed JSON value, walked iteratively so a hostile body cannot blow the stack. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/**
 * Replaces Fastify's JSON parser with one that still refuses `__proto__` / `constructor`
 * poisoning (400) and also bounds nesting depth (400), before any handler sees the body.
 */
export function registerJsonParser(app: FastifyInstance, maxDepth: number): void {
  const defaultParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void defaultParser(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (jsonDepth(value, maxDepth) > maxDepth) {
        return done(new DomainError('bad_request', `JSON nesting deeper than ${maxDepth} levels`), undefined);
      }
      done(null, value);
    });
  });
}
