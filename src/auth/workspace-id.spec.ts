import { describe, expect, it } from 'vitest';
import type { WorkspaceId } from './auth-context';
import type { ApiKeysRepository } from './api-keys/api-keys.repository';

/**
 * Compile-time contract (checked by `tsc --noEmit`, which CI runs): a repository cannot be
 * called with a plain string where the tenant goes; only the guard's branded WorkspaceId fits.
 */
function compileTimeChecks(repo: ApiKeysRepository, plain: string, ws: WorkspaceId) {
  // @ts-expect-error a plain string is not a WorkspaceId
  void repo.findActive(plain, 'id');
  // @ts-expect-error the tenant cannot be left out
  void repo.listActive();
  void repo.findActive(ws, 'id');
}

describe('WorkspaceId brand', () => {
  it('is enforced by the compiler (see the @ts-expect-error lines above)', () => {
    expect(typeof compileTimeChecks).toBe('function');
  });
});
