import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../../observability/root-logger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../http/send-problem';

/** One global filter: every error that reaches Nest leaves as problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.log);
  }
}
