import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ACCESS_METADATA, type AccessRule } from '../common/decorators/access.decorator';

const SERVED_BY_FASTIFY = 'servedByFastify';

interface DirectTarget {
  controller: abstract new (...args: never[]) => unknown;
  method: string | symbol;
}

type DirectHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Fastify calls this controller method itself, skipping Nest's per-request pipeline (guard,
 * interceptors, pipes, the RxJS plumbing around them): on webhook ingest, the hottest public
 * route, that pipeline cost a third of the requests/s. Only for `@Public()` routes whose method
 * takes `(request: FastifyRequest)` (checked at startup). They keep everything else: every
 * Fastify hook (request id, security headers, rate limit config, logging, metrics, body limit),
 * their OpenAPI entry and access declaration, `@HttpCode`, and errors still become problem+json
 * through Nest's exception filter (Nest installs it as Fastify's error handler).
 *
 * `config` is the route's Fastify config (what `@RouteConfig` would take; use one or the other).
 */
export function ServedByFastify(config: Record<string, unknown> = {}): MethodDecorator {
  return (target, method, descriptor) => {
    const direct: DirectTarget = { controller: target.constructor as DirectTarget['controller'], method };
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, [SERVED_BY_FASTIFY]: direct }, descriptor.value as object);
  };
}

/** Swaps Nest's handler for a direct call on every route marked `@ServedByFastify()`. */
export function registerServedByFastify(fastify: FastifyInstance, app: NestFastifyApplication): void {
  fastify.addHook('onRoute', (route) => {
    const direct = (route.config as Record<string, unknown> | undefined)?.[SERVED_BY_FASTIFY] as DirectTarget | undefined;
    if (!direct) return;
    const name = `${direct.controller.name}.${String(direct.method)}`;
    const fn = (direct.controller.prototype as Record<string | symbol, unknown>)[direct.method] as DirectHandler;
    const rule = Reflect.getMetadata(ACCESS_METADATA, fn) as AccessRule | undefined;
    // Nest's access guard does not run for these routes, so only public ones may skip it.
    if (rule?.kind !== 'public') throw new Error(`${name}: @ServedByFastify() routes must be @Public()`);
    // Nest's default status: 201 for POST, 200 otherwise, unless @HttpCode says.
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, fn) as number | undefined) ?? ([route.method].flat().includes('POST') ? 201 : 200);
    let instance: Record<string | symbol, DirectHandler> | undefined;
    route.handler = function servedByFastify(request, reply) {
      instance ??= app.get<unknown, Record<string | symbol, DirectHandler>>(direct.controller, { strict: false });
      reply.code(status);
      return instance[direct.method](request, reply);
    };
  });
}
