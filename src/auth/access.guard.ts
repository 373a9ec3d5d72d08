import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ACCESS_METADATA, type AccessRule } from '../common/decorators/access.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ROOT_LOGGER } from '../observability/root-logger';
import { AUTH_REQUEST_KEY } from './auth-context';
import { Authenticator, presentedCredential, unauthenticated } from './authenticator';
import { originAllowed } from './origins';
import { holdsAll } from './scopes';

export function accessRuleOf(reflector: Reflector, context: ExecutionContext): AccessRule | undefined {
  return reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
}

/**
 * The global guard (APP_GUARD). Fails closed: a route that declares neither `@Access(...)` nor
 * `@Public()` is refused. Otherwise authenticates the credential, puts the AuthContext on the
 * request and checks that it holds every scope the route names.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = accessRuleOf(this.reflector, context);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!rule) {
      this.log.error(
        { route: request.routeOptions?.url, handler: `${context.getClass().name}.${context.getHandler().name}` },
        'route declares no access rule (@Access or @Public); refused',
      );
      throw new DomainError('forbidden', 'This route declares no access rule and is closed');
    }
    if (rule.kind === 'public') return true;

    const credential = presentedCredential(request);
    if (!credential) throw unauthenticated();
    const auth = await this.authenticator.authenticate(credential);
    (request as unknown as Record<string, unknown>)[AUTH_REQUEST_KEY] = auth;

    // A publishable key is used from browsers: when the browser names its origin, it must be
    // listed, and the response then carries the CORS header for that origin.
    if (auth.keyKind === 'publishable') {
      const origin = request.headers.origin;
      if (!originAllowed(auth, origin)) throw new DomainError('forbidden', 'This origin is not allowed for this publishable key');
      if (origin)
        context.switchToHttp().getResponse<FastifyReply>().header('access-control-allow-origin', origin).header('vary', 'Origin');
    }
    if (!holdsAll(auth.scopes, rule.scopes)) {
      throw new DomainError('forbidden', `This action needs the scope(s): ${rule.scopes.join(', ')}`);
    }
    return true;
  }
}
