import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Raw request bodies for the webhook ingest routes only.
 *
 * Signatures cover the exact bytes, so these routes must not go through the app's JSON parser
 * (which also caps nesting depth and rejects `__proto__`: right for the API, wrong for a
 * provider's payload we merely have to verify). Fastify picks a parser by content type per
 * instance, and Nest registers every route on the root instance; so a route opts in with
 * `@RouteConfig({ rawBody: true })`, and an `onRequest` hook re-labels the request's content
 * type for those routes only to a private type whose parser hands over the Buffer untouched.
 * The original content type is kept on the request (`originalContentType`). Every other route
 * keeps the app's parsers; the body limit (BODY_LIMIT_BYTES → 413) still applies.
 */
export const RAW_BODY_CONTENT_TYPE = 'application/x-switchboard-raw-webhook';

export interface RawBodyRequest extends FastifyRequest {
  originalContentType?: string;
}

export function wantsRawBody(request: FastifyRequest): boolean {
  return (request.routeOptions?.config as { rawBody?: boolean } | undefined)?.rawBody === true;
}

const registered = new WeakSet<FastifyInstance>();

export function registerRawBodyRoutes(fastify: FastifyInstance): void {
  if (registered.has(fastify)) return;
  registered.add(fastify);
  fastify.addContentTypeParser(RAW_BODY_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  fastify.addHook('onRequest', (request: RawBodyRequest, _reply, done) => {
    if (wantsRawBody(request)) {
      const ct = request.headers['content-type'];
      request.originalContentType = Array.isArray(ct) ? ct[0] : ct;
      request.headers['content-type'] = RAW_BODY_CONTENT_TYPE;
    }
    done();
  });
}

export function rawBodyOf(request: FastifyRequest): Buffer {
  const body = request.body;
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  // Only reachable if the route was not flagged rawBody: a programming error, never trust it.
  throw new Error('webhook route without @RouteConfig({ rawBody: true })');
}
