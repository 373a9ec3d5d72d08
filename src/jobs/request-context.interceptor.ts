import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { runWithRequestId } from './job-context';

/**
 * Runs each HTTP handler inside the request's id context (global interceptor), so events and
 * jobs created while serving the request carry its `X-Request-Id`.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ id?: string }>();
    return new Observable((subscriber) => runWithRequestId(request.id, () => next.handle().subscribe(subscriber)));
  }
}
