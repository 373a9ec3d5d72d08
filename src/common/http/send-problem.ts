import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem';

/** Writes a problem+json response; unexpected errors are logged with their request id. */
export function sendProblem(err: unknown, request: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  const problem = toProblem(err, request.id, request.url.split('?')[0]);
  if (problem.unexpected) {
    log.error({ err, request_id: request.id, route: request.routeOptions.url }, 'unhandled error');
  }
  if (reply.sent) return reply;
  return reply
    .status(problem.status)
    .headers(problem.headers)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.body));
}
