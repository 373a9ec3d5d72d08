import { describe, expect, it } from 'vitest';
import { SCOPES } from './auth-context';
import { ALL_ACCESS_SCOPES, ROLE_SCOPES, SECRET_KEY_SCOPES, holdsAll, isAccessScope } from './scopes';

describe('role → scope table', () => {
  it('member: reads plus leads/campaigns writes, nothing administrative', () => {
    expect([...ROLE_SCOPES.member].sort()).toEqual([
      'analytics:read',
      'campaigns:read',
      'campaigns:write',
      'leads:read',
      'leads:write',
    ]);
  });

  it('admin: everything but ownership transfer; owner: everything', () => {
    expect(ALL_ACCESS_SCOPES.filter((s) => !ROLE_SCOPES.admin.has(s))).toEqual(['ownership:transfer']);
    expect(ALL_ACCESS_SCOPES.filter((s) => !ROLE_SCOPES.owner.has(s))).toEqual([]);
  });

  it('secret keys can hold every API scope but leads:capture', () => {
    expect([...SECRET_KEY_SCOPES, 'leads:capture'].sort()).toEqual([...SCOPES].sort());
  });

  it('knows its scopes and checks all of them', () => {
    expect(isAccessScope('leads:read')).toBe(true);
    expect(isAccessScope('leads:delete')).toBe(false);
    expect(holdsAll(new Set(['a', 'b']), ['a', 'b'])).toBe(true);
    expect(holdsAll(new Set(['a']), ['a', 'b'])).toBe(false);
    expect(holdsAll(new Set(), [])).toBe(true);
  });
});
