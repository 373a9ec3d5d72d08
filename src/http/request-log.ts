import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** Probes polled every few seconds; their lines would drown the log. */
const QUIET_URLS = new Set(['/health/live', '/metrics']);

/**
 * One line per finished request ("request completed"): method, URL, client IP, status, route,
 * duration and the request id. 5xx at error, 4xx at warn, the rest at info. Headers are never
 * logged (credentials live there). Nothing is built when the level is disabled, which is why
 * this is a Fastify hook and not a per-request child logger.
 */
export function logRequest(log: Logger, request: FastifyRequest, reply: FastifyReply): void {
  if (QUIET_URLS.has(request.url)) return;
  const status = reply.statusCode;
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  if (!log.isLevelEnabled(level)) return;
  log[level](
    {
      request_id: request.id,
      route: request.routeOptions.url,
      req: { method: request.method, url: request.url, ip: request.ip },
      res: { status },
      responseTime: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
}
