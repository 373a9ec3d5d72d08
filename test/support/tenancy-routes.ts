import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegisteredUser } from './auth';
import type { TestApp } from './test-app';

/**
 * The cross-tenant table (reliability row 1). Every resource route that takes an id registers a
 * case here; test/e2e/tenancy.test.ts creates the resource in workspace B, then calls the route
 * with B's id as a user AND as an all-scopes API key of workspace A, and expects 404 both times.
 *
 * To add cases for your module, create `test/support/tenancy-cases/<area>.ts` that calls
 * `registerTenancyCase(...)` at import time; the tenancy test imports every file in that folder.
 */

export interface TenantAuth {
  /** The workspace owner's session. */
  owner: RegisteredUser;
  workspaceId: string;
  /** A secret API key of this workspace holding every secret-key scope. */
  apiKey: string;
}

export type TenancyMethod = 'GET' | 'PATCH' | 'PUT' | 'DELETE' | 'POST';

export interface TenancyCase {
  /** Shown in the test name, e.g. "api key: revoke". */
  name: string;
  method: TenancyMethod;
  /** Full path with `:id` where the foreign id goes, e.g. `/api/v1/api-keys/:id`. */
  path: string;
  /** Creates the resource in the given workspace and returns the id to put in the path. */
  create: (t: TestApp, auth: TenantAuth) => Promise<string>;
  /** A VALID body for PATCH/PUT/POST, so the 404 is not masked by a 400. */
  body?: unknown;
  /**
   * The route refuses every API key (e.g. member management): A's key then gets 403, whatever
   * the id, and only A's user is checked for the 404.
   */
  userOnly?: boolean;
  /** Run after A's attempts, with B's auth: e.g. check the resource is unchanged. */
  verifyUntouched?: (t: TestApp, auth: TenantAuth, id: string) => Promise<unknown>;
}

export const tenancyCases: TenancyCase[] = [];

export function registerTenancyCase(c: TenancyCase): void {
  if (!c.path.includes(':id')) throw new Error(`tenancy case "${c.name}": path must contain :id`);
  if (tenancyCases.some((x) => x.name === c.name)) throw new Error(`tenancy case "${c.name}" registered twice`);
  tenancyCases.push(c);
}

export const TENANCY_CASES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tenancy-cases');

/** Imports every case file in test/support/tenancy-cases/. */
export async function loadTenancyCases(): Promise<TenancyCase[]> {
  const files = fs
    .readdirSync(TENANCY_CASES_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  for (const f of files) await import(path.join(TENANCY_CASES_DIR, f));
  return tenancyCases;
}
