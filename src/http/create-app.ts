import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { AppModule, type AppDeps } from '../app.module';
import { DomainError } from '../common/errors/domain-error';
import { registerJsonParser } from '../common/http/json-body';
import { requestIdFor } from '../common/http/request-id';
import { runWithRequestId } from '../jobs/job-context';
import { Lifecycle } from '../observability/lifecycle';
import { MetricsService } from '../observability/metrics';
import { PinoNestLogger } from '../observability/nest-logger';
import { setupOpenApi } from './openapi';
import { logRequest } from './request-log';
import { registerServedByFastify } from './served-by-fastify';
import { securityHeaders } from './security-headers';

export const API_PREFIX = 'api/v1';
/** Routes served outside `/api/v1`. */
export const UNPREFIXED_ROUTES = [
  { path: 'health/live', method: RequestMethod.GET },
  { path: 'health/ready', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
];

export interface RegisteredRoute {
  method: string;
  url: string;
}
/** Every route Fastify registered for an app, for the "every route is documented/guarded" tests. */
export const registeredRoutes = new WeakMap<NestFastifyApplication, RegisteredRoute[]>();

/** Rate-limit bucket: the credential when one is presented (hashed), otherwise the client IP. */
export function rateLimitKey(request: FastifyRequest): string {
  const auth = request.headers.authorization ?? request.headers['x-api-key'];
  const credential = Array.isArray(auth) ? auth[0] : auth;
  if (credential) return `cred:${createHash('sha256').update(credential).digest('base64url').slice(0, 32)}`;
  return `ip:${request.ip}`;
}

/** Builds the HTTP application with every platform convention applied; does not listen. */
export async function createHttpApp(deps: AppDeps): Promise<NestFastifyApplication> {
  const { config, redis } = deps;
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    genReqId: (raw: IncomingMessage) => requestIdFor(raw),
    requestIdHeader: false,
    logger: false,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(deps), adapter, {
    bufferLogs: true,
    bodyParser: false, // our JSON parser (depth + prototype-poisoning checks) is registered below
    abortOnError: false,
  });
  app.useLogger(new PinoNestLogger(deps.logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });

  const fastify = app.getHttpAdapter().getInstance();
  const lifecycle = app.get(Lifecycle);
  const metrics = app.get(MetricsService);

  registerJsonParser(fastify, config.JSON_MAX_DEPTH);
  registerServedByFastify(fastify, app);
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url ?? route.path });
  });
  // Errors raised by Fastify itself (body parser, hooks, rate limit) reach Nest's error handler,
  // which routes them through ProblemDetailsFilter like any other exception.

  const security = securityHeaders();
  // One callback hook for what every request needs (hooks run per request, and a promise per
  // hook showed in the ingest profile). The rest of the request (Nest's middleware, guards,
  // handler) runs inside the request's id context, so events and jobs it creates carry its
  // X-Request-Id.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(security);
    reply.header('x-request-id', request.id);
    (request.raw as { routeUrl?: string }).routeUrl = request.routeOptions.url;
    if (!lifecycle.isShuttingDown) return runWithRequestId(request.id, done);
    reply.header('connection', 'close').header('retry-after', '5');
    done(new DomainError('service_unavailable', 'The server is shutting down; retry shortly'));
  });
  // During shutdown, close each keep-alive connection after its response so the server can stop.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (lifecycle.isShuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    logRequest(deps.logger, request, reply);
    done();
  });

  await app.register(cors, {
    origin: (origin: string | undefined, cb: (err: Error | null, allow: boolean) => void) =>
      cb(null, !!origin && (config.CORS_ORIGINS.includes('*') || config.CORS_ORIGINS.includes(origin))),
    credentials: false,
    exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    maxAge: 600,
  });
  await app.register(rateLimit, {
    global: true,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    keyGenerator: rateLimitKey,
    enableDraftSpec: true,
    // Redis shares the budget across processes; a Redis outage must not take the API down.
    redis: redis ?? undefined,
    nameSpace: `${config.REDIS_KEY_PREFIX}ratelimit:`,
    skipOnError: true,
    allowList: (request: FastifyRequest) =>
      request.url === '/health/live' || request.url === '/health/ready' || request.url === '/metrics',
    onExceeded: () => metrics.rateLimited.inc(),
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string; ttl: number }) =>
      new DomainError('rate_limited', `Rate limit exceeded; retry in ${context.after}`, undefined, {
        'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
      }),
  });

  // Unknown URLs share the same budget: otherwise 404s are a free way to probe for routes.
  // A callback hook, so routes that exist pay no promise for it.
  const limitNotFound = fastify.rateLimit();
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    limitNotFound.call(fastify, request, reply).then(() => done(), done);
  });

  setupOpenApi(app);
  await app.init();
  return app;
}
