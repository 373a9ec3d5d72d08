import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';

export const SCOPES = [
  'leads:read',
  'leads:write',
  'campaigns:read',
  'campaigns:write',
  'analytics:read',
  'webhooks:manage',
  'jobs:manage',
  'keys:manage',
  'leads:capture',
] as const;
export type Scope = (typeof SCOPES)[number];
export type Role = 'owner' | 'admin' | 'member';

/** Branded workspace id: repositories take this, so a query cannot be written without a tenant. */
export type WorkspaceId = string & { readonly __brand: 'WorkspaceId' };

/** Who is calling and in which single workspace. Set on the request by the access guard. */
export interface AuthContext {
  kind: 'user' | 'api_key';
  workspaceId: WorkspaceId;
  userId: string | null;
  apiKeyId: string | null;
  role: Role | null;
  scopes: ReadonlySet<Scope>;
  /** For publishable keys: origins allowed to call the capture route. */
  allowedOrigins: readonly string[];
}

export const AUTH_REQUEST_KEY = 'switchboardAuth';

export function authOf(request: unknown): AuthContext | undefined {
  return (request as Record<string, AuthContext | undefined>)[AUTH_REQUEST_KEY];
}

/** Controller parameter: the caller's AuthContext (the route must be guarded by `@Access`). */
export const Auth = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = authOf(ctx.switchToHttp().getRequest());
  if (!auth) throw new DomainError('unauthenticated', 'Authentication required');
  return auth;
});
