import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** Query parameters whose values are capabilities (unsubscribe/confirm tokens, publishable keys). */
const SECRET_PARAM = /token|key|secret|signature|password|code|auth/i;

/** The URL as logged: values of credential-like query parameters replaced by `[redacted]`. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_PARAM.test(decodeURIComponentSafe(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Probes polled every few seconds; their lines would drown the log. */
const QUIET_URLS = new Set(['/health/live', '/metrics']);

/**
 * One line per finished request ("request completed"): method, URL, client IP, status, route,
 * duration and the request id. 5xx at error, 4xx at warn, the rest at info. Headers are never
 * logged (credentials live there), nor the values of token-like query parameters. Nothing is
 * built when the level is disabled, which is why this is a Fastify hook and not a per-request
 * child logger.
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
      req: { method: request.method, url: loggableUrl(request.url), ip: request.ip },
      res: { status },
      responseTime: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
}
