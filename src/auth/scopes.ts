import { ROLE_ONLY_SCOPES, SCOPES, type AccessScope, type Role, type Scope } from './auth-context';

export { ROLE_ONLY_SCOPES, type AccessScope };
export const ALL_ACCESS_SCOPES: readonly AccessScope[] = [...SCOPES, ...ROLE_ONLY_SCOPES];

/** API-key scopes a secret key may hold (all but `leads:capture`, which is publishable-only). */
export const SECRET_KEY_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== 'leads:capture');
export const PUBLISHABLE_SCOPE: Scope = 'leads:capture';

const MEMBER: readonly AccessScope[] = ['leads:read', 'leads:write', 'campaigns:read', 'campaigns:write', 'analytics:read'];
const ADMIN: readonly AccessScope[] = [
  ...MEMBER,
  'analytics:manage',
  'webhooks:manage',
  'jobs:manage',
  'keys:manage',
  'leads:capture',
  'members:manage',
];
const OWNER: readonly AccessScope[] = [...ADMIN, 'ownership:transfer'];

/**
 * THE role → scope table. Every authorisation decision for a user goes through it:
 * member: read everything plus write leads and campaigns; admin: all but ownership transfer;
 * owner: all.
 */
export const ROLE_SCOPES: Readonly<Record<Role, ReadonlySet<AccessScope>>> = {
  member: new Set(MEMBER),
  admin: new Set(ADMIN),
  owner: new Set(OWNER),
};

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

export function isAccessScope(value: string): value is AccessScope {
  return (ALL_ACCESS_SCOPES as readonly string[]).includes(value);
}

/** Whether `granted` holds every scope in `required`. */
export function holdsAll(granted: ReadonlySet<string>, required: readonly string[]): boolean {
  return required.every((s) => granted.has(s));
}
