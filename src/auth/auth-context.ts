import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';

export const SCOPES = [
  'leads:read',
  'leads:write',
  'campaigns:read',
  'campaigns:write',
  'analytics:read',
  /** Create, change, delete and sync analytics connections (admins; keys that hold it). */
  'analytics:manage',
  'webhooks:manage',
  'jobs:manage',
  'keys:manage',
  'leads:capture',
] as const;
/** Scopes an API key can hold (`leads:capture` only on publishable keys). */
export type Scope = (typeof SCOPES)[number];
/** Scopes only a role grants, never an API key: managing people and ownership stays with humans. */
export const ROLE_ONLY_SCOPES = ['members:manage', 'ownership:transfer'] as const;
export type RoleOnlyScope = (typeof ROLE_ONLY_SCOPES)[number];
/** Everything `@Access(...)` may name. */
export type AccessScope = Scope | RoleOnlyScope;
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
  /** For users: the scopes of their role in this workspace; for keys: the key's scopes. */
  scopes: ReadonlySet<AccessScope>;
  /** For keys: 'secret' (sb_sk_…) or 'publishable' (sb_pk_…). */
  keyKind: 'secret' | 'publishable' | null;
  /** For users: the session (refresh-token family) the access token belongs to. */
  sessionId: string | null;
  /** For publishable keys: origins allowed to call the capture route. */
  allowedOrigins: readonly string[];
}

export const AUTH_REQUEST_KEY = 'switchboardAuth';

/** The workspace id of a request that passed the access guard. */
export function asWorkspaceId(id: string): WorkspaceId {
  return id as WorkspaceId;
}

export function authOf(request: unknown): AuthContext | undefined {
  return (request as Record<string, AuthContext | undefined>)[AUTH_REQUEST_KEY];
}

/** Controller parameter: the caller's AuthContext (the route must be guarded by `@Access`). */
export const Auth = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = authOf(ctx.switchToHttp().getRequest());
  if (!auth) throw new DomainError('unauthenticated', 'Authentication required');
  return auth;
});

/** The caller must be a signed-in user (not an API key): for session and membership routes. */
export function requireUser(auth: AuthContext): AuthContext & { kind: 'user'; userId: string; role: Role } {
  if (auth.kind !== 'user' || !auth.userId || !auth.role)
    throw new DomainError('forbidden', 'This endpoint needs a signed-in user, not an API key');
  return auth as AuthContext & { kind: 'user'; userId: string; role: Role };
}
